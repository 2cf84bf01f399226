"""Property search: serial number (exact, partial, or with ? and * wildcards), category, make,
model, status (lost, stolen, found, seized), with the PNC nominal each item is recorded against.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from leds.search.common import chunks, key_range, load_records, records_by_key
from leds.search.errors import BadQuery
from leds.search.keys import pattern_plan, unrotate
from leds.search.linkage import persons_of
from leds.store.base import StoredRecord
from leds.store.tables_search import search_keys

__all__ = ["STATUSES", "PropertyHit", "PropertyQuery", "PropertyResults", "search_property"]

STATUSES = ("lost", "stolen", "found", "seized")
MAX_CANDIDATES = 50_000


@dataclass(frozen=True, slots=True)
class PropertyQuery:
    serial: str | None = None  # exact, or partial with partial=True or ? / * wildcards
    partial: bool = False
    category: str | None = None
    make: str | None = None
    model: str | None = None
    status: str | None = None
    limit: int = 20
    offset: int = 0


@dataclass(slots=True)
class PropertyHit:
    record: StoredRecord
    person: StoredRecord | None  # the PNC nominal the property is recorded against
    person_id: str | None

    @property
    def record_ids(self) -> list[int]:
        return [self.record.id] + ([self.person.id] if self.person else [])


@dataclass(slots=True)
class PropertyResults:
    query: PropertyQuery
    total: int
    hits: list[PropertyHit] = field(default_factory=list)
    truncated: bool = False

    @property
    def record_ids(self) -> list[int]:
        return [i for h in self.hits for i in h.record_ids]


def search_property(conn: Connection, q: PropertyQuery) -> PropertyResults:
    """Property records matching every criterion given (at least one is required)."""
    if q.status and q.status.lower() not in STATUSES:
        raise BadQuery(
            f"unknown property status {q.status!r}", hint="one of " + ", ".join(STATUSES)
        )
    attrs = [
        f"a:{name}:{value.strip().upper()}".encode()
        for name, value in (("pc", q.category), ("pm", q.make), ("po", q.model), ("ps", q.status))
        if value
    ]
    if not q.serial and not attrs:
        raise BadQuery("a property search needs a serial, category, make, model or status")
    truncated = False
    ids: set[int] | None = None
    if q.serial:
        plan = pattern_plan(q.serial, contains=q.partial, min_literal=3)
        lo, hi = key_range(b"s" + plan.prefix.encode())
        rows = conn.execute(
            select(search_keys.c.key, search_keys.c.record_id)
            .where(search_keys.c.key >= lo, search_keys.c.key < hi)
            .limit(MAX_CANDIDATES + 1)
        ).all()
        truncated = len(rows) > MAX_CANDIDATES
        ids = {int(r) for k, r in rows if plan.regex.fullmatch(unrotate(bytes(k)[1:].decode()))}
    for key in attrs:
        query = select(search_keys.c.record_id).where(search_keys.c.key == key)
        if ids is None:
            found = {int(r[0]) for r in conn.execute(query.limit(MAX_CANDIDATES + 1))}
            truncated = truncated or len(found) > MAX_CANDIDATES
            ids = found
        else:
            kept: set[int] = set()
            for part in chunks(sorted(ids)):
                kept.update(
                    int(r[0]) for r in conn.execute(query.where(search_keys.c.record_id.in_(part)))
                )
            ids = kept
    ordered = sorted(ids or ())
    page = ordered[q.offset : q.offset + q.limit]
    loaded = load_records(conn, page)
    owners = {
        r.source_record_id: r
        for r in records_by_key(
            conn, "pnc", "person", [loaded[i].subject_id or "" for i in page if i in loaded]
        )
    }
    person_ids = persons_of(conn, [r.id for r in owners.values()])
    hits = []
    for rid in page:
        rec = loaded.get(rid)
        if rec is None:
            continue
        owner = owners.get(rec.subject_id or "")
        hits.append(PropertyHit(rec, owner, person_ids.get(owner.id) if owner else None))
    return PropertyResults(q, len(ordered), hits, truncated)
