"""The Store base class: the shared workflow in final methods, backends implement few hooks.

Only :mod:`leds.service` (and governance) may hold a Store: it is the store of personal data.
Writes happen inside :meth:`Store.transaction`, so that a service operation's effect and its
audit event commit together or not at all.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NamedTuple, final

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, delete, func, insert, make_url, select, update
from sqlalchemy.exc import SQLAlchemyError

from leds.errors import StoreError
from leds.governance.audit.events import AuditEntry
from leds.model.codes import SourceSystem
from leds.model.records import ImportSummary, Rejection, SourceRecord
from leds.store.schema import PERSON_COLUMNS, audit_events, imports, records, rejections

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD_REVISION = "0001"
# Execution option marking a connection whose transactions write (SQLite: BEGIN IMMEDIATE).
WRITE_OPTION = "leds_write"


@dataclass(frozen=True, slots=True)
class WriteCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    updated_ids: tuple[int, ...] = ()
    duplicates: tuple[Rejection, ...] = ()  # keys this import had already delivered


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A record as kept in the store, with its provenance."""

    id: int
    source: str
    kind: str
    source_record_id: str
    subject_id: str | None
    payload: dict[str, Any]
    person: dict[str, Any]
    file: str
    line: int
    import_id: int
    imported_at: datetime
    content_hash: str


class PreparedRecord(NamedTuple):
    """A source record reduced to the values the store writes (picklable, cheap to send)."""

    source: str
    kind: str
    source_record_id: str
    subject_id: str | None
    payload: str  # canonical JSON
    content_hash: str
    file: str
    line: int
    truth_person_id: str | None
    person: tuple[Any, ...]  # values of PERSON_COLUMNS, in that order


_PREPARED_COLUMNS: tuple[str, ...] = (
    "source",
    "kind",
    "source_record_id",
    "subject_id",
    "payload",
    "content_hash",
    "file",
    "line",
    "truth_person_id",
    *PERSON_COLUMNS,
)
_NO_PERSON: tuple[None, ...] = (None,) * len(PERSON_COLUMNS)


def prepare_record(rec: SourceRecord) -> PreparedRecord:
    """Canonicalise one parsed record for the store (payload JSON, content hash, columns)."""
    body, digest = rec.canonical()
    person = rec.person
    return PreparedRecord(
        rec.source.value,
        rec.kind.value,
        rec.source_record_id,
        rec.subject_id,
        body,
        digest,
        rec.provenance.file,
        rec.provenance.line,
        rec.truth_person_id,
        _NO_PERSON if person is None else tuple(getattr(person, c) for c in PERSON_COLUMNS),
    )


class _Held(NamedTuple):
    id: int
    content_hash: str
    import_id: int
    file: str
    line: int


