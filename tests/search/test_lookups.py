"""Identifier lookup, vehicle, property and free-text search on the indexed world (both backends).

Subjects are picked from the store by SQL, so the tests follow whatever the generator makes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from searchworld import SearchWorld
from sqlalchemy import text

from leds.errors import InvalidIdentifier
from leds.search.errors import BadQuery
from leds.search.identifiers import lookup_identifier
from leds.search.keys import fold
from leds.search.property import PropertyQuery, search_property
from leds.search.text import TextQuery, search_text
from leds.search.vehicles import VehicleQuery, search_vehicles


def _one(world: SearchWorld, sql: str) -> Any:
    with world.store.engine.connect() as conn:
        row = conn.execute(text(sql)).first()
    assert row is not None, sql
    return row


# ---- identifiers ------------------------------------------------------------------------------


def test_pnc_id_in_long_and_display_form_finds_the_person(search_world: SearchWorld) -> None:
    rid, pnc_id = _one(
        search_world, "SELECT id, pnc_id FROM records WHERE source='pnc' AND kind='person'"
    )
    display = pnc_id[2:]  # 1976/0000277G -> 76/0000277G
    with search_world.store.engine.connect() as conn:
        for value in (pnc_id, display.lower(), " " + display.replace("/000", "/") + " "):
            found = lookup_identifier(conn, value)
            assert ("pnc_id", pnc_id) in found.kinds
            assert rid in found.record_ids
            assert found.person_ids[rid].startswith("L")


def test_a_wrong_check_letter_gets_did_you_mean(search_world: SearchWorld) -> None:
    (pnc_id,) = _one(
        search_world, "SELECT pnc_id FROM records WHERE source='pnc' AND kind='person' LIMIT 1"
    )
    wrong = pnc_id[:-1] + ("A" if pnc_id[-1] != "A" else "B")
    with search_world.store.engine.connect() as conn, pytest.raises(InvalidIdentifier) as exc:
        lookup_identifier(conn, wrong)
    assert exc.value.suggestion == pnc_id
    assert "did you mean" in str(exc.value)


@pytest.mark.parametrize(
    ("kind", "sql"),
    [
        ("cro", "SELECT id, cro FROM records WHERE kind='person' AND cro IS NOT NULL"),
        ("nino", "SELECT id, nino FROM records WHERE kind='person' AND nino IS NOT NULL"),
        (
            "driver_number",
            "SELECT id, driver_number FROM records WHERE source='dvla' AND kind='person'",
        ),
        ("passport", "SELECT id, passport FROM records WHERE source='iabs' AND kind='person'"),
        (
            "immigration_ref",
            "SELECT id, immigration_ref FROM records WHERE source='iabs' AND kind='person'",
        ),
    ],
)
def test_every_identifier_kind_finds_its_record(
    search_world: SearchWorld, kind: str, sql: str
) -> None:
    rid, value = _one(search_world, sql)
    with search_world.store.engine.connect() as conn:
        found = lookup_identifier(conn, value.lower(), kind)
    assert found.kinds == [(kind, value)]
    assert rid in found.record_ids


def test_an_unknown_identifier_kind_is_refused(search_world: SearchWorld) -> None:
    with search_world.store.engine.connect() as conn, pytest.raises(BadQuery, match="kind"):
        lookup_identifier(conn, "X", "shoe_size")


# ---- vehicles ---------------------------------------------------------------------------------


def _vehicle(world: SearchWorld) -> tuple[int, dict[str, Any]]:
    rid, payload = _one(
        world,
        "SELECT id, payload FROM records WHERE source='dvla' AND kind='vehicle' "
        "AND source_record_id LIKE '_______' AND source_record_id IN (SELECT subject_id FROM "
        "records WHERE source='dvla' AND kind='keeper') ORDER BY id LIMIT 1 OFFSET 3",
    )
    return int(rid), json.loads(payload)


def test_full_partial_and_confusable_plates_find_the_vehicle(search_world: SearchWorld) -> None:
    rid, v = _vehicle(search_world)
    vrm = v["VRM"]
    confusable = vrm.translate(str.maketrans("O0I1S5B8Z2", "0O1I5S8B2Z"))
    patterns = [
        vrm,
        vrm.lower(),
        confusable,
        vrm[:2] + "?" + vrm[3:],
        vrm[:3] + "*",
        "*" + vrm[2:5] + "*",
        vrm[0] + "*" + vrm[-2:],
    ]
    with search_world.store.engine.connect() as conn:
        for pattern in patterns:
            found = search_vehicles(conn, VehicleQuery(vrm=pattern, limit=50))
            hit = next((h for h in found.hits if h.vrm == vrm), None)
            assert hit is not None, pattern
            assert rid in hit.record_ids
            for other in found.hits:  # every hit matches the pattern, folded
                assert len(fold(other.vrm)) >= len(fold(pattern.replace("*", "")))
        exact = search_vehicles(conn, VehicleQuery(vrm=vrm))
        assert exact.hits[0].vrm == vrm
        assert exact.hits[0].exact
        assert exact.hits[0].make == v["MAKE"]


def test_attributes_and_keeper_postcode_narrow_the_search(search_world: SearchWorld) -> None:
    _rid, v = _vehicle(search_world)
    (keeper,) = _one(
        search_world,
        f"SELECT payload FROM records WHERE source='dvla' AND kind='keeper' "
        f"AND subject_id='{v['VRM']}'",
    )
    postcode = json.loads(keeper)["KEEPER_POSTCODE"]
    with search_world.store.engine.connect() as conn:
        by_attrs = search_vehicles(
            conn, VehicleQuery(make=v["MAKE"].lower(), colour=v["COLOUR"], limit=500)
        )
        assert v["VRM"] in {h.vrm for h in by_attrs.hits}
        assert all(h.make == v["MAKE"] and h.colour == v["COLOUR"] for h in by_attrs.hits)
        both = search_vehicles(conn, VehicleQuery(vrm=v["VRM"][:2] + "*", model=v["MODEL"]))
        assert all(h.model == v["MODEL"] for h in both.hits)
        assert v["VRM"] in {h.vrm for h in both.hits}
        wrong = "BLACK" if v["COLOUR"] != "BLACK" else "WHITE"
        assert search_vehicles(conn, VehicleQuery(vrm=v["VRM"], colour=wrong)).total == 0
        by_keeper = search_vehicles(conn, VehicleQuery(keeper_postcode=postcode))
        assert v["VRM"] in {h.vrm for h in by_keeper.hits}
        sector = postcode[:-2]
        assert v["VRM"] in {
            h.vrm
            for h in search_vehicles(conn, VehicleQuery(keeper_postcode=sector, limit=500)).hits
        }
        by_vin = search_vehicles(conn, VehicleQuery(vin=v["VIN"]))
        assert [h.vrm for h in by_vin.hits] == [v["VRM"]]


def test_marked_vehicles_come_first(search_world: SearchWorld) -> None:
    vrm, interest = _one(
        search_world,
        "SELECT subject_id, json_extract(payload, '$.interest') FROM records "
        "WHERE source='pnc' AND kind='vehicle'"
        if search_world.backend == "sqlite"
        else "SELECT subject_id, payload::json->>'interest' FROM records "
        "WHERE source='pnc' AND kind='vehicle'",
    )
    with search_world.store.engine.connect() as conn:
        marked = search_vehicles(conn, VehicleQuery(marker=interest, limit=100))
        assert vrm in {h.vrm for h in marked.hits}
        assert all(interest in h.markers for h in marked.hits)
        around = search_vehicles(conn, VehicleQuery(vrm=vrm[:2] + "*", limit=200))
        first_clean = next((i for i, h in enumerate(around.hits) if not h.markers), None)
        if first_clean is not None:
            assert all(not h.markers for h in around.hits[first_clean:])
        assert any(h.vrm == vrm and interest in h.markers for h in around.hits)


def test_vague_vehicle_searches_are_refused(search_world: SearchWorld) -> None:
    with search_world.store.engine.connect() as conn:
        with pytest.raises(BadQuery, match="needs"):
            search_vehicles(conn, VehicleQuery())
        with pytest.raises(BadQuery, match="known characters"):
            search_vehicles(conn, VehicleQuery(vrm="A*"))
        with pytest.raises(BadQuery, match="marker"):
            search_vehicles(conn, VehicleQuery(marker="pink"))


# ---- property ---------------------------------------------------------------------------------


def test_property_by_serial_exact_partial_and_wildcard(search_world: SearchWorld) -> None:
    rid, payload, pnc_id = _one(
        search_world,
        "SELECT id, payload, subject_id FROM records WHERE kind='property' AND subject_id IN "
        "(SELECT source_record_id FROM records WHERE source='pnc' AND kind='person')",
    )
    p = json.loads(payload)
    serial = p["serial"]
    with search_world.store.engine.connect() as conn:
        for query in (
            PropertyQuery(serial=serial),
            PropertyQuery(serial=serial[3:7], partial=True, limit=100),
            PropertyQuery(serial=serial[:4] + "*", limit=100),
        ):
            found = search_property(conn, query)
            hit = next(h for h in found.hits if h.record.id == rid)
            assert hit.person is not None
            assert hit.person.source_record_id == pnc_id
            assert hit.person_id is not None
        filtered = search_property(
            conn, PropertyQuery(category=p["category"], status=p["status"], limit=500)
        )
        assert rid in filtered.record_ids
        assert all(
            h.record.payload["category"] == p["category"]
            and h.record.payload["status"] == p["status"]
            for h in filtered.hits
        )
        assert search_property(conn, PropertyQuery(serial=serial + "X")).total == 0
        with pytest.raises(BadQuery):
            search_property(conn, PropertyQuery(status="borrowed"))


# ---- free text --------------------------------------------------------------------------------


def test_free_text_with_phrases_prefixes_and_filters(search_world: SearchWorld) -> None:
    with search_world.store.engine.connect() as conn:
        knife = search_text(conn, TextQuery("knife", limit=500))
        assert knife.total > 0
        assert all("knife" in h.record.payload["text"].lower() for h in knife.hits)
        prefix = search_text(conn, TextQuery("knif*", limit=500))
        assert set(knife.record_ids) <= set(prefix.record_ids)
        handled = search_text(conn, TextQuery("knife", handling="c", limit=500))
        assert all(h.record.payload["grading"]["handling"] == "C" for h in handled.hits)
        graded = search_text(conn, TextQuery("knife", intel_grade="B", source_grade="2"))
        for h in graded.hits:
            assert h.record.payload["grading"]["intelligence"] == "B"
            assert h.record.payload["grading"]["source"] == "2"
        nothing = search_text(conn, TextQuery("zzzyqxw"))
        assert nothing.total == 0
        assert nothing.hits == []
        with pytest.raises(BadQuery):
            search_text(conn, TextQuery("knife", handling="X"))


def test_free_text_phrase_and_exclusion(search_world: SearchWorld) -> None:
    (body,) = _one(search_world, "SELECT body FROM search_text WHERE body LIKE '%town centre%'")
    place = body.split(" when in ")[1].split(" town centre")[0] if " when in " in body else None
    with search_world.store.engine.connect() as conn:
        phrase = search_text(conn, TextQuery('"town centre"', limit=500))
        assert phrase.total > 0
        assert all("town centre" in h.record.payload["text"].lower() for h in phrase.hits)
        if place and " " not in place:
            without = search_text(conn, TextQuery(f'"town centre" -{place}', limit=500))
            assert all(place.lower() not in h.record.payload["text"].lower() for h in without.hits)
            assert without.total < phrase.total


def test_vehicle_sources_restrict_the_records(search_world: SearchWorld) -> None:
    vrm = _one(
        search_world, "SELECT subject_id FROM records WHERE source='pnc' AND kind='vehicle'"
    )[0]
    with search_world.store.engine.connect() as conn:
        dvla_only = search_vehicles(conn, VehicleQuery(vrm=vrm, sources=frozenset({"dvla"})))
    assert all(r.source == "dvla" for h in dvla_only.hits for r in h.records)
    assert all(not h.markers for h in dvla_only.hits)
