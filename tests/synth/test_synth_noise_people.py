"""Noise rates, name diversity, membership and workforce relations."""

from __future__ import annotations

import csv
import random
from collections import Counter
from pathlib import Path

from synth_readers import csv_rows, iabs_batches, pnd_objects, truth

from leds.synth import WorldManifest
from leds.synth.noise import NOISE, TRANSLITERATIONS, noisy_dob, noisy_name, typo
from leds.synth.population import build_part

World = tuple[Path, WorldManifest]


def test_noise_rates_roughly_as_configured(world: World) -> None:
    _, manifest = world
    for source, counters in manifest.noise.items():
        prof = NOISE[source]
        records = counters["records"]
        assert records > 100
        typo_rate = counters.get("typo", 0) / records
        assert abs(typo_rate - prof.typo) <= max(0.6 * prof.typo, 3.0 / records**0.5), source
        if prof.duplicate >= 0.01:
            assert counters.get("duplicate", 0) > 0, source
    pnd = manifest.noise["pnd"]
    assert pnd.get("dob_missing", 0) > 0
    assert pnd.get("dob_partial", 0) > 0
    assert manifest.noise["pnc"].get("stale_address", 0) > 0


def test_noise_functions() -> None:
    rnd = random.Random(0)
    prof = NOISE["pnd"]
    seen: Counter[str] = Counter()
    out = {noisy_name(rnd, prof, "Khan", "Mohammed Ali", seen)[1].split()[0] for _ in range(300)}
    assert out & set(TRANSLITERATIONS["Mohammed"])
    assert typo(rnd, "Smith") != "Smith" or typo(rnd, "Smith") != "Smith"
    dobs = [
        noisy_dob(rnd, prof, __import__("datetime").date(1990, 3, 4), seen) for _ in range(2000)
    ]
    assert None in dobs
    assert (1990, 4, 3) in dobs
    assert (1990, 3, None) in dobs


def test_sources_have_their_own_conventions(world: World) -> None:
    root, _ = world
    drivers = list(csv_rows(root, "drivers"))
    assert all(r["SURNAME"] == r["SURNAME"].upper() for r in drivers)
    assert all(len(r["DRIVER_NUMBER"]) == 16 for r in drivers)
    mrz = [s["mrz_name"] for b in iabs_batches(root) for s in b["subjects"]]
    assert mrz
    assert all("<<" in m and m == m.upper() for m in mrz)
    pnc_ids = [o["pnc_id"] for o in pnd_objects(root) if o["type"] == "nominal" and o["pnc_id"]]
    assert pnc_ids
    assert all(len(p.split("/")[0]) == 2 for p in pnc_ids)


def test_duplicates_inside_a_source(world: World) -> None:
    root, _ = world
    t = truth(root)
    for source in ("pnc", "pnd", "iabs"):
        per_person = Counter(pid for (s, k, _), pid in t.items() if s == source and k == "person")
        assert max(per_person.values()) >= 2, source


def test_population_diversity_and_membership() -> None:
    part = build_part(1, 0, 2000, 21, 2000)
    origins = Counter(p.name_origin for p in part.persons)
    assert 0.7 < origins["GB"] / 2000 < 0.86
    assert len(origins) >= 10
    assert all(any((m.pnc, m.pnd, m.dvla, m.iabs)) for m in part.members)
    pnc = sum(m.pnc for m in part.members) / 2000
    assert 0.35 < pnc < 0.6
    foreign = [m for p, m in zip(part.persons, part.members, strict=True) if p.nationality != "GBR"]
    assert foreign
    assert sum(m.iabs for m in foreign) / len(foreign) > 0.6
    assert any(len(v.keepers) > 1 for v in part.vehicles)
    assert any(r.associates for p in part.persons for r in p.intel)
    assert all(10 <= (2025 - p.dob.year) <= 91 for p in part.persons)


def test_workforce_relations(world: World) -> None:
    root, _ = world
    t = truth(root)
    persons = set(t.values())
    with (root / "workforce" / "workforce.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 30
    assert {"constable", "investigator"} <= {r["role"] for r in rows}
    related = [r for r in rows if r["related_person_id"]]
    assert related
    assert all(r["related_person_id"] in persons for r in related)
    assert all(r["relation"] in ("relative", "neighbour", "same-surname") for r in related)


def test_identifiers_at_block_boundaries_are_valid() -> None:
    from leds.model.identifiers import is_valid
    from leds.synth import idgen

    for idx in (0, idgen.CRO_BLOCK - 1, idgen.CRO_BLOCK, 2 * idgen.CRO_BLOCK - 1):
        cro = idgen.cro_number(idx, 1900)
        assert cro is None or is_valid("cro", cro), (idx, cro)
    for idx in (0, idgen.PNC_BLOCK - 1, idgen.PNC_BLOCK, 2 * idgen.PNC_BLOCK - 1):
        pnc = idgen.pnc_id(idx, 1985, 1960, idgen.pnc_blocks(3 * idgen.PNC_BLOCK))
        assert is_valid("pnc_id", pnc), (idx, pnc)
