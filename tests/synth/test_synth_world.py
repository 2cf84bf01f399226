"""Structure, determinism, truth and identifier validity of generated worlds."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import date
from pathlib import Path

from synth_readers import (
    PNC_KINDS,
    csv_rows,
    iabs_batches,
    pnc_lines,
    pnc_record_id,
    pnd_objects,
    truth,
)

from leds.model.codes import ETHNICITY_CODES, MARKER_TYPES, PROPERTY_CATEGORIES
from leds.model.identifiers import is_valid
from leds.synth import WorldManifest, generate_world
from leds.synth.writers_more import DRIVER_COLUMNS, KEEPER_COLUMNS, VEHICLE_COLUMNS

World = tuple[Path, WorldManifest]


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    a = generate_world(tmp_path / "a", 300, 3, part_size=150, workers=1)
    b = generate_world(tmp_path / "b", 300, 3, part_size=150, workers=1)
    assert a == b
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    c = generate_world(tmp_path / "c", 300, 4, part_size=150, workers=1)
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")
    assert c.created != a.created


def test_pool_matches_in_process(tmp_path: Path) -> None:
    generate_world(tmp_path / "one", 240, 9, part_size=80, workers=1)
    seen: list[int] = []
    generate_world(tmp_path / "two", 240, 9, part_size=80, workers=2, progress=seen.append)
    assert _digest(tmp_path / "one") == _digest(tmp_path / "two")
    assert sorted(seen) == [80, 80, 80]


def test_parts_have_headers_trailers_and_end_records(world: World) -> None:
    root, manifest = world
    assert manifest.parts == 3
    for part in (1, 2, 3):
        lines = (root / "pnc" / f"pnc-{part:05d}.txt").read_text(encoding="utf-8").splitlines()
        head = lines[0].split("|")
        assert head[:3] == ["H", "PNC", "1"]
        assert head[4] == str(part)
        assert lines[-1] == f"T|{len(lines) - 2}"
        pnd = (root / "pnd" / f"pnd-{part:05d}.jsonl").read_text(encoding="utf-8").splitlines()
        assert json.loads(pnd[-1]) == {"type": "end", "records": len(pnd) - 1}
        batch = json.loads((root / "iabs" / f"batch-{part:05d}.json").read_text("utf-8"))
        assert batch["schema"] == "iabs-export/1"
        assert batch["batch"] == part
        assert batch["count"] == {
            "subjects": len(batch["subjects"]),
            "encounters": len(batch["encounters"]),
        }
        for stem, cols in (
            ("drivers", DRIVER_COLUMNS),
            ("vehicles", VEHICLE_COLUMNS),
            ("keepers", KEEPER_COLUMNS),
        ):
            with (root / "dvla" / f"{stem}-{part:05d}.csv").open(encoding="utf-8") as fh:
                assert tuple(next(csv.reader(fh))) == cols
        header = (root / "truth" / f"truth-{part:05d}.csv").read_text("utf-8").splitlines()[0]
        assert header == "source,kind,source_record_id,person_id"
    manifest_json = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    assert manifest_json["persons"] == 1500
    assert manifest_json["seed"] == 11


def _person_records(root: Path) -> list[tuple[str, str, str]]:
    keys: list[tuple[str, str, str]] = []
    for f in pnc_lines(root):
        rid, subject = pnc_record_id(f)
        if subject is not None:
            keys.append(("pnc", PNC_KINDS[f[0]], rid))
    for o in pnd_objects(root):
        kind = {"nominal": "person"}.get(o["type"], o["type"])
        rid = (
            o.get("nominal_id")
            if kind == "person"
            else o.get(f"{o['type']}_id", o.get("report_id"))
        )
        keys.append(("pnd", kind, str(rid)))
    keys += [("dvla", "person", r["DRIVER_NUMBER"]) for r in csv_rows(root, "drivers")]
    for b in iabs_batches(root):
        keys += [("iabs", "person", s["person_ref"]) for s in b["subjects"]]
        for e in b["encounters"]:
            keys.append(("iabs", "encounter", e["encounter_id"]))
            keys += [("iabs", "biometric", s["sample_ref"]) for s in e["samples"]]
    return keys


def test_truth_covers_every_person_record(world: World) -> None:
    root, _manifest = world
    t = truth(root)
    keys = _person_records(root)
    assert len(keys) == len(set(keys)), "record ids must be unique across parts"
    missing = [k for k in keys if k not in t]
    assert not missing
    persons = set(t.values())
    assert len(persons) == 1500, "every person is in at least one source"
    assert all(pid.startswith("P") and len(pid) == 10 for pid in persons)


def test_identifiers_valid_without_injection(world: World) -> None:
    root, manifest = world
    assert manifest.invalid == {}
    for f in pnc_lines(root):
        if f[0] == "NOM":
            assert is_valid("pnc_id", f[1]), f
            assert not f[2] or is_valid("cro", f[2]), f
            assert not f[13] or is_valid("nino", f[13]), f
            assert not f[8] or f[8] in ETHNICITY_CODES
            assert f[5] in ("M", "F", "U")
        elif f[0] == "ADR":
            assert is_valid("postcode", f[5]), f
        elif f[0] == "VOI":
            assert is_valid("vrm", f[1]), f
        elif f[0] == "MKR":
            assert f[3] in MARKER_TYPES
        elif f[0] == "PRP":
            assert f[3] in PROPERTY_CATEGORIES
        elif f[0] in ("ALI", "ARR"):
            assert is_valid("pnc_id", f[1]), f
    for o in pnd_objects(root):
        if o["type"] == "nominal" and o["pnc_id"]:
            assert is_valid("pnc_id", o["pnc_id"])
            assert len(o["pnc_id"]) == 11
        if o["type"] == "nominal":
            assert all(is_valid("postcode", a["postcode"]) for a in o["addresses"])
    for r in csv_rows(root, "drivers"):
        assert is_valid("driver_number", r["DRIVER_NUMBER"]), r
        assert is_valid("postcode", r["POSTCODE"]), r
        assert r["SURNAME"] == r["SURNAME"].upper()
        date(int(r["DATE_OF_BIRTH"][:4]), int(r["DATE_OF_BIRTH"][4:6]), int(r["DATE_OF_BIRTH"][6:]))
    for r in csv_rows(root, "vehicles"):
        assert is_valid("vrm", r["VRM"]), r
        assert " " not in r["VRM"], r
        assert len(r["VIN"]) == 17
        assert not set("IOQ") & set(r["VIN"])
    for r in csv_rows(root, "keepers"):
        assert is_valid("vrm", r["VRM"])
        assert is_valid("postcode", r["KEEPER_POSTCODE"])
    for b in iabs_batches(root):
        for s in b["subjects"]:
            assert "<<" in s["mrz_name"]
            assert s["mrz_name"].replace("<", "").isalpha()
            assert all(is_valid("passport", p) for p in s["passports"])
        for e in b["encounters"]:
            assert is_valid("passport", e["passport_number"])


def _invalid_rows(root: Path) -> dict[str, int]:
    """Rows a parser must reject (the generator's injection kinds), per source."""

    def bad_date(y: str, m: str, d: str) -> bool:
        if m == "00" or d == "00":
            return False
        try:
            date(int(y), int(m), int(d))
        except ValueError:
            return True
        return False

    bad = {"pnc": 0, "pnd": 0, "dvla": 0, "iabs": 0}
    for f in pnc_lines(root):
        if (
            (f[0] == "NOM" and f[6] and bad_date(f[6][4:], f[6][2:4], f[6][:2]))
            or (f[0] == "ADR" and not is_valid("postcode", f[5]))
            or (f[0] in ("ALI", "MKR") and not is_valid("pnc_id", f[1]))
        ):
            bad["pnc"] += 1
    for o in pnd_objects(root):
        d = o.get("date_of_birth") or ""
        if o["type"] == "nominal" and len(d) == 10 and bad_date(d[:4], d[5:7], d[8:]):
            bad["pnd"] += 1
        a = o.get("arrived", "")
        if o["type"] == "custody" and bad_date(a[:4], a[5:7], a[8:10]):
            bad["pnd"] += 1
    for r in csv_rows(root, "drivers"):
        d = r["DATE_OF_BIRTH"]
        bad["dvla"] += bad_date(d[:4], d[4:6], d[6:]) or not is_valid("postcode", r["POSTCODE"])
    for r in csv_rows(root, "vehicles"):
        d = r["DATE_FIRST_REG"]
        bad["dvla"] += bad_date(d[:4], d[4:6], d[6:])
    for r in csv_rows(root, "keepers"):
        d = r["START_DATE"]
        bad["dvla"] += bad_date(d[:4], d[4:6], d[6:])
    for b in iabs_batches(root):
        for s in b["subjects"]:
            d = s["date_of_birth"] or ""
            bad["iabs"] += "X" not in d and bool(d) and bad_date(d[6:], d[3:5], d[:2])
    return {k: v for k, v in bad.items() if v}


def test_injected_invalid_rows_are_counted(dirty_world: World) -> None:
    root, manifest = dirty_world
    assert (
        set(manifest.invalid) == {"pnc", "pnd", "dvla", "iabs"}
        or sum(manifest.invalid.values()) > 20
    )
    assert _invalid_rows(root) == manifest.invalid


def test_manifest_counts_match_files(world: World) -> None:
    root, manifest = world
    assert manifest.counts["dvla"]["person"] == sum(1 for _ in csv_rows(root, "drivers"))
    assert manifest.counts["pnc"]["person"] == sum(1 for f in pnc_lines(root) if f[0] == "NOM")
    assert sum(manifest.counts["iabs"].values()) > 0
    assert manifest.workforce == 30
