"""Consolidated person and vehicle views on the linked world (both backends)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from searchworld import SearchWorld
from sqlalchemy import text

from leds.errors import NotFound
from leds.search.views import person_view, vehicle_view


def _rows(world: SearchWorld, sql: str) -> list[Any]:
    with world.store.engine.connect() as conn:
        return list(conn.execute(text(sql)))


def _person_with(world: SearchWorld, predicate: Any) -> str:
    by_person: dict[str, list[int]] = {}
    for rid, truth in world.truth.items():
        by_person.setdefault(truth, []).append(rid)
    for truth, ids in sorted(by_person.items()):
        marks = ",".join(str(i) for i in ids)
        rows = _rows(world, f"SELECT * FROM records WHERE id IN ({marks})")
        if predicate(rows):
            return world.person_of_truth[truth]
    pytest.skip("no such person in this world")


def test_person_view_consolidates_every_source(search_world: SearchWorld) -> None:
    pid = _person_with(search_world, lambda rows: {r.source for r in rows} >= {"pnc", "dvla"})
    with search_world.store.engine.connect() as conn:
        view = person_view(conn, pid)
    assert view.person_id == pid
    sources = {r.source for r in view.nominals}
    assert {"pnc", "dvla"} <= sources
    # best name: the name most nominal records give
    names = Counter((n.person.get("forenames"), n.person.get("surname")) for n in view.nominals)
    top = names.most_common(1)[0][1]
    assert any(view.best_name == f"{f} {s}" for (f, s), n in names.items() if n == top), (
        view.best_name
    )
    assert view.identifiers["pnc_id"]
    assert view.identifiers["driver_number"]
    # every contributing record carries provenance; events and addresses come with records
    assert all(r.file and r.line > 0 and r.import_id for r in view.records)
    assert set(view.record_ids) >= {n.id for n in view.nominals}
    kinds = {r.kind for r in view.records}
    assert "address" in kinds or view.addresses
    assert all(
        e.kind in ("arrest", "charge", "disposal", "custody", "encounter") for e in view.events
    )
    dates = [str(e.payload.get("date") or e.payload.get("arrived") or "") for e in view.events]
    assert dates == sorted(dates) or len({e.kind for e in view.events}) > 1


def test_person_view_flags_a_dob_conflict(search_world: SearchWorld) -> None:
    pid = _person_with(search_world, lambda rows: len({r.dob for r in rows if r.dob}) > 1)
    with search_world.store.engine.connect() as conn:
        view = person_view(conn, pid)
    conflict = next(c for c in view.conflicts if c.field == "dob")
    assert len(conflict.values) > 1
    assert sorted(i for ids in conflict.values.values() for i in ids) == sorted(
        n.id for n in view.nominals if n.person.get("dob")
    )
    assert len(view.dobs) == len(conflict.values)


def test_person_view_lists_markers_warnings_first_and_aliases(search_world: SearchWorld) -> None:
    pid = _person_with(
        search_world,
        lambda rows: any(
            r.source == "pnc"
            and _rows(
                search_world,
                f"SELECT 1 FROM records WHERE source='pnc' AND kind='marker' "
                f"AND subject_id='{r.source_record_id}'",
            )
            for r in rows
        ),
    )
    with search_world.store.engine.connect() as conn:
        view = person_view(conn, pid)
    assert view.markers
    types = [m.payload["marker_type"] for m in view.markers]
    from leds.search.persons import MARKER_ORDER

    order = [MARKER_ORDER.index(t) if t in MARKER_ORDER else 99 for t in types]
    assert order == sorted(order)


def test_person_view_has_the_persons_vehicles(search_world: SearchWorld) -> None:
    keepers = _rows(
        search_world,
        "SELECT p.id, k.subject_id, k.payload FROM records p JOIN records k ON k.source='dvla' "
        "AND k.kind='keeper' AND k.payload LIKE '%' || p.source_record_id || '%' "
        "WHERE p.source='dvla' AND p.kind='person' ORDER BY p.id LIMIT 1",
    )[0]
    with search_world.store.engine.connect() as conn:
        view = person_view(conn, f"R{keepers.id}")
        assert keepers.subject_id in {v["vrm"] for v in view.vehicles}
        by_id = person_view(conn, keepers.id)
    assert by_id.key == view.key


def test_vehicle_view_has_keeper_history_people_and_markers(search_world: SearchWorld) -> None:
    vrm = _rows(
        search_world,
        "SELECT subject_id FROM records WHERE source='dvla' AND kind='keeper' "
        "GROUP BY subject_id ORDER BY count(*) DESC, subject_id LIMIT 1",
    )[0][0]
    with search_world.store.engine.connect() as conn:
        view = vehicle_view(conn, vrm.lower())
    assert view.vrm == vrm
    assert view.vehicle is not None
    assert view.vehicle.payload["VRM"] == vrm
    starts = [k["from"] for k in view.keepers]
    assert starts == sorted(starts, reverse=True)
    assert all(k["role"] in ("keeper", "former keeper") for k in view.keepers)
    linked = [k for k in view.keepers if k["person_record_id"]]
    assert linked
    assert all(k["person_id"] for k in linked)
    assert set(view.person_ids) == {k["person_id"] for k in linked}
    marked = _rows(
        search_world,
        "SELECT subject_id, payload FROM records WHERE source='pnc' AND kind='vehicle'",
    )[0]
    with search_world.store.engine.connect() as conn:
        mview = vehicle_view(conn, marked.subject_id)
    assert json.loads(marked.payload)["interest"] in [m.payload["interest"] for m in mview.markers]


def test_views_of_unknown_things_say_not_found(search_world: SearchWorld) -> None:
    with search_world.store.engine.connect() as conn:
        with pytest.raises(NotFound):
            person_view(conn, "L9999999999")
        with pytest.raises(NotFound):
            vehicle_view(conn, "ZZ99ZZZ")
