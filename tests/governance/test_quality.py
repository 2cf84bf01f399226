"""Data quality (UI.md screen 10): the figures are right (cross-source conflicts on a known
person index, rejected rows by masked reason, timeliness), nothing in them quotes a rejected
row, and the screen goes through the one door: the roles the policy allows see it, each view
is one audit entry whose sequence number the result carries, and a refusal is recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, insert, select

from actors import ADMINISTRATOR, AUDITOR, CONSTABLE, STEWARD
from leds.errors import AccessDenied
from leds.governance import quality
from leds.governance.identity import PurposeStatement
from leds.model.codes import RecordKind, SourceSystem
from leds.model.records import PersonFields, Provenance, SourceRecord
from leds.service import Service
from leds.store import Store
from leds.store.schema import records
from leds.store.tables_link import person_records, persons

ADMIN = PurposeStatement.of("admin-process", "checking the quality of the imports")
OVERSIGHT = PurposeStatement.of("oversight", "reviewing the quality of the sources")
STOP = PurposeStatement.of("stop", "roadside check of a driver")
PNC = (
    "H|PNC|1|2026-11-26T12:00:00Z|3\n"
    "NOM|2001/0171310W||SMITH|ANNA|F|04031985|LEEDS|W1|165|||GBR|\n"
    "NOM|2008/0056560X||JONES|PETER|M|01011970|YORK||175|||GBR|\n"
    "NOM|2011/0275516Q||KHAN|MOHAMMED|M|03031990|BRADFORD|A2|180|||GBR|\n"
    "T|3\n"
)


def _nominal(source: SourceSystem, rid: str, dob: date | None, sex: str | None) -> SourceRecord:
    return SourceRecord(
        source=source,
        kind=RecordKind.PERSON,
        source_record_id=rid,
        subject_id=rid,
        payload={"surname": "SMITH"},
        provenance=Provenance(f"{source.value}.txt", 1),
        person=PersonFields(surname="SMITH", forenames="ANNA", dob=dob, sex=sex),
    )


def _link(conn: Connection, person_id: str, record_keys: list[tuple[str, str]]) -> None:
    now = datetime.now(UTC)
    conn.execute(insert(persons), {"person_id": person_id, "created_at": now, "status": "active"})
    for source, rid in record_keys:
        record_id = conn.execute(
            select(records.c.id).where(
                records.c.source == source, records.c.source_record_id == rid
            )
        ).scalar_one()
        conn.execute(
            insert(person_records),
            {"record_id": record_id, "person_id": person_id, "assigned_at": now},
        )


def test_mask_leaves_no_value_of_the_row() -> None:
    assert quality.mask("impossible date '19950431': day is out of range") == (
        "impossible date '…': day is out of range"
    )
    masked = quality.mask(
        "invalid PNC ID '2008/0056560X': check letter is X, expected Z (did you mean "
        '2008/0056560Z?); "SMITH" given'
    )
    assert "0056560" not in masked
    assert "SMITH" not in masked
    assert quality.mask("NOM line has 9 fields, expected 13") == (
        "NOM line has 9 fields, expected 13"
    )


def test_cross_source_conflicts_on_a_known_index(store: Store) -> None:
    """A: PNC and DVLA disagree on DOB (counts). B: two PNC records disagree, DVLA gives no
    DOB (not cross-source). C: PNC and PND disagree on sex (counts). D: one record. E: PNC
    and DVLA agree."""
    d1, d2 = date(1985, 3, 4), date(1985, 4, 3)
    P, V, N = SourceSystem.PNC, SourceSystem.DVLA, SourceSystem.PND
    batches = {
        P: [
            _nominal(P, "a1", d1, "F"),
            _nominal(P, "b1", d1, "F"),
            _nominal(P, "b2", d2, "F"),
            _nominal(P, "c1", d1, "M"),
            _nominal(P, "d1", d1, "F"),
            _nominal(P, "e1", d1, "F"),
        ],
        V: [_nominal(V, "a2", d2, "F"), _nominal(V, "b3", None, "F"), _nominal(V, "e2", d1, None)],
        N: [_nominal(N, "c2", d1, "F")],
    }
    with store.transaction() as conn:
        for source, batch in batches.items():
            import_id = store.begin_import(conn, source, f"{source.value}/x", "steward1")
            store.write_records(conn, import_id, batch)
        _link(conn, "L0000000001", [("pnc", "a1"), ("dvla", "a2")])
        _link(conn, "L0000000002", [("pnc", "b1"), ("pnc", "b2"), ("dvla", "b3")])
        _link(conn, "L0000000003", [("pnc", "c1"), ("pnd", "c2")])
        _link(conn, "L0000000004", [("pnc", "d1")])
        _link(conn, "L0000000005", [("pnc", "e1"), ("dvla", "e2")])
    with store.engine.connect() as conn:
        counts, per_source = quality.conflicts(conn)
    assert counts.linked_persons == 4
    assert counts.multi_source_persons == 4
    assert counts.by_field == {"dob": 1, "sex": 1, "nationality": 0}
    assert counts.any_field == 2
    assert per_source == {"pnc": 2, "dvla": 1, "pnd": 1}


def test_the_screen_through_the_one_door(service: Service, store: Store, tmp_path: Path) -> None:
    extract = tmp_path / "pnc-00001.txt"
    extract.write_text(PNC, encoding="utf-8")
    imported = service.import_source(STEWARD, ADMIN, "pnc", extract).value
    seen: set[int] = set()
    for user, purpose in ((STEWARD, ADMIN), (AUDITOR, OVERSIGHT), (ADMINISTRATOR, ADMIN)):
        result = service.data_quality(user, purpose)
        entry = store.audit_entries(after=result.audit_seq - 1, limit=1)[0]
        assert entry.seq == result.audit_seq not in seen
        seen.add(result.audit_seq)
        assert (entry.operation, entry.actor_id) == ("data_quality", user.actor.user_id)
        assert entry.decision.startswith("allow:")
        assert store.audit_entries(after=result.audit_seq, limit=1) == []  # one entry per view

    q = result.value
    pnc = next(s for s in q.sources if s.source == "pnc")
    assert (pnc.imports, pnc.last_import_id, pnc.last_import_status) == (
        1,
        imported.import_id,
        "complete",
    )
    assert pnc.records == 2
    assert pnc.rows_read == imported.read
    assert pnc.rejected == 1
    assert pnc.other_reason_rows == 0
    (reason,) = pnc.reasons
    assert (reason.field, reason.rows, reason.import_id) == ("pnc_id", 1, imported.import_id)
    assert reason.reason.startswith("invalid PNC ID '…'")
    assert "0056560" not in reason.reason
    assert pnc.newest_record_at is not None
    age = pnc.age_seconds(q.as_of)
    assert age is not None
    assert 0 <= age < timedelta(minutes=5).total_seconds()
    generic = next(s for s in q.sources if s.source == "generic")
    assert (generic.imports, generic.last_import_id, generic.age_seconds(q.as_of)) == (
        0,
        None,
        None,
    )
    assert q.conflicts.linked_persons == 0
    assert q.runs == []
    assert q.model is None
    assert not q.retention_configured
    assert q.retention_note.startswith("No retention rules are configured yet")


def test_a_role_without_access_is_refused_and_the_refusal_recorded(
    service: Service, store: Store
) -> None:
    with pytest.raises(AccessDenied):
        service.data_quality(CONSTABLE, STOP)
    last = store.audit_entries(after=0, limit=100_000)[-1]
    assert (last.operation, last.actor_id) == ("data_quality", "pc123")
    assert last.decision.startswith("deny:")
    with pytest.raises(AccessDenied):  # an allowed role, for a purpose the policy does not list
        service.data_quality(ADMINISTRATOR, STOP)