def _values(rec: PreparedRecord) -> tuple[Any, ...]:
    return (*rec[:9], *rec.person)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Store(ABC):
    """A store of source records, imports, rejections and audit events."""

    backend: str = "abstract"

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine = self._create_engine(url)
            self.migrate()
        except SQLAlchemyError as exc:
            where = make_url(url).render_as_string(hide_password=True)
            raise StoreError(
                f"cannot open the {self.backend} store at {where}: {getattr(exc, 'orig', exc)}",
                hint="check that the database is reachable and the user may create tables",
            ) from exc

    # ---- backend hooks -------------------------------------------------------------------
    @abstractmethod
    def _create_engine(self, url: str) -> Engine:
        """Create the SQLAlchemy engine, with the backend's durability settings."""

    def _writer(self) -> AbstractContextManager[None]:
        """Held around each write transaction, before the database's own write lock is asked
        for (a backend whose lock waits are coarse queues its writers here instead)."""
        return nullcontext()

    @property
    def display_url(self) -> str:
        """The URL without a password, for messages."""
        return self.engine.url.render_as_string(hide_password=True)

    # ---- life cycle ----------------------------------------------------------------------
    @final
    def migrate(self) -> None:
        """Bring the schema to the head revision (Alembic, in-process)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    @final
    def close(self) -> None:
        self.engine.dispose()

    @final
    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction: everything done with the connection commits together, or
        nothing. Backends take their write lock up front (see :data:`WRITE_OPTION`)."""
        with self._writer(), self.engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn

    # ---- imports -------------------------------------------------------------------------
    @final
    def begin_import(self, conn: Connection, source: SourceSystem, path: str, actor: str) -> int:
        row = conn.execute(
            insert(imports).returning(imports.c.id),
            {
                "source": source.value,
                "path": path,
                "actor_id": actor,
                "started_at": datetime.now(UTC),
                "status": "running",
            },
        ).one()
        return int(row.id)

    @final
    def finish_import(self, conn: Connection, summary: ImportSummary) -> None:
        conn.execute(
            update(imports)
            .where(imports.c.id == summary.import_id)
            .values(
                finished_at=datetime.now(UTC),
                status=summary.status,
                read=summary.read,
                inserted=summary.inserted,
                updated=summary.updated,
                unchanged=summary.unchanged,
                rejected=summary.rejected,
                by_kind=json.dumps(summary.by_kind, sort_keys=True),
                message=summary.message,
            )
        )

    @final
    def write_records(
        self, conn: Connection, import_id: int, batch: Sequence[SourceRecord]
    ) -> WriteCounts:
        """Insert new records, update changed ones, skip unchanged ones (by content hash)."""
        return self.write_prepared(conn, import_id, [prepare_record(r) for r in batch])

    @final
    def write_prepared(
        self, conn: Connection, import_id: int, batch: Sequence[PreparedRecord]
    ) -> WriteCounts:
        """:meth:`write_records` for records already prepared (e.g. in a worker process).

        A key this import already delivered (earlier in the batch, or in an earlier batch:
        the stored row carries this import's id) is a duplicate inside one extract: it is
        returned as a rejection and changes nothing. Unchanged records are marked as
        delivered by this import too, so duplicates are found in re-imports as well, with
        memory bounded by the batch, not the extract.
        """
        if not batch:
            return WriteCounts()
        existing = self._existing(conn, batch)
        now = datetime.now(UTC)
        new_rows: list[PreparedRecord] = []
        changed: list[tuple[int, PreparedRecord]] = []
        reconfirmed: list[int] = []
        duplicates: list[Rejection] = []
        first_here: dict[tuple[str, str], tuple[str, int]] = {}
        for rec in batch:
            key = (rec.kind, rec.source_record_id)
            found = existing.get(key)
            first = first_here.get(key)
            if first is None and found is not None and found.import_id == import_id:
                first = (found.file, found.line)
            if first is not None:
                where = f"{first[0]}:{first[1]}"
                reason = f"duplicate key {rec.kind} {rec.source_record_id} (first at {where})"
                duplicates.append(
                    Rejection(
                        SourceSystem(rec.source), rec.file, rec.line, None, reason, rec.payload
                    )
                )
                continue
            first_here[key] = (rec.file, rec.line)
            if found is None:
                new_rows.append(rec)
            elif found.content_hash == rec.content_hash:
                reconfirmed.append(found.id)
            else:
                changed.append((found.id, rec))
        if new_rows:
            self._insert_rows(conn, import_id, now, new_rows)
        for record_id, rec in changed:
            values = dict(zip(_PREPARED_COLUMNS, _values(rec), strict=True))
            values.update(import_id=import_id, imported_at=now)
            conn.execute(update(records).where(records.c.id == record_id).values(values))
        for start in range(0, len(reconfirmed), self._LOOKUP_CHUNK):
            chunk = reconfirmed[start : start + self._LOOKUP_CHUNK]
            conn.execute(update(records).where(records.c.id.in_(chunk)).values(import_id=import_id))
        return WriteCounts(
            inserted=len(new_rows),
            updated=len(changed),
            unchanged=len(reconfirmed),
            updated_ids=tuple(i for i, _ in changed),
            duplicates=tuple(duplicates),
        )

    # The bulk paths below use the driver directly: SQLAlchemy's per-row parameter handling
    # costs more than the insert itself at import volumes. Values pass through each column
    # type's own bind processor, so what is stored is exactly what Core would store.
    _LOOKUP_CHUNK = 2_000

    @staticmethod
    def _placeholder(conn: Connection) -> str:
        return "?" if conn.dialect.paramstyle == "qmark" else "%s"

    def _existing(
        self, conn: Connection, batch: Sequence[PreparedRecord]
    ) -> dict[tuple[str, str], _Held]:
        """(kind, source_record_id) -> what is held for each of the batch's records."""
        mark = self._placeholder(conn)
        found: dict[tuple[str, str], _Held] = {}
        by_key: dict[tuple[str, str], list[str]] = {}
        for rec in batch:
            by_key.setdefault((rec.source, rec.kind), []).append(rec.source_record_id)
        for (source, kind), ids in by_key.items():
            unique = list(dict.fromkeys(ids))
            for start in range(0, len(unique), self._LOOKUP_CHUNK):
                chunk = unique[start : start + self._LOOKUP_CHUNK]
                marks = ", ".join([mark] * len(chunk))
                sql = (  # the whole unique key (source, kind, id): an index lookup per id
                    "SELECT source_record_id, id, content_hash, import_id, file, line "
                    f"FROM records WHERE source = {mark} AND kind = {mark} "
                    f"AND source_record_id IN ({marks})"
                )
                for rid, *held in conn.exec_driver_sql(sql, (source, kind, *chunk)):
                    found[(kind, rid)] = _Held(int(held[0]), held[1], int(held[2]), held[3],
                                               int(held[4]))  # fmt: skip
        return found

    def _insert_rows(
        self, conn: Connection, import_id: int, now: datetime, rows: list[PreparedRecord]
    ) -> None:
        columns = (*_PREPARED_COLUMNS, "import_id", "imported_at")
        dialect = conn.dialect
        stamp = records.c.imported_at.type.dialect_impl(dialect).bind_processor(dialect)
        dob = records.c.dob.type.dialect_impl(dialect).bind_processor(dialect)
        dob_at = _PREPARED_COLUMNS.index("dob")
        tail = (import_id, stamp(now) if stamp else now)
        mark = self._placeholder(conn)
        sql = (
            f"INSERT INTO records ({', '.join(columns)}) "
            f"VALUES ({', '.join([mark] * len(columns))})"
        )
        params = []
        for rec in rows:
            values = _values(rec)
            if dob is not None and values[dob_at] is not None:
                values = (*values[:dob_at], dob(values[dob_at]), *values[dob_at + 1 :])
            params.append(values + tail)
        conn.exec_driver_sql(sql, params)

    @final
    def erase_record(self, conn: Connection, record_id: int) -> None:
        """Remove one record (every derived index will hang off this one call)."""
        conn.execute(delete(records).where(records.c.id == record_id))

    @final
    def write_rejections(
        self, conn: Connection, import_id: int, batch: Sequence[Rejection]
    ) -> None:
        if batch:
            conn.execute(
                insert(rejections),
                [
                    {
                        "import_id": import_id,
                        "source": r.source.value,
                        "file": r.file,
                        "line": r.line,
                        "field": r.field,
                        "reason": r.reason,
                        "raw": r.raw,
                    }
                    for r in batch
                ],
            )

    # ---- audit (appends go through leds.governance.audit.log.AuditLog) ----------------
    @final
    def audit_entries(self, after: int = 0, limit: int = 1000) -> list[AuditEntry]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(audit_events)
                .where(audit_events.c.seq > after)
                .order_by(audit_events.c.seq)
                .limit(limit)
            )
            return [AuditEntry.from_row(r) for r in rows]

    # ---- reads ---------------------------------------------------------------------------
    @final
    def list_imports(self, limit: int = 100) -> list[ImportSummary]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(imports).order_by(imports.c.id.desc()).limit(limit))
            return [
                ImportSummary(
                    import_id=r.id,
                    source=SourceSystem(r.source),
                    path=r.path,
                    read=r.read,
                    inserted=r.inserted,
                    updated=r.updated,
                    unchanged=r.unchanged,
                    rejected=r.rejected,
                    by_kind=json.loads(r.by_kind),
                    status=r.status,
                    message=r.message,
                    started_at=_iso(r.started_at),
                    finished_at=_iso(r.finished_at),
                )
                for r in rows
            ]

    @final
    def record_counts(self) -> dict[tuple[str, str], int]:
        """Number of stored records per (source, kind)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(records.c.source, records.c.kind, func.count()).group_by(
                    records.c.source, records.c.kind
                )
            )
            return {(r[0], r[1]): int(r[2]) for r in rows}

    @final
    def get_record(self, source: str, kind: str, source_record_id: str) -> StoredRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(records).where(
                    records.c.source == source,
                    records.c.kind == kind,
                    records.c.source_record_id == source_record_id,
                )
            ).one_or_none()
        return None if row is None else _stored(row)

    @final
    def rejections_of(self, import_id: int, limit: int = 100, offset: int = 0) -> list[Rejection]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(rejections)
                .where(rejections.c.import_id == import_id)
                .order_by(rejections.c.id)
                .limit(limit)
                .offset(offset)
            )
            return [
                Rejection(SourceSystem(r.source), r.file, r.line, r.field, r.reason, r.raw)
                for r in rows
            ]


def _iso(value: datetime | None) -> str | None:
    stamp = _utc(value)
    return stamp.isoformat() if stamp else None


def _stored(row: Any) -> StoredRecord:
    person: dict[str, Any] = {}
    for column in PERSON_COLUMNS:
        value = getattr(row, column)
        if value is not None:
            person[column] = value.isoformat() if isinstance(value, date) else value
    imported_at = _utc(row.imported_at)
    assert imported_at is not None
    return StoredRecord(
        id=row.id,
        source=row.source,
        kind=row.kind,
        source_record_id=row.source_record_id,
        subject_id=row.subject_id,
        payload=json.loads(row.payload),
        person=person,
        file=row.file,
        line=row.line,
        import_id=row.import_id,
        imported_at=imported_at,
        content_hash=row.content_hash,
    )
