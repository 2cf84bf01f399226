"""Shared pieces of the search queries: loading records as the store's ``StoredRecord``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date
from typing import Any

from sqlalchemy import Connection, select

from leds.store.base import StoredRecord
from leds.store.schema import PERSON_COLUMNS, records

__all__ = ["chunks", "load_records", "mark", "records_by_subject"]

_IN = 900


def active_filters(query: object, facets: Iterable[str]) -> dict[str, str]:
    """A query's active facet filters, facet -> value (its ``filter_<facet>`` fields set)."""
    return {facet: value for facet in facets if (value := getattr(query, f"filter_{facet}"))}


def chunks(ids: Sequence[Any], size: int = _IN) -> list[Sequence[Any]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def mark(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _stored(row: Any) -> StoredRecord:
    person: dict[str, Any] = {}
    for column in PERSON_COLUMNS:
        value = getattr(row, column)
        if value is not None:
            person[column] = value.isoformat() if isinstance(value, date) else value
    stamp = row.imported_at
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return StoredRecord(
        id=int(row.id),
        source=row.source,
        kind=row.kind,
        source_record_id=row.source_record_id,
        subject_id=row.subject_id,
        payload=json.loads(row.payload),
        person=person,
        file=row.file,
        line=row.line,
        import_id=row.import_id,
        imported_at=stamp,
        content_hash=row.content_hash,
    )


def load_records(conn: Connection, ids: Sequence[int]) -> dict[int, StoredRecord]:
    """Stored records by id (ids that do not exist are absent)."""
    out: dict[int, StoredRecord] = {}
    unique = sorted({int(i) for i in ids})
    for part in chunks(unique):
        for row in conn.execute(select(records).where(records.c.id.in_(part))):
            out[int(row.id)] = _stored(row)
    return out


def records_by_subject(
    conn: Connection, source: str, subjects: Sequence[str], kinds: Sequence[str] | None = None
) -> list[StoredRecord]:
    """Records of ``source`` whose subject is one of ``subjects`` (optionally of ``kinds``)."""
    out: list[StoredRecord] = []
    for part in chunks(sorted(set(subjects))):
        query = select(records).where(records.c.source == source, records.c.subject_id.in_(part))
        if kinds is not None:
            # ``kind || ''`` and no ORDER BY: a plain ``kind IN`` or an ORDER BY id makes
            # SQLite prefer the (source, kind, id) key or the rowid order to the
            # (source, subject_id) index
            query = query.where(records.c.kind.concat("").in_(list(kinds)))
        out.extend(_stored(r) for r in conn.execute(query))
    out.sort(key=lambda r: r.id)
    return out


def records_by_key(
    conn: Connection, source: str, kind: str, keys: Sequence[str]
) -> list[StoredRecord]:
    """Records of (source, kind) by their source record ids."""
    out: list[StoredRecord] = []
    for part in chunks(sorted(set(keys))):
        query = select(records).where(
            records.c.source == source,
            records.c.kind == kind,
            records.c.source_record_id.in_(part),
        )
        out.extend(_stored(r) for r in conn.execute(query))
    return out


def key_range(prefix: bytes) -> tuple[bytes, bytes]:
    """[lo, hi) bounds of every key starting with ``prefix`` (keys are ASCII)."""
    return prefix, prefix + b"\xff"
