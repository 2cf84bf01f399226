"""Human review of uncertain links: the queue, decisions, and undoing them.

A decision is applied to the index at once and is a constraint for every later run:
``match`` is a must-link (the two records' persons are merged), ``not-a-match`` a cannot-link
(if the two records are one person, that person is split: the link that held the two sides
together is cut where a full run would cut it), ``unsure`` records the review and changes
nothing. Applying re-clusters only the persons of the two records, from the links stored
with them (:data:`leds.store.tables_link.person_links`), with the same constrained greedy rule
as a full run, so a later full run reaches the same persons. Every change is written to the
person history with the decision's id.

Undo marks the decision undone (who, when, why) and re-clusters the same persons without it;
ids a decision retired are reinstated when their records come back together (an id is never
given to other records). Deciding a pair that already has a decision in force supersedes it.
Contradictions are refused with :class:`ReviewConflict` (a ``match`` that would join two
records decided not-a-match, directly or through other matches; a ``not-a-match`` between
records confirmed as one person through matches).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, select, update

from leds.link import _index_sql as sql
from leds.link._index_cluster import cluster_nodes
from leds.link._index_core import (
    Constraints,
    PersonIndexError,
    apply_clustering,
    constraint_positions,
    lock_index,
    now,
    parse_person_id,
    read_constraints,
    utc,
)
from leds.link._index_queue import queue_for_review
from leds.link.index import persons_of
from leds.store.schema import records
from leds.store.tables_link import person_history, review_decisions
from leds.store.tables_link import review_queue as queue_table

__all__ = [
    "DECISIONS",
    "Constraints",
    "IndexChange",
    "ReviewConflict",
    "ReviewDecision",
    "ReviewError",
    "ReviewItem",
    "constraints",
    "decide",
    "decisions",
    "get_decision",
    "queue_for_review",
    "review_queue",
    "undo_decision",
]

DECISIONS = ("match", "not-a-match", "unsure")


class ReviewError(PersonIndexError):
    """A review request that cannot be carried out as asked."""


class ReviewConflict(ReviewError):
    """A decision contradicts decisions already in force."""


@dataclass(frozen=True, slots=True)
class ReviewItem:
    id: int
    record_a: int
    record_b: int
    probability: float
    weight: float
    uncertainty: float  # |weight - threshold weight|, smallest first
    reason: str  # near-threshold | joins-two-persons
    run_id: int | None
    queued_at: datetime
    person_a: str | None
    person_b: str | None


@dataclass(frozen=True, slots=True)
class IndexChange:
    """What a decision (or its undo) did to the index: the audit entry's 'combination'."""

    persons: list[str] = field(default_factory=list)  # every person id concerned
    records_changed: list[int] = field(default_factory=list)  # records whose person changed
    created: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    reinstated: list[str] = field(default_factory=list)
    merged: list[tuple[list[str], str]] = field(default_factory=list)
    split: list[tuple[str, list[str]]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ReviewDecision:
    id: int
    record_a: int
    record_b: int
    decision: str
    reason: str
    actor_id: str
    at: datetime
    undone_at: datetime | None = None
    undone_by: str | None = None
    undo_reason: str | None = None
    change: IndexChange = field(default_factory=IndexChange)
    superseded: int | None = None  # id of the decision this one replaced


# ---- queue --------------------------------------------------------------------------------
def review_queue(conn: Connection, *, limit: int = 50, offset: int = 0) -> list[ReviewItem]:
    """Pending review items, most uncertain first."""
    if limit < 1 or offset < 0:
        raise ReviewError("limit must be at least 1 and offset not negative")
    rows = conn.execute(
        select(queue_table)
        .where(queue_table.c.status == "pending")
        .order_by(queue_table.c.uncertainty, queue_table.c.id)
        .limit(limit)
        .offset(offset)
    ).all()
    who = persons_of(conn, [int(x) for r in rows for x in (r.record_a, r.record_b)])
    return [
        ReviewItem(
            id=int(r.id),
            record_a=int(r.record_a),
            record_b=int(r.record_b),
            probability=float(r.probability),
            weight=float(r.weight),
            uncertainty=float(r.uncertainty),
            reason=r.reason,
            run_id=None if r.run_id is None else int(r.run_id),
            queued_at=utc(r.queued_at) or r.queued_at,
            person_a=who.get(int(r.record_a)),
            person_b=who.get(int(r.record_b)),
        )
        for r in rows
    ]


def constraints(conn: Connection) -> Constraints:
    """The must-link and cannot-link pairs in force (and the decision behind each)."""
    return read_constraints(conn)


# ---- decisions ----------------------------------------------------------------------------
def decide(
    conn: Connection, record_a: int, record_b: int, decision: str, reason: str, actor_id: str
) -> ReviewDecision:
    """Record a decision about two person records and apply it to the index at once."""
    if decision not in DECISIONS:
        raise ReviewError(
            f"unknown review decision {decision!r}", hint="use match, not-a-match or unsure"
        )
    if not reason or not reason.strip():
        raise ReviewError("a review decision needs a reason", hint="say what the evidence is")
    if not actor_id:
        raise ReviewError("a review decision needs the id of the person deciding")
    a, b = sorted((int(record_a), int(record_b)))
    if a == b:
        raise ReviewError(f"record {a} cannot be compared with itself")
    _check_person_records(conn, (a, b))
    lock_index(conn)
    cons = read_constraints(conn)
    previous = cons.decision_of.get((a, b))
    _check_conflict(cons, a, b, decision)
    stamp = now()
    did = int(
        conn.execute(
            review_decisions.insert().returning(review_decisions.c.id),
            {
                "record_a": a,
                "record_b": b,
                "decision": decision,
                "reason": reason.strip(),
                "actor_id": actor_id,
                "at": stamp,
            },
        ).scalar_one()
    )
    if previous is not None:
        conn.execute(
            update(review_decisions)
            .where(review_decisions.c.id == previous)
            .values(
                undone_at=stamp, undone_by=actor_id, undo_reason=f"superseded by decision {did}"
            )
        )
    before = persons_of(conn, [a, b])
    same = len(before) == 2 and before[a] == before[b]
    change = IndexChange()
    text = f"review decision {did} ({decision}) by {actor_id}: {reason.strip()}"
    # A match reorders the greedy (must-links first) even inside one person; a not-a-match
    # between two persons already apart changes nothing.
    if previous is not None or decision == "match" or (decision == "not-a-match" and same):
        change = _recluster(conn, (a, b), decision_id=did, reason=text, extra_from=previous)
    _review_rows(conn, (a, b), before, did, text, stamp)
    conn.execute(
        update(queue_table)
        .where(queue_table.c.record_a == a, queue_table.c.record_b == b)
        .values(status="decided", decision_id=did)
    )
    return ReviewDecision(
        id=did,
        record_a=a,
        record_b=b,
        decision=decision,
        reason=reason.strip(),
        actor_id=actor_id,
        at=stamp,
        change=_with_persons(change, before, persons_of(conn, [a, b])),
        superseded=previous,
    )


def undo_decision(conn: Connection, decision_id: int, actor_id: str, reason: str) -> ReviewDecision:
    """Undo a decision: it stops being a constraint, and the persons it touched are
    re-clustered without it (ids it retired come back if their records do)."""
    if not reason or not reason.strip():
        raise ReviewError("undoing a decision needs a reason")
    if not actor_id:
        raise ReviewError("undoing a decision needs the id of the person undoing it")
    lock_index(conn)
    row = conn.execute(
        select(review_decisions).where(review_decisions.c.id == int(decision_id))
    ).one_or_none()
    if row is None:
        raise ReviewError(f"no review decision {decision_id}")
    if row.undone_at is not None:
        raise ReviewError(
            f"review decision {decision_id} was already undone by {row.undone_by}"
            f" ({row.undo_reason})"
        )
    stamp = now()
    conn.execute(
        update(review_decisions)
        .where(review_decisions.c.id == int(decision_id))
        .values(undone_at=stamp, undone_by=actor_id, undo_reason=reason.strip())
    )
    a, b = int(row.record_a), int(row.record_b)
    before = persons_of(conn, [a, b])
    text = f"undo of review decision {decision_id} by {actor_id}: {reason.strip()}"
    change = IndexChange()
    if row.decision in ("match", "not-a-match"):
        change = _recluster(
            conn, (a, b), decision_id=int(decision_id), reason=text, extra_from=int(decision_id)
        )
    _review_rows(conn, (a, b), before, int(decision_id), text, stamp)
    conn.execute(
        update(queue_table)
        .where(queue_table.c.decision_id == int(decision_id))
        .values(status="pending", decision_id=None)
    )
    return ReviewDecision(
        id=int(row.id),
        record_a=a,
        record_b=b,
        decision=row.decision,
        reason=row.reason,
        actor_id=row.actor_id,
        at=utc(row.at) or row.at,
        undone_at=stamp,
        undone_by=actor_id,
        undo_reason=reason.strip(),
        change=_with_persons(change, before, persons_of(conn, [a, b])),
    )


def get_decision(conn: Connection, decision_id: int) -> ReviewDecision:
    row = conn.execute(
        select(review_decisions).where(review_decisions.c.id == int(decision_id))
    ).one_or_none()
    if row is None:
        raise ReviewError(f"no review decision {decision_id}")
    return _decision(row)


def decisions(
    conn: Connection,
    *,
    record_id: int | None = None,
    in_force_only: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[ReviewDecision]:
    """Decisions, newest first (optionally those about one record, or only those in force)."""
    stmt = select(review_decisions)
    if record_id is not None:
        stmt = stmt.where(
            (review_decisions.c.record_a == int(record_id))
            | (review_decisions.c.record_b == int(record_id))
        )
    if in_force_only:
        stmt = stmt.where(review_decisions.c.undone_at.is_(None))
    rows = conn.execute(
        stmt.order_by(review_decisions.c.id.desc()).limit(limit).offset(offset)
    ).all()
    return [_decision(r) for r in rows]


def _decision(r: Any) -> ReviewDecision:
    return ReviewDecision(
        id=int(r.id),
        record_a=int(r.record_a),
        record_b=int(r.record_b),
        decision=r.decision,
        reason=r.reason,
        actor_id=r.actor_id,
        at=utc(r.at) or r.at,
        undone_at=utc(r.undone_at),
        undone_by=r.undone_by,
        undo_reason=r.undo_reason,
    )


# ---- internals ----------------------------------------------------------------------------
def _check_person_records(conn: Connection, ids: Sequence[int]) -> None:
    found = {
        int(i): k
        for i, k in conn.execute(
            select(records.c.id, records.c.kind).where(records.c.id.in_(list(ids)))
        )
    }
    for rid in ids:
        if rid not in found:
            raise ReviewError(f"no record {rid}", hint="review decisions are about stored records")
        if found[rid] != "person":
            raise ReviewError(
                f"record {rid} is a {found[rid]} record, not a person record",
                hint="decide about the person (nominal) records the linkage links",
            )


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


def _check_conflict(cons: Constraints, a: int, b: int, decision: str) -> None:
    must = [p for p in cons.must_link if p != (a, b)]
    cannot = [p for p in cons.cannot_link if p != (a, b)]
    uf = _UnionFind()
    for x, y in must:
        uf.union(x, y)
    if decision == "match":
        uf.union(a, b)
        for x, y in cannot:
            if uf.find(x) == uf.find(y):
                raise ReviewConflict(
                    f"records {a} and {b} cannot be confirmed as one person: records {x} and {y}"
                    f" were decided not a match (decision {cons.decision_of[(x, y)]})",
                    hint="undo that decision first if it was wrong",
                )
    elif decision == "not-a-match" and uf.find(a) == uf.find(b):
        root = uf.find(a)
        chain = sorted(cons.decision_of[p] for p in must if uf.find(p[0]) == root)
        raise ReviewConflict(
            f"records {a} and {b} are confirmed as one person by match decision(s) "
            + ", ".join(str(d) for d in chain),
            hint="undo the match decision that was wrong first",
        )


def _recluster(
    conn: Connection,
    seeds: Sequence[int],
    *,
    decision_id: int,
    reason: str,
    extra_from: int | None,
) -> IndexChange:
    """Re-cluster the persons of the seed records from their stored links and the
    constraints now in force; ids retired by decision ``extra_from`` may come back."""
    rec, old_code, el, er, ep = _component(conn, seeds)
    if not len(rec):
        return IndexChange()
    pos_l = np.searchsorted(rec, el).astype(np.int64)
    pos_r = np.searchsorted(rec, er).astype(np.int64)
    cons = read_constraints(conn)
    ml, mr = constraint_positions(rec, cons.must_link)
    cl_, cr_ = constraint_positions(rec, cons.cannot_link)
    clustering = cluster_nodes(
        len(rec),
        pos_l,
        pos_r,
        ep,
        must_l=ml,
        must_r=mr,
        cannot_l=cl_,
        cannot_r=cr_,
    )
    extra_pos, extra_code = _retired_by(conn, extra_from, rec)
    applied = apply_clustering(
        conn,
        rec,
        clustering,
        old_code,
        pos_l,
        pos_r,
        ep,
        scope="local",
        run_id=None,
        decision_id=decision_id,
        reason=reason,
        extra_pos=extra_pos,
        extra_code=extra_code,
    )
    return IndexChange(
        persons=applied.persons_touched,
        records_changed=applied.records_changed,
        created=applied.created,
        retired=applied.retired,
        reinstated=applied.reinstated,
        merged=applied.merged,
        split=applied.split,
    )


def _component(
    conn: Connection, seeds: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The persons of the seed records and every person linked to them through stored links
    (transitively): their records (sorted), person codes, and the links among them."""
    pids: set[str] = set(persons_of(conn, list(seeds)).values())
    done: set[str] = set()
    rec_code: dict[int, int] = {}
    links: dict[tuple[int, int], float] = {}
    while pids - done:
        todo = sorted(pids - done)
        done.update(todo)
        fresh: list[int] = []
        for rid, pid in sql.select_in(
            conn,
            "SELECT record_id, person_id FROM person_records WHERE person_id IN ({in_})",
            todo,
        ):
            rec_code[int(rid)] = parse_person_id(str(pid))
            fresh.append(int(rid))
        others: set[int] = set()
        for column in ("record_l", "record_r"):
            for a, b, p in sql.select_in(
                conn,
                "SELECT record_l, record_r, probability FROM person_links "
                f"WHERE {column} IN ({{in_}})",
                fresh,
            ):
                links[(int(a), int(b))] = float(p)
                others.update((int(a), int(b)))
        outside = sorted(others - rec_code.keys())
        if outside:
            pids.update(persons_of(conn, outside).values())
    rec = np.asarray(sorted(rec_code), dtype=np.int64)
    codes = np.asarray([rec_code[int(r)] for r in rec], dtype=np.int64)
    inside = [(a, b, p) for (a, b), p in links.items() if a in rec_code and b in rec_code]
    return (
        rec,
        codes,
        np.asarray([x[0] for x in inside], dtype=np.int64),
        np.asarray([x[1] for x in inside], dtype=np.int64),
        np.asarray([x[2] for x in inside], dtype=np.float64),
    )


def _retired_by(
    conn: Connection, decision_id: int | None, rec: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Persons a decision merged away (now retired) and the records they had then."""
    pos: list[int] = []
    code: list[int] = []
    if decision_id is not None:
        rows = conn.execute(
            select(person_history.c.person_id, person_history.c.to_ids, person_history.c.moved)
            .where(
                person_history.c.decision_id == decision_id,
                person_history.c.event == "merge",
            )
            .order_by(person_history.c.id)
        )
        for pid, to_ids, moved in rows:
            if pid in json.loads(to_ids) or not moved:
                continue
            for rid in json.loads(moved):
                i = int(np.searchsorted(rec, rid))
                if i < len(rec) and int(rec[i]) == rid:
                    pos.append(i)
                    code.append(parse_person_id(pid))
    return np.asarray(pos, dtype=np.int64), np.asarray(code, dtype=np.int64)


def _review_rows(
    conn: Connection,
    pair: tuple[int, int],
    before: dict[int, str],
    decision_id: int,
    reason: str,
    stamp: datetime,
) -> None:
    after = persons_of(conn, list(pair))
    subjects = sorted({*before.values(), *after.values()})
    sql.bulk_insert(
        conn,
        person_history,
        ("person_id", "event", "from_ids", "to_ids", "records", "decision_id", "at", "reason"),
        (
            (
                pid,
                "review",
                json.dumps(sorted(set(before.values()))),
                json.dumps(sorted(set(after.values()))),
                0,
                decision_id,
                stamp,
                reason,
            )
            for pid in subjects
        ),
    )


def _with_persons(
    change: IndexChange, before: dict[int, str], after: dict[int, str]
) -> IndexChange:
    persons = sorted({*change.persons, *before.values(), *after.values()})
    return IndexChange(
        persons=persons,
        records_changed=change.records_changed,
        created=change.created,
        retired=change.retired,
        reinstated=change.reinstated,
        merged=change.merged,
        split=change.split,
    )
