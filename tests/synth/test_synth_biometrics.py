"""Face template model: mated vs non-mated distance medians as documented, file layout."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np

from leds.biometrics.fingerprint.extract import Template
from leds.synth import WorldManifest, biometrics


def test_distance_medians_as_documented() -> None:
    rnd = random.Random(1)
    mated, caps = [], []
    for i in range(1000):
        ident = biometrics.identity(7, i)
        a = biometrics.capture(7, i, 1, rnd.randint(35, 99), ident)
        b = biometrics.capture(7, i, 2, rnd.randint(35, 99), ident)
        mated.append(float(np.linalg.norm(a - b)))
        caps.append(a)
    arr = np.array(caps)
    non = np.linalg.norm(arr - np.roll(arr, 1, axis=0), axis=1)
    assert 0.42 <= np.median(mated) <= 0.48
    assert np.percentile(mated, 5) >= 0.30
    assert np.percentile(mated, 95) <= 0.65
    assert 0.77 <= np.median(non) <= 0.83
    assert np.percentile(non, 5) > np.percentile(mated, 95) - 0.05


def test_templates_are_deterministic_unit_vectors() -> None:
    a = biometrics.template_for(3, 42, "CI000000672", 80)
    assert a == biometrics.template_for(3, 42, "CI000000672", 80)
    v = biometrics.unpack(a)
    assert v.shape == (1, 128)
    assert abs(float(np.linalg.norm(v[0])) - 1.0) < 1e-5


def test_iabs_template_files_locate_face_samples(world: tuple[Path, WorldManifest]) -> None:
    root, _ = world
    faces = fingerprints = 0
    for batch_path in sorted((root / "iabs").glob("batch-*.json")):
        batch = json.loads(batch_path.read_text(encoding="utf-8"))
        blob = (
            root / "iabs" / batch_path.name.replace("batch", "templates").replace(".json", ".bin")
        ).read_bytes()
        ends = 0
        for e in batch["encounters"]:
            for s in e["samples"]:
                if s["modality"] == "fingerprint":
                    fingerprints += 1
                    assert s["file"] == batch_path.name.replace("batch", "fingerprints").replace(
                        ".json", ".fmr"
                    )
                    fmr = (root / "iabs" / s["file"]).read_bytes()
                    record = fmr[s["offset"] : s["offset"] + s["length"]]
                    t = Template.from_iso(record)  # a valid ISO/IEC 19794-2 record
                    assert t.finger_position == 2
                    assert t.n > 0
                    continue
                faces += 1
                assert s["length"] == 512
                assert s["file"].startswith("templates-")
                v = biometrics.unpack(blob[s["offset"] : s["offset"] + s["length"]])
                assert abs(float(np.linalg.norm(v)) - 1.0) < 1e-5
                ends = max(ends, s["offset"] + s["length"])
        assert ends == len(blob)
    assert faces > 0
    assert fingerprints > 0


def test_pnd_custody_images_carry_their_templates(world: tuple[Path, WorldManifest]) -> None:
    """Each custody image names its template in ``pnd/images-NNNNN.bin``; the template is the
    documented model's capture (``template_for``) of the custody record's person."""
    import csv

    root, _ = world
    truth: dict[str, str] = {}
    for part in sorted((root / "truth").glob("truth-*.csv")):
        with part.open(newline="") as fh:
            truth.update((r["source_record_id"], r["person_id"]) for r in csv.DictReader(fh)
                         if r["source"] == "pnd" and r["kind"] == "custody")  # fmt: skip
    seed = json.loads((root / "manifest.json").read_text())["seed"]
    images = 0
    for jsonl in sorted((root / "pnd").glob("pnd-*.jsonl")):
        blob = root / "pnd" / jsonl.name.replace("pnd-", "images-").replace(".jsonl", ".bin")
        data = blob.read_bytes()
        for line in jsonl.read_text(encoding="utf-8").splitlines():
            o = json.loads(line)
            if o["type"] != "custody" or o["image"] is None:
                continue
            img = o["image"]
            images += 1
            assert img["file"] == blob.name
            assert img["length"] == biometrics.TEMPLATE_BYTES
            got = data[img["offset"] : img["offset"] + img["length"]]
            person_index = int(truth[o["custody_id"]][1:]) - 1
            assert got == biometrics.template_for(seed, person_index, img["ref"], img["quality"])
    assert images > 10
