"""Face gallery files: enrolment by append, removal (data zeroed at once), compaction, torn
appends, and the fast index returning exactly what exact search returns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from leds.biometrics.gallery import FaceGallery, GalleryError, IndexParams
from leds.synth import biometrics as synth

SMALL = IndexParams(train_at=2_000, train_sample=5_000, shortlist=1_500, rerank=100)


def population(n: int, seed: int = 1, captures: int = 2) -> npt.NDArray[np.float32]:
    """``n`` templates from the generative model: ``captures`` per person."""
    rows = [synth.capture(seed, i // captures, i % captures, 35 + (i * 7) % 65) for i in range(n)]
    return np.stack(rows)


def fresh_probes(n: int, seed: int = 1, persons: int = 1_000) -> npt.NDArray[np.float32]:
    return np.stack([synth.capture(seed, (i * 37) % persons, 99, 60) for i in range(n)])


def test_append_search_and_reopen(tmp_path: Path) -> None:
    g = FaceGallery(tmp_path / "g")
    x = population(200)
    assert g.append(x[:150]) == range(0, 150)
    assert g.append(x[150:]) == range(150, 200)
    hits = g.search(x[17], 3)
    assert hits[0].slot == 17
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[1].slot == 16  # the same person's other capture
    again = FaceGallery(tmp_path / "g", create=False)
    assert again.count == 200
    assert again.search(x[17], 3) == hits
    np.testing.assert_array_equal(again.template(5), x[5])


def test_bad_requests_are_refused(tmp_path: Path) -> None:
    g = FaceGallery(tmp_path / "g")
    g.append(population(10))
    with pytest.raises(GalleryError, match="128 values"):
        g.append(np.ones((2, 64), dtype=np.float32))
    with pytest.raises(GalleryError, match="zero or not finite"):
        g.append(np.zeros(128, dtype=np.float32))
    with pytest.raises(GalleryError, match="zero or not finite"):
        g.search(np.full(128, np.nan), 5)
    with pytest.raises(GalleryError, match="k must be"):
        g.search(population(1)[0], 0)
    with pytest.raises(GalleryError, match="slot 10 does not exist"):
        g.remove([10])
    with pytest.raises(GalleryError, match="no face gallery"):
        FaceGallery(tmp_path / "missing", create=False)
    with pytest.raises(GalleryError, match="128-d templates, not 64-d"):
        FaceGallery(tmp_path / "g", dim=64)


def test_removal_zeroes_the_template_and_hides_the_slot(tmp_path: Path) -> None:
    g = FaceGallery(tmp_path / "g")
    x = population(50)
    g.append(x)
    assert g.remove([7, 7, 8]) == 2
    assert g.remove([7]) == 0
    assert g.is_removed(7)
    assert g.live_count == 48
    assert all(h.slot not in (7, 8) for h in g.search(x[7], 48))
    raw = (tmp_path / "g" / "templates.f32").read_bytes()
    assert raw[7 * 512 : 9 * 512] == bytes(1024)
    assert x[7].tobytes() not in raw
    with pytest.raises(GalleryError, match="removed"):
        g.template(7)
    assert FaceGallery(tmp_path / "g").is_removed(8)


def test_a_torn_append_is_cut_off_on_open(tmp_path: Path) -> None:
    g = FaceGallery(tmp_path / "g")
    x = population(20)
    g.append(x)
    with (tmp_path / "g" / "templates.f32").open("ab") as fh:
        fh.write(b"\x01" * 700)  # a crash after writing part of the next append
    again = FaceGallery(tmp_path / "g")
    assert again.count == 20
    assert (tmp_path / "g" / "templates.f32").stat().st_size == 20 * 512
    assert again.append(x[:1]) == range(20, 21)


def test_compaction_renumbers_and_drops_removed(tmp_path: Path) -> None:
    g = FaceGallery(tmp_path / "g")
    x = population(30)
    g.append(x)
    g.remove([0, 10, 29])
    mapping = g.compact()
    assert g.count == 27
    assert g.live_count == 27
    assert mapping[0] == -1
    assert mapping[1] == 0
    assert mapping[11] == 9
    np.testing.assert_array_equal(g.template(int(mapping[11])), x[11])
    assert x[10].tobytes() not in (tmp_path / "g" / "templates.f32").read_bytes()


def test_fast_index_matches_exact_search(tmp_path: Path) -> None:
    g = FaceGallery(tmp_path / "g", params=SMALL)
    x = population(3_000)
    g.append(x[:1_000])
    assert not g.trained
    g.append(x[1_000:2_500])  # crosses train_at: trained once
    assert g.trained
    model = (tmp_path / "g" / "pq.faiss").read_bytes()
    trained_on = g.meta.trained_on
    g.append(x[2_500:])  # enrolment after training: encode only, no retraining
    assert (tmp_path / "g" / "pq.faiss").read_bytes() == model
    assert g.meta.trained_on == trained_on
    assert g.index_bytes()["codes8"] == 3_000 * 128
    g.remove(range(0, 3_000, 50))
    probes = fresh_probes(60)
    for q in probes:
        fast, exact = g.search(q, 20), g.search_exact(q, 20)
        assert [h.slot for h in fast] == [h.slot for h in exact]
        assert [h.score for h in fast] == pytest.approx([h.score for h in exact], abs=1e-6)
    reopened = FaceGallery(tmp_path / "g", params=SMALL)
    assert reopened.trained
    assert reopened.search(probes[0], 20) == g.search(probes[0], 20)


def test_compaction_of_a_trained_gallery_keeps_it_exact(tmp_path: Path) -> None:
    g = FaceGallery(tmp_path / "g", params=SMALL)
    g.append(population(2_500, seed=2))
    g.remove(range(0, 2_500, 3))
    g.compact()
    assert g.trained
    assert g.count == 2_500 - len(range(0, 2_500, 3))
    for q in fresh_probes(20, seed=2):
        assert [h.slot for h in g.search(q, 20)] == [h.slot for h in g.search_exact(q, 20)]


def test_exact_search_equals_faiss_flat(tmp_path: Path) -> None:
    import faiss

    g = FaceGallery(tmp_path / "g")
    x = population(500)
    g.append(x)
    flat = faiss.IndexFlatIP(128)
    flat.add(x)
    q = fresh_probes(5)
    scores, ids = flat.search(q, 10)
    for j in range(5):
        hits = g.search_exact(q[j], 10)
        assert [h.slot for h in hits] == [int(i) for i in ids[j]]
        assert [h.score for h in hits] == pytest.approx(scores[j].tolist(), abs=1e-5)


def test_a_short_shortlist_grows_until_nothing_can_be_missed(tmp_path: Path) -> None:
    tight = IndexParams(
        train_at=2_000, train_sample=5_000, shortlist=40, max_shortlist=3_000, rerank=100
    )
    g = FaceGallery(tmp_path / "g", params=tight)
    g.append(population(3_000, seed=3))
    grown = 0
    for q in fresh_probes(20, seed=3):
        fast = g.search(q, 20)
        grown += g.last_shortlist > tight.shortlist
        assert [h.slot for h in fast] == [h.slot for h in g.search_exact(q, 20)]
    assert grown > 0
