"""Index maintenance on a fresh store per backend: incremental indexing after an import, removal
before an erasure (the nominal, an alias, a keeper), and a rebuild that gives the same keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from actors import STEWARD
from leds.governance.identity import PurposeStatement
from leds.search.index import build_indexes, index_import, index_records, unindex_record
from leds.search.persons import PersonQuery, search_persons
from leds.search.vehicles import VehicleQuery, search_vehicles
from leds.service import Service
from leds.store import Store
from leds.store.tables_search import search_keys, search_person_keys, search_person_rows

ADMIN = PurposeStatement.of("admin-process", "loading the synthetic search test world")


def _counts(store: Store) -> tuple[int, ...]:
    with store.engine.connect() as conn:
        return tuple(
            int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in (search_keys, search_person_keys, search_person_rows)
        )


def _all_ids(store: Store) -> list[int]:
    with store.engine.connect() as conn:
        return [int(r[0]) for r in conn.execute(text("SELECT id FROM records ORDER BY id"))]


def _one(store: Store, sql: str) -> Any:
    with store.engine.connect() as conn:
        return conn.execute(text(sql)).first()


def test_incremental_indexing_removal_and_rebuild(
    store: Store, service: Service, world_dir: Path
) -> None:
    service.import_source(STEWARD, ADMIN, "pnc", world_dir / "pnc")
    first = _all_ids(store)
    with store.transaction() as conn:
        stats = index_records(conn, first)
    assert stats.units["person"] > 0
    assert stats.records_read == len(first)
    dvla = service.import_source(STEWARD, ADMIN, "dvla", world_dir / "dvla").value
    new = sorted(set(_all_ids(store)) - set(first))
    with store.transaction() as conn:
        stats = index_import(conn, dvla.import_id)
        again = index_records(conn, new)  # idempotent
    assert stats.records_read == len(new)
    unchanged = service.import_source(STEWARD, ADMIN, "pnc", world_dir / "pnc").value
    with store.transaction() as conn:
        assert index_import(conn, unchanged.import_id).records_read == 0
    assert stats.units["vehicle"] > 0
    assert again.keys_written == stats.keys_written
    incremental = _counts(store)
    with store.transaction() as conn:
        progress: list[int] = []
        build_indexes(conn, progress=progress.append, chunk=500)
    assert _counts(store) == incremental  # a rebuild gives exactly the incremental keys
    assert sum(progress) > 0

    # erase an alias: its name no longer finds the person, the nominal still does
    alias = _one(
        store,
        "SELECT a.id, a.payload, p.surname, p.dob FROM records a JOIN records p ON "
        "p.source='pnc' AND p.kind='person' AND p.source_record_id = a.subject_id "
        "WHERE a.kind='alias' AND a.payload NOT LIKE '%' || p.surname || '%' ORDER BY a.id",
    )
    body = json.loads(alias.payload)
    query = PersonQuery(surname=body["surname"], forenames=body["forenames"], mode="exact")
    with store.transaction() as conn:
        assert alias.id in {i for h in search_persons(conn, query).hits for i in h.record_ids}
        unindex_record(conn, alias.id)
        store.erase_record(conn, alias.id)
        after = search_persons(conn, query)
        assert alias.id not in {i for h in after.hits for i in h.record_ids}

    # erase a nominal: nothing of it is left in any index
    person = _one(store, "SELECT id, surname FROM records WHERE kind='person' ORDER BY id")
    with store.transaction() as conn:
        unindex_record(conn, person.id)
        store.erase_record(conn, person.id)
        for table in (search_keys, search_person_keys, search_person_rows):
            left = conn.execute(
                select(func.count()).select_from(table).where(table.c.record_id == person.id)
            ).scalar_one()
            assert left == 0
        hits = search_persons(conn, PersonQuery(surname=person.surname, limit=100)).hits
        assert person.id not in {i for h in hits for i in h.record_ids}

    # erase a keeper: the vehicle no longer answers to that keeper's postcode
    keeper = _one(
        store,
        "SELECT id, subject_id, payload FROM records WHERE source='dvla' AND kind='keeper' "
        "AND subject_id IN (SELECT subject_id FROM records WHERE source='dvla' AND "
        "kind='keeper' GROUP BY subject_id HAVING count(*) = 1) ORDER BY id",
    )
    postcode = json.loads(keeper.payload)["KEEPER_POSTCODE"]
    with store.transaction() as conn:
        before = search_vehicles(conn, VehicleQuery(keeper_postcode=postcode))
        assert keeper.subject_id in {h.vrm for h in before.hits}
        unindex_record(conn, keeper.id)
        store.erase_record(conn, keeper.id)
        gone = search_vehicles(conn, VehicleQuery(keeper_postcode=postcode))
        assert keeper.subject_id not in {h.vrm for h in gone.hits}
        assert search_vehicles(conn, VehicleQuery(vrm=keeper.subject_id)).total == 1


def test_searches_of_an_empty_store_find_nothing(store: Store) -> None:
    from leds.search.text import TextQuery, search_text

    with store.engine.connect() as conn:
        assert search_text(conn, TextQuery("knife")).total == 0
        assert search_persons(conn, PersonQuery(surname="SMITH")).total == 0
        assert search_vehicles(conn, VehicleQuery(vrm="AB12*")).total == 0
