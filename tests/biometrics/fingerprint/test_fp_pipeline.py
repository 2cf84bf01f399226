"""Fingerprint pipeline: generators, extraction errors, ISO templates, Bozorth3, gallery."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from leds.biometrics.fingerprint import minutiae_synth, synth
from leds.biometrics.fingerprint.errors import (
    BadTemplate,
    GalleryError,
    LowQuality,
    UnreadableImage,
)
from leds.biometrics.fingerprint.extract import Template, extract, match
from leds.biometrics.fingerprint.gallery import FORMAT, KEY_DTYPE, FingerprintGallery
from leds.errors import LedsError


def _png(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


def test_generators_are_deterministic() -> None:
    a = synth.impression_image(5, 3, 1, 0.3)
    synth.master_ridges.cache_clear()
    assert np.array_equal(a, synth.impression_image(5, 3, 1, 0.3))
    assert not np.array_equal(a, synth.impression_image(5, 3, 2, 0.3))
    assert a.shape == (384, 320)
    assert a.dtype == np.uint8
    m1 = minutiae_synth.impression_minutiae(5, 3, 1)
    assert m1.to_iso() == minutiae_synth.impression_minutiae(5, 3, 1).to_iso()
    assert m1.to_iso() != minutiae_synth.impression_minutiae(5, 3, 2).to_iso()
    assert m1.to_iso() != minutiae_synth.impression_minutiae(6, 3, 1).to_iso()


def test_image_pipeline_mated_above_non_mated() -> None:
    fingers = (0, 1, 2)
    t = {
        (f, i): extract(synth.impression_image(11, f, i, 0.15), with_quality=False)
        for f in fingers
        for i in (0, 1)
    }
    mated = [match(t[f, 0], t[f, 1]) for f in fingers]
    non = [match(t[f, 0], t[g, 1]) for f in fingers for g in fingers if f != g]
    assert min(mated) > 40 > max(non), (mated, non)


def test_minutiae_level_mated_above_non_mated() -> None:
    g = [minutiae_synth.impression_minutiae(4, f, 0, 0.1) for f in range(4)]
    p = [minutiae_synth.impression_minutiae(4, f, 1, 0.1) for f in range(4)]
    for f in range(4):
        scores = [match(p[f], x) for x in g]
        assert int(np.argmax(scores)) == f, scores


def test_extract_quality_and_iso_round_trip() -> None:
    img = synth.impression_image(11, 0, 0, 0.1)
    t = extract(_png(img), finger_position=2)
    assert 20 <= t.quality <= 100
    assert t.n >= 12
    back = Template.from_iso(t.to_iso())
    assert back.finger_position == 2
    assert back.n == t.n
    assert (back.width, back.height) == (320, 384)
    assert np.abs(back.minutiae[:, :2] - t.minutiae[:, :2]).max() <= 0.5
    assert back.to_iso() == t.to_iso()
    assert match(back, t) > 100  # the stored record still matches its source


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"this is not a picture" * 10, "not an image"),
        (_png(np.full((60, 60), 128, np.uint8)), "pixels"),
    ],
)
def test_unreadable_images(data: bytes, words: str) -> None:
    with pytest.raises(UnreadableImage, match=words):
        extract(data)


def test_low_quality_is_refused_with_figures() -> None:
    with pytest.raises(LowQuality, match="blank") as blank:
        extract(_png(np.full((300, 300), 200, np.uint8)))
    assert isinstance(blank.value, LedsError)
    smudge = (np.random.default_rng(1).random((300, 300)) * 40 + 100).astype(np.uint8)
    with pytest.raises(LowQuality, match="failure to enrol") as exc:
        extract(_png(smudge))  # contrast but no ridges: no minutiae
    assert exc.value.minutiae < 12


def test_bad_iso_records() -> None:
    rec = minutiae_synth.impression_minutiae(1, 1, 1).to_iso()
    with pytest.raises(BadTemplate, match="not an ISO"):
        Template.from_iso(b"XXXX" + rec[4:])
    with pytest.raises(BadTemplate, match="truncated"):
        Template.from_iso(rec[:-7])


def test_gallery_shortlist_removal_rebuild(tmp_path: Path) -> None:
    n = 60
    gal = FingerprintGallery(tmp_path / "fp")
    slots = gal.enrol(minutiae_synth.impression_minutiae(9, f, 0, 0.1) for f in range(n))
    assert slots == list(range(n))
    assert len(gal) == n
    probes = {f: minutiae_synth.impression_minutiae(9, f, 1, 0.1) for f in (3, 17, 42)}
    for rebuilt in (False, True):  # unsorted tail scan, then the sorted index
        if rebuilt:
            gal.rebuild()
        for f, probe in probes.items():
            votes = gal.prefilter(probe)
            assert int((votes > votes[f]).sum()) < 10  # the mate is in the shortlist
            best = gal.search(probe, candidates=5, shortlist=10)
            assert best[0].slot == f, best
            assert best[0].score > 15, best  # MCC LSS-R x 100 (non-mated below about 6)
    assert gal.remove([17]) == 1
    assert gal.active == n - 1
    assert 17 not in [c.slot for c in gal.search(probes[17], shortlist=10)]
    gal.rebuild()
    reopened = FingerprintGallery(tmp_path / "fp", create=False)
    assert reopened.removed(17)
    assert 17 not in [c.slot for c in reopened.search(probes[17])]
    (new,) = reopened.enrol([minutiae_synth.impression_minutiae(9, 500, 0, 0.1)])
    hit = reopened.search(minutiae_synth.impression_minutiae(9, 500, 1, 0.1), shortlist=10)
    assert hit[0].slot == new == n
    with pytest.raises(LedsError, match="no fingerprint gallery"):
        FingerprintGallery(tmp_path / "nothing", create=False)


def test_gallery_of_an_older_layout_is_refused_then_reindexed(tmp_path: Path) -> None:
    path = tmp_path / "fp"
    gal = FingerprintGallery(path)
    gal.enrol(minutiae_synth.impression_minutiae(9, f, 0, 0.1) for f in range(30))
    gal.rebuild()
    # make it look like a layout-1 gallery: 32 keys of 14 bits a cylinder (144-byte rows)
    meta = json.loads((path / "meta.json").read_text())
    assert meta["format"] == FORMAT != "leds-fingerprint-gallery/1"
    meta["format"] = "leds-fingerprint-gallery/1"
    meta["mcc"].update(H=14, L=32)
    (path / "meta.json").write_text(json.dumps(meta))
    rows = (path / "keys.bin").stat().st_size // KEY_DTYPE.itemsize
    (path / "keys.bin").write_bytes(bytes(rows * 144))
    with pytest.raises(GalleryError, match="another layout") as err:
        FingerprintGallery(path, create=False)
    assert err.value.hint is not None
    assert "reindex=True" in err.value.hint
    upgraded = FingerprintGallery(path, create=False, reindex=True)
    assert json.loads((path / "meta.json").read_text())["format"] == FORMAT
    probe = minutiae_synth.impression_minutiae(9, 12, 1, 0.1)
    assert upgraded.search(probe, shortlist=10)[0].slot == 12
    assert FingerprintGallery(path, create=False).search(probe, shortlist=10)[0].slot == 12
    (path / "meta.json").write_text(json.dumps({"format": "something-else/1"}))
    with pytest.raises(GalleryError, match="not a"):
        FingerprintGallery(path, create=False, reindex=True)


def test_a_layout_2_gallery_gains_its_matching_cylinders_and_keeps_its_keys(
    tmp_path: Path,
) -> None:
    path = tmp_path / "fp"
    gal = FingerprintGallery(path)
    gal.enrol(minutiae_synth.impression_minutiae(9, f, 0, 0.1) for f in range(30))
    gal.rebuild()
    # as layout 2 left it: no matching cylinders, the same LSH keys and parameters
    meta = json.loads((path / "meta.json").read_text())
    meta["format"] = "leds-fingerprint-gallery/2"
    del meta["match"], meta["search"]
    (path / "meta.json").write_text(json.dumps(meta))
    (path / "mcc.bin").unlink()
    (path / "mcc-index.bin").unlink()
    keys = (path / "keys.bin").read_bytes()
    with pytest.raises(GalleryError, match="another layout") as err:
        FingerprintGallery(path, create=False)
    assert "reindex=True" in (err.value.hint or "")
    upgraded = FingerprintGallery(path, create=False, reindex=True)
    assert (path / "keys.bin").read_bytes() == keys  # only the cylinders were computed
    assert json.loads((path / "meta.json").read_text())["format"] == FORMAT
    probe = minutiae_synth.impression_minutiae(9, 12, 1, 0.1)
    best = upgraded.search(probe, shortlist=10)
    assert best[0].slot == 12
    assert best[0].score > 15


def test_a_gallery_missing_cylinders_for_some_slots_says_how_to_mend_it(tmp_path: Path) -> None:
    path = tmp_path / "fp"
    gal = FingerprintGallery(path)
    gal.enrol(minutiae_synth.impression_minutiae(9, f, 0, 0.1) for f in range(12))
    gal.rebuild()
    index = path / "mcc-index.bin"
    index.write_bytes(index.read_bytes()[:-12])  # the last slot's row lost
    with pytest.raises(GalleryError, match="lacks matching cylinders") as err:
        gal.search(minutiae_synth.impression_minutiae(9, 3, 1, 0.1))
    assert "--reindex" in (err.value.hint or "")
    gal.reindex(keys=False)  # what the hint's command runs (the LSH keys are kept)
    assert gal.search(minutiae_synth.impression_minutiae(9, 3, 1, 0.1))[0].slot == 3
    # an enrol after an interrupted one (rows past the last slot) does not shift the slots
    index.write_bytes(index.read_bytes() + bytes(12 * 3))
    (new,) = gal.enrol([minutiae_synth.impression_minutiae(9, 77, 0, 0.1)])
    assert index.stat().st_size == 13 * 12
    assert gal.search(minutiae_synth.impression_minutiae(9, 77, 1, 0.1))[0].slot == new


def test_removal_erases_the_template_and_its_cylinders(tmp_path: Path) -> None:
    path = tmp_path / "fp"
    gal = FingerprintGallery(path)
    prints = [minutiae_synth.impression_minutiae(9, f, 0, 0.1) for f in range(20)]
    gal.enrol(prints)
    gal.rebuild()
    record = prints[6].to_iso()
    assert record in (path / "templates.dat").read_bytes()
    index = np.fromfile(path / "mcc-index.bin", dtype=[("start", "<u8"), ("count", "<u4")])
    start, count = int(index[6]["start"]), int(index[6]["count"])
    assert gal.remove([6]) == 1
    assert record not in (path / "templates.dat").read_bytes()
    cyl = (path / "mcc.bin").read_bytes()[start * 72 : (start + count) * 72]
    assert count > 0
    assert cyl == bytes(count * 72)
    with pytest.raises(GalleryError, match="removed"):
        gal.template(6)
    probe = minutiae_synth.impression_minutiae(9, 6, 1, 0.1)
    assert 6 not in [c.slot for c in gal.search(probe)]
    # a reindex skips the erased slot; the others are found as before
    gal.reindex()
    assert 6 not in [c.slot for c in gal.search(probe)]
    assert gal.search(minutiae_synth.impression_minutiae(9, 7, 1, 0.1))[0].slot == 7
