"""The person index as search sees it: record -> person id, person id -> records.

Uses :mod:`leds.link.index` (helper L2's ``person_of``/``persons_of``/``records_of``) when it
is installed; before any linkage run (or without the module) a record has no person id and a
search result stands for its nominal record alone (group key ``R<record id>``).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

__all__ = ["group_key", "persons_of", "records_of", "records_of_many"]


def _index() -> Any | None:
    try:
        return importlib.import_module("leds.link.index")
    except ImportError:
        return None


def persons_of(conn: Connection, record_ids: Sequence[int]) -> dict[int, str]:
    """Person id of each linked record (records not linked are absent)."""
    index = _index()
    if index is None or not record_ids:
        return {}
    return dict(index.persons_of(conn, list(record_ids)))


def records_of(conn: Connection, person_id: str) -> list[int]:
    """The person records of a person id (``[]`` when unknown or not linked)."""
    index = _index()
    if index is None:
        return []
    return list(index.records_of(conn, person_id))


def records_of_many(conn: Connection, person_ids: Sequence[str]) -> dict[str, list[int]]:
    """:func:`records_of` for several persons in one query (L2's ``person_records`` table)."""
    index = _index()
    if index is None or not person_ids:
        return {}
    from leds.store.tables_link import person_records

    out: dict[str, list[int]] = {p: [] for p in person_ids}
    rows = conn.execute(
        select(person_records.c.person_id, person_records.c.record_id).where(
            person_records.c.person_id.in_(list(person_ids))
        )
    )
    for pid, rid in rows:
        out[str(pid)].append(int(rid))
    return {p: sorted(ids) for p, ids in out.items()}


def group_key(person_id: str | None, record_id: int) -> str:
    """The key results are grouped by: the person id, else ``R<record id>``."""
    return person_id if person_id else f"R{record_id}"
