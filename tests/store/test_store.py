"""The store: migrations agree with the schema; records keep provenance; re-imports are
idempotent; the audit table is append-only and ordered. Runs on every backend."""

from __future__ import annotations

from datetime import date

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from leds.governance.audit import AuditEvent
from leds.governance.audit.log import AuditLog
from leds.governance.identity import Actor, PurposeStatement
from leds.model.codes import AuditKind, RecordKind, SourceSystem
from leds.model.records import PersonFields, Provenance, Rejection, SourceRecord
from leds.store import Store
from leds.store.schema import metadata


def _person(rid: str, surname: str, line: int = 1) -> SourceRecord:
    return SourceRecord(
        source=SourceSystem.PNC,
        kind=RecordKind.PERSON,
        source_record_id=rid,
        subject_id=rid,
        payload={"surname": surname, "forenames": "ANNA MARIA"},
        provenance=Provenance("pnc-00001.txt", line),
        person=PersonFields(surname=surname, forenames="ANNA MARIA", dob=date(1985, 3, 4)),
    )


def test_migrated_schema_matches_the_declared_tables(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_migrate_twice_is_harmless(store: Store) -> None:
    store.migrate()
    assert store.record_counts() == {}


def test_records_keep_provenance_and_reimport_is_idempotent(store: Store) -> None:
    batch = [_person("2001/0171310W", "SMITH", 2), _person("2011/0275516Q", "JONES", 3)]
    with store.transaction() as conn:
        first = store.begin_import(conn, SourceSystem.PNC, "world/pnc", "steward1")
        counts = store.write_records(conn, first, batch)
    assert (counts.inserted, counts.updated, counts.unchanged) == (2, 0, 0)
    with store.transaction() as conn:
        second = store.begin_import(conn, SourceSystem.PNC, "world/pnc", "steward1")
        again = store.write_records(conn, second, batch)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    changed = [_person("2001/0171310W", "SMYTH", 2)]
    with store.transaction() as conn:
        third = store.begin_import(conn, SourceSystem.PNC, "world/pnc", "steward1")
        altered = store.write_records(conn, third, changed)
    assert (altered.inserted, altered.updated) == (0, 1)
    assert len(altered.updated_ids) == 1
    assert store.record_counts() == {("pnc", "person"): 2}
    rec = store.get_record("pnc", "person", "2001/0171310W")
    assert rec is not None
    assert rec.payload["surname"] == "SMYTH"
    assert rec.person["surname"] == "SMYTH"
    assert rec.person["dob"] == "1985-03-04"
    assert (rec.file, rec.line, rec.import_id) == ("pnc-00001.txt", 2, third)
    assert rec.imported_at.tzinfo is not None
    assert store.get_record("pnc", "person", "1999/0000001A") is None


def test_a_failed_transaction_writes_nothing(store: Store) -> None:
    try:
        with store.transaction() as conn:
            iid = store.begin_import(conn, SourceSystem.PNC, "p", "steward1")
            store.write_records(conn, iid, [_person("2001/0171310W", "SMITH")])
            raise RuntimeError("crash mid-import")
    except RuntimeError:
        pass
    assert store.record_counts() == {}
    assert store.list_imports() == []


def test_rejections_are_kept_with_row_field_and_reason(store: Store) -> None:
    bad = Rejection(SourceSystem.PNC, "pnc-00001.txt", 7, "pnc_id", "wrong check letter", "NOM|x")
    with store.transaction() as conn:
        iid = store.begin_import(conn, SourceSystem.PNC, "p", "steward1")
        store.write_rejections(conn, iid, [bad])
    assert store.rejections_of(iid) == [bad]


def test_audit_entries_are_sequential_and_read_back(store: Store, audit_log: AuditLog) -> None:
    actor = Actor("u1", "auditor", "IOPC")
    purpose = PurposeStatement.of("oversight", "quarterly review of access")
    seqs = []
    for n in range(3):
        event = AuditEvent(
            AuditKind.CONSULTATION, "read_record", actor, purpose, {"n": n}, subjects=[f"r/{n}"]
        )
        with store.transaction() as conn:
            seqs.append(audit_log.append(conn, event))
    assert seqs == [1, 2, 3]
    entries = store.audit_entries()
    assert [e.seq for e in entries] == seqs
    assert entries[1].query == {"n": 1}
    assert entries[1].subjects == ["r/1"]
    assert entries[1].purpose == "oversight"
    assert entries[1].at.tzinfo is not None
    assert [e.seq for e in store.audit_entries(after=seqs[0])] == seqs[1:]


def test_bulk_written_values_read_back_as_core_writes_them(store: Store) -> None:
    batch = [_person("2001/0171310W", "SMITH")]
    with store.transaction() as conn:
        iid = store.begin_import(conn, SourceSystem.PNC, "p", "steward1")
        store.write_records(conn, iid, batch)
    with store.engine.connect() as conn:
        from sqlalchemy import text

        raw = conn.execute(text("select imported_at, dob from records")).one()
    if store.backend == "sqlite":  # SQLAlchemy's own storage format, not the driver's
        assert "+" not in str(raw[0])
        assert str(raw[1]) == "1985-03-04"
    rec = store.get_record("pnc", "person", "2001/0171310W")
    assert rec is not None
    assert rec.person["dob"] == "1985-03-04"
