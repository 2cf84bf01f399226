"""Search through the one door: sources scoped by the policy, records minimised, every search
a consultation naming what it showed, refusals recorded, imports and erasures keep the indexes
current."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from actors import ADMINISTRATOR, CONSTABLE, STEWARD, signed_in
from leds.errors import AccessDenied, InvalidIdentifier
from leds.governance.identity import PurposeStatement
from leds.governance.minimise import MinimisedRecord
from leds.search.errors import BadQuery
from leds.search.persons import PersonQuery
from leds.search.property import PropertyQuery
from leds.search.text import TextQuery
from leds.search.vehicles import VehicleQuery
from leds.service import Service
from leds.store.schema import records

ADMIN = PurposeStatement.of("admin-process", "loading the search world for the test")
STOP = PurposeStatement.of("stop", "roadside check of a driver")
CRIME = PurposeStatement.of("crime", "investigating a burglary series", "CASE-9")
INVESTIGATOR = signed_in("det1", "investigator", "WYP")
DVLA = signed_in("dv1", "dvla-enquiry", "DVLA")
LICENSING = PurposeStatement.of("admin-licensing", "checking a licence application")


@pytest.fixture(scope="module")
def service(world_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    svc = Service.open(tmp_path_factory.mktemp("svc-search"))
    for source in ("pnc", "pnd", "dvla", "iabs"):
        svc.import_source(STEWARD, ADMIN, source, world_dir / source)  # indexes as it imports
    yield svc
    svc.close()


def _person(service: Service, source: str) -> Any:
    with service._store.engine.connect() as conn:
        return conn.execute(
            select(records).where(
                records.c.source == source,
                records.c.kind == "person",
                records.c.dob.is_not(None),
                records.c.surname.is_not(None),
            )
        ).first()


def _last(service: Service) -> Any:
    return service._store.audit_entries(after=0, limit=1_000_000)[-1]


def test_person_search_is_scoped_minimised_and_audited(service: Service) -> None:
    row = _person(service, "pnc")
    found = service.search_person(CONSTABLE, STOP, PersonQuery(surname=row.surname, dob=row.dob))
    assert found.value.hits
    shown = [r for h in found.value.hits for r in h.records]
    assert shown
    assert all(isinstance(r, MinimisedRecord) for r in shown)
    assert all(r.source in {"pnc", "pnd", "dvla"} for r in shown)  # no IABS for a constable
    entry = _last(service)
    assert entry.seq == found.audit_seq
    assert entry.kind == "consultation"
    assert f"record/{shown[0].record_id}" in entry.subjects
    assert entry.query["sources"] == ["dvla", "pnc", "pnd"]

    dvla_row = _person(service, "dvla")
    got = service.search_person(
        DVLA, LICENSING, PersonQuery(surname=dvla_row.surname, dob=dvla_row.dob)
    )
    assert {r.source for h in got.value.hits for r in h.records} <= {"dvla"}

    with pytest.raises(AccessDenied):
        service.search_person(ADMINISTRATOR, ADMIN, PersonQuery(surname=row.surname))
    assert _last(service).decision.startswith("deny:")


def test_vehicle_identifier_property_and_text(service: Service) -> None:
    with service._store.engine.connect() as conn:
        vrm = (
            conn.execute(
                select(records.c.source_record_id)
                .where(records.c.source == "dvla", records.c.kind == "vehicle")
                .limit(1)
            ).scalar()
            or ""
        )
    assert vrm
    partial = vrm[:2] + "*" + vrm[-2:]
    found = service.search_vehicle(CONSTABLE, STOP, VehicleQuery(vrm=partial)).value
    assert vrm in [h.vrm for h in found.hits]

    row = _person(service, "pnc")
    ident = service.lookup_identifier(CONSTABLE, STOP, row.pnc_id).value
    assert row.id in [r.record_id for r in ident.records]
    wrong = row.pnc_id[:-1] + ("A" if row.pnc_id[-1] != "A" else "B")
    with pytest.raises(InvalidIdentifier):
        service.lookup_identifier(CONSTABLE, STOP, wrong)

    with pytest.raises(AccessDenied):  # free-text intelligence is not a constable's
        service.search_text(CONSTABLE, STOP, TextQuery(text="stolen"))
    texts = service.search_text(INVESTIGATOR, CRIME, TextQuery(text="stolen")).value
    assert all(isinstance(h.record, MinimisedRecord) for h in texts.hits)
    prop = service.search_property(CONSTABLE, STOP, PropertyQuery(category="laptop")).value
    assert all(h.record.source == "pnc" for h in prop.hits)


def test_person_view_leaves_out_sources_the_user_may_not_view(service: Service) -> None:
    with service._store.engine.connect() as conn:
        iabs = conn.execute(
            select(records.c.id).where(records.c.source == "iabs", records.c.kind == "person")
        ).first()
    assert iabs is not None
    view = service.show_person(INVESTIGATOR, CRIME, str(iabs.id)).value
    assert any(r.source == "iabs" for r in view.records)
    with pytest.raises(AccessDenied):  # DVLA staff view records for licensing only
        service.show_person(DVLA, STOP, str(iabs.id))


def test_erasure_takes_a_record_out_of_search(service: Service) -> None:
    row = _person(service, "dvla")
    query = PersonQuery(surname=row.surname, dob=row.dob)
    before = service.search_person(DVLA, LICENSING, query).value
    assert row.id in [r.record_id for h in before.hits for r in h.records]
    service.erase_record(
        STEWARD, ADMIN, "dvla", "person", row.source_record_id, "retention period has ended"
    )
    after = service.search_person(DVLA, LICENSING, query).value
    assert row.id not in [r.record_id for h in after.hits for r in h.records]


def test_health_related_markers_stay_out_of_search_results(service: Service) -> None:
    import json

    with service._store.engine.connect() as conn:
        markers = conn.execute(
            select(records.c.payload).where(records.c.source == "pnc", records.c.kind == "marker")
        ).scalars()
        health = [
            json.loads(p)
            for p in markers
            if json.loads(p).get("marker_type") in {"WS-MENTAL", "WS-SELFHARM"}
        ]
        if not health:
            pytest.skip("no health-related marker in this small world")
        person = conn.execute(
            select(records).where(
                records.c.source == "pnc",
                records.c.kind == "person",
                records.c.source_record_id == health[0]["pnc_id"],
            )
        ).first()
    assert person is not None
    found = service.search_person(
        CONSTABLE, STOP, PersonQuery(surname=person.surname, dob=person.dob)
    ).value
    assert found.hits
    for hit in found.hits:
        assert not {"WS-MENTAL", "WS-SELFHARM"} & set(hit.markers)
    assert not {"WS-MENTAL", "WS-SELFHARM"} & set(found.facets.get("marker", {}))


def test_person_search_reads_only_the_sources_asked(service: Service) -> None:
    row = _person(service, "pnc")
    every = service.search_person(CONSTABLE, STOP, PersonQuery(surname=row.surname))
    assert every.value.searched == ["dvla", "pnc", "pnd"]
    narrowed = service.search_person(
        CONSTABLE, STOP, PersonQuery(surname=row.surname, sources=frozenset({"pnc", "iabs"}))
    )
    found = narrowed.value
    assert found.searched == ["pnc"]  # IABS asked, but not the constable's to search
    assert found.not_permitted == ["iabs", "generic"]
    assert {r.source for h in found.hits for r in h.records} == {"pnc"}
    assert set(found.facets.get("source", {})) <= {"pnc"}
    entry = _last(service)
    assert entry.seq == narrowed.audit_seq
    assert entry.query["sources"] == ["pnc"]  # what was searched, not all that may be
    assert found.total <= every.value.total

    with pytest.raises(AccessDenied):  # only sources the constable may not search
        service.search_person(
            CONSTABLE, STOP, PersonQuery(surname=row.surname, sources=frozenset({"iabs"}))
        )
    assert _last(service).decision.startswith("deny:")
    for bad, message in ((frozenset(), "no source"), (frozenset({"mi5"}), "unknown source")):
        with pytest.raises(BadQuery, match=message):
            service.search_person(CONSTABLE, STOP, PersonQuery(surname=row.surname, sources=bad))
