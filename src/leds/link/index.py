"""The person index: clusters of person records become persons with stable ids.

A **full run** (:func:`cluster_full`) clusters every person record from the model's pairs at or
above the threshold: a constrained greedy union-find in descending probability, where review
decisions in force are constraints — a ``match`` is a must-link (taken first), a
``not-a-match`` a cannot-link that no edge, and so no transitive chain, may cross. Each new
cluster keeps the id of the old person it overlaps most (each old id at most once; ties: the
older id, then the cluster with the smallest record id); other clusters get new ids, which are
never reused. Merges, splits, new persons, attachments and retirements are written to
``person_history`` (one row per person concerned), and the links holding each person together
(the maximum spanning forest of its links) to ``person_links``, so that a review decision can
later re-cluster just the persons it touches (:mod:`leds.link.review`).

**Incremental attach** (:func:`attach`) adds new records without a full run, with the same
greedy rule, in which every existing person is one node and two existing persons may never be
joined. **Rule for a new record that links two existing persons**: the strongest links win, as
in a full run — the new record (or group of new records) joins the person of its strongest
link, and the link that would have merged the two existing persons is *not* followed: it is
stored as a ``blocked`` link and queued for review (reason ``joins-two-persons``). A reviewer's
``match`` then merges the two persons (with history); until then the index never merges
existing persons silently. (A later full run, which sees all links at once, may merge them;
that is recorded as a merge in that run's history.)

Records already in the index are left where they are by :func:`attach`.

All functions take a SQLAlchemy ``Connection`` inside the caller's transaction and never
write audit events; what they return says which records and persons changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import Connection, func, select, update

from leds.link import _index_sql as sql
from leds.link._index_cluster import I64, cluster_nodes
from leds.link._index_core import (
    Constraints,
    PersonIndexError,
    apply_clustering,
    codes_for,
    constraint_positions,
    format_person_id,
    lock_index,
    next_person_code,
    now,
    parse_person_id,
    read_assignments,
    read_constraints,
    run_threshold,
    utc,
)
from leds.link._index_queue import queue_for_review, queue_pairs
from leds.store.tables_link import (
    link_runs,
    person_history,
    person_links,
    person_records,
    persons,
)

__all__ = [
    "ClusterOutcome",
    "Constraints",
    "HistoryEvent",
    "PersonIndexError",
    "assignments",
    "attach",
    "cluster_full",
    "finish_run",
    "format_person_id",
    "history",
    "person_of",
    "persons_of",
    "queue_for_review",
    "records_of",
    "run_info",
    "start_run",
]

RUN_KINDS = ("full", "incremental")
Progress = Callable[[int], None] | None


@dataclass
class ClusterOutcome:
    """What a run did to the index (the lead's audit entry takes its ids from here)."""

    run_id: int
    persons: int  # active persons after the run
    created: list[str] = field(default_factory=list)
    merged: list[tuple[list[str], str]] = field(default_factory=list)  # (from ids, into id)
    split: list[tuple[str, list[str]]] = field(default_factory=list)  # (from id, into ids)
    records_changed: list[int] = field(default_factory=list)  # records whose person changed
    unchanged_persons: int = 0  # persons whose id and records are exactly as before
    retired: list[str] = field(default_factory=list)
    attached: int = 0  # records that joined an existing person
    queued: int = 0  # pairs queued for review by this step
    skipped: int = 0  # attach: records already in the index, left where they were

    def counts(self) -> dict[str, int]:
        return {
            "persons": self.persons,
            "created": len(self.created),
            "merged": len(self.merged),
            "split": len(self.split),
            "retired": len(self.retired),
            "records_changed": len(self.records_changed),
            "unchanged_persons": self.unchanged_persons,
            "attached": self.attached,
            "queued": self.queued,
            "skipped": self.skipped,
        }


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    id: int
    person_id: str
    event: str  # new | merge | split | attach | retire | review
    from_ids: list[str]
    to_ids: list[str]
    records: int
    run_id: int | None
    decision_id: int | None
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class RunInfo:
    id: int
    kind: str
    model_version: str
    threshold: float
    actor_id: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    counts: dict[str, int]


# ---- runs ---------------------------------------------------------------------------------
def start_run(
    conn: Connection, *, kind: str, model_version: str, threshold: float, actor_id: str
) -> int:
    """Open a link run (full or incremental) and return its id."""
    if kind not in RUN_KINDS:
        raise PersonIndexError(
            f"unknown link run kind {kind!r}", hint="use 'full' or 'incremental'"
        )
    _check_threshold(threshold)
    if not actor_id:
        raise PersonIndexError("a link run needs the id of the actor who started it")
    row = conn.execute(
        link_runs.insert().returning(link_runs.c.id),
        {
            "kind": kind,
            "model_version": model_version,
            "threshold": float(threshold),
            "actor_id": actor_id,
            "started_at": now(),
            "status": "running",
            "counts": "{}",
        },
    ).one()
    return int(row.id)


def finish_run(conn: Connection, run_id: int, outcome: ClusterOutcome) -> None:
    """Close a run, keeping its counts."""
    done = conn.execute(
        update(link_runs)
        .where(link_runs.c.id == run_id)
        .values(finished_at=now(), status="finished", counts=json.dumps(outcome.counts()))
    )
    if done.rowcount != 1:
        raise PersonIndexError(f"no link run {run_id}")


def run_info(conn: Connection, run_id: int) -> RunInfo:
    row = conn.execute(select(link_runs).where(link_runs.c.id == run_id)).one_or_none()
    if row is None:
        raise PersonIndexError(f"no link run {run_id}")
    return _run(row)


def recent_runs(conn: Connection, limit: int) -> list[RunInfo]:
    """The latest ``limit`` link runs, newest first."""
    rows = conn.execute(select(link_runs).order_by(link_runs.c.id.desc()).limit(limit))
    return [_run(row) for row in rows]


def _run(row: Any) -> RunInfo:
    try:
        counts = {str(k): int(v) for k, v in json.loads(row.counts or "{}").items()}
    except (ValueError, TypeError, AttributeError):
        counts = {}
    return RunInfo(
        id=int(row.id),
        kind=row.kind,
        model_version=row.model_version,
        threshold=float(row.threshold),
        actor_id=row.actor_id,
        started_at=utc(row.started_at) or row.started_at,
        finished_at=utc(row.finished_at),
        status=row.status,
        counts=counts,
    )


def _check_threshold(threshold: float) -> None:
    if not 0.0 < float(threshold) < 1.0:
        raise PersonIndexError(
            f"threshold {threshold} is not a probability strictly between 0 and 1",
            hint="e.g. 0.9",
        )


def _pair_arrays(pairs: pa.Table) -> tuple[I64, I64, np.ndarray, np.ndarray]:
    missing = {"id_l", "id_r", "match_probability", "match_weight"} - set(pairs.column_names)
    if missing:
        raise PersonIndexError(
            f"pairs table lacks column(s) {', '.join(sorted(missing))}",
            hint="pairs need id_l, id_r, match_weight, match_probability",
        )

    def col(name: str, dtype: type) -> np.ndarray:
        return np.asarray(pairs.column(name).to_numpy(zero_copy_only=False), dtype=dtype)

    return (
        col("id_l", np.int64),
        col("id_r", np.int64),
        col("match_probability", np.float64),
        col("match_weight", np.float64),
    )


# ---- full run -----------------------------------------------------------------------------
def cluster_full(
    conn: Connection,
    run_id: int,
    record_ids: pa.Array | Sequence[int],
    pairs: pa.Table,
    *,
    threshold: float,
    progress: Progress = None,
) -> ClusterOutcome:
    """Cluster all person records and write the index (stable ids, history, links).

    ``record_ids``: every person record to index (records indexed before but not given here
    leave the index). ``pairs``: the model's pairs (pairs below ``threshold`` are ignored).
    ``progress`` gets the number of records done at each of a few steps.
    """
    _check_threshold(threshold)
    run_threshold(conn, run_id)  # the run exists
    lock_index(conn)
    ids = (
        record_ids.to_numpy(zero_copy_only=False)
        if isinstance(record_ids, pa.Array)
        else record_ids
    )
    rec = np.unique(np.asarray(ids, dtype=np.int64))
    el, er, ep, _ = _pair_arrays(pairs)
    above = ep >= threshold
    el, er, ep = el[above], er[above], ep[above]
    known = _both_known(rec, el, er)
    pl = np.searchsorted(rec, el[known]).astype(np.int64)
    pr = np.searchsorted(rec, er[known]).astype(np.int64)
    ep = ep[known]
    cons = read_constraints(conn)
    ml, mr = constraint_positions(rec, cons.must_link)
    cl_, cr_ = constraint_positions(rec, cons.cannot_link)
    if progress:
        progress(0)
    clustering = cluster_nodes(
        len(rec), pl, pr, ep, must_l=ml, must_r=mr, cannot_l=cl_, cannot_r=cr_
    )
    if progress:
        progress(len(rec) // 2)
    old_ids, old_codes = read_assignments(conn)
    old_code = codes_for(rec, old_ids, old_codes)
    removed = np.setdiff1d(old_ids, rec, assume_unique=True).tolist()
    applied = apply_clustering(
        conn,
        rec,
        clustering,
        old_code,
        pl,
        pr,
        ep,
        scope="full",
        run_id=run_id,
        decision_id=None,
        reason=f"full link run {run_id} at threshold {threshold:g}",
        removed=removed,
    )
    if progress:
        progress(len(rec))
    return ClusterOutcome(
        run_id=run_id,
        persons=_active_persons(conn),
        created=applied.created,
        merged=applied.merged,
        split=applied.split,
        records_changed=applied.records_changed,
        unchanged_persons=applied.unchanged_persons,
        retired=applied.retired,
        attached=applied.attached,
    )


def _both_known(rec: I64, el: I64, er: I64) -> np.ndarray:
    if not len(rec):
        return np.zeros(len(el), dtype=bool)
    a = np.searchsorted(rec, el)
    b = np.searchsorted(rec, er)
    ok_a = (a < len(rec)) & (rec[np.minimum(a, len(rec) - 1)] == el)
    ok_b = (b < len(rec)) & (rec[np.minimum(b, len(rec) - 1)] == er)
    return np.asarray(ok_a & ok_b)


def _active_persons(conn: Connection) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(persons).where(persons.c.status == "active")
        ).scalar_one()
    )


# ---- incremental --------------------------------------------------------------------------
def attach(
    conn: Connection,
    run_id: int,
    new_record_ids: Sequence[int],
    pairs: pa.Table,
    *,
    threshold: float,
) -> ClusterOutcome:
    """Attach new records to existing persons, or create persons for them (see the module
    docstring for the rule when a new record links two existing persons)."""
    _check_threshold(threshold)
    run_threshold(conn, run_id)
    lock_index(conn)
    stamp = now()
    new_all = np.unique(np.asarray(list(new_record_ids), dtype=np.int64))
    held = _assigned(conn, new_all.tolist())
    new = np.setdiff1d(new_all, np.asarray(sorted(held), dtype=np.int64), assume_unique=True)
    skipped = len(new_all) - len(new)
    el, er, ep, ew = _pair_arrays(pairs)
    above = ep >= threshold
    el, er, ep, ew = el[above], er[above], ep[above], ew[above]
    lo, hi = np.minimum(el, er), np.maximum(el, er)
    lo_new = np.isin(lo, new)
    hi_new = np.isin(hi, new)
    # The other end of new-vs-existing pairs: its person (or none: not indexed -> ignored).
    other = np.where(lo_new & ~hi_new, hi, np.where(hi_new & ~lo_new, lo, -1))
    others = np.unique(other[other >= 0])
    person_of_other = persons_of(conn, others.tolist())
    person_codes = np.array(
        sorted({parse_person_id(p) for p in person_of_other.values()}), dtype=np.int64
    )
    k, m = len(new), len(person_codes)
    # nodes: new records 0..k-1, then one node per existing person k..k+m-1
    node_of_other = {
        r: k + int(np.searchsorted(person_codes, parse_person_id(p)))
        for r, p in person_of_other.items()
    }
    nn = lo_new & hi_new
    ne = (lo_new ^ hi_new) & np.isin(other, np.fromiter(node_of_other, dtype=np.int64))
    new_end = np.where(lo_new, lo, hi)[ne]
    e_l = np.concatenate([np.searchsorted(new, lo[nn]), np.searchsorted(new, new_end)])
    e_r = np.concatenate(
        [
            np.searchsorted(new, hi[nn]),
            np.fromiter((node_of_other[int(x)] for x in other[ne]), dtype=np.int64),
        ]
    )
    e_p = np.concatenate([ep[nn], ep[ne]])
    e_w = np.concatenate([ew[nn], ew[ne]])
    # the record pair behind each edge (for the stored links and the review queue)
    e_rec_l = np.concatenate([lo[nn], new_end])
    e_rec_r = np.concatenate([hi[nn], other[ne]])

    cons = read_constraints(conn)
    ml, mr = _constraint_nodes(cons.must_link, new, conn, person_codes, k)
    cl_, cr_ = _constraint_nodes(cons.cannot_link, new, conn, person_codes, k)
    tags = np.concatenate([np.full(k, -1, dtype=np.int64), np.arange(m, dtype=np.int64)])
    clustering = cluster_nodes(
        k + m,
        e_l.astype(np.int64),
        e_r.astype(np.int64),
        e_p,
        must_l=ml,
        must_r=mr,
        cannot_l=cl_,
        cannot_r=cr_,
        tags=tags,
    )
    labels = clustering.labels
    person_of_cluster = np.full(clustering.count, -1, dtype=np.int64)
    if m:
        person_of_cluster[labels[k:]] = person_codes
    first_new = next_person_code(conn)
    fresh_clusters = np.unique(labels[:k][person_of_cluster[labels[:k]] < 0])
    code_of_cluster = person_of_cluster.copy()
    code_of_cluster[fresh_clusters] = first_new + np.arange(len(fresh_clusters))
    rec_code = code_of_cluster[labels[:k]]

    # the strongest record pair behind each pair of nodes
    edge_key: dict[tuple[int, int], tuple[int, int, float]] = {}
    for i in np.lexsort((e_r, e_l, -e_p)).tolist():
        key = (min(int(e_l[i]), int(e_r[i])), max(int(e_l[i]), int(e_r[i])))
        if key not in edge_key:
            ra, rb = int(e_rec_l[i]), int(e_rec_r[i])
            edge_key[key] = (min(ra, rb), max(ra, rb), float(e_w[i]))

    # every link at or above the threshold is stored (kinds as in a full run)
    forest = {
        (a, b)
        for a, b, dec in zip(
            clustering.forest_l.tolist(),
            clustering.forest_r.tolist(),
            clustering.forest_decision.tolist(),
            strict=True,
        )
        if not dec
    }
    links: dict[tuple[int, int], tuple[int, int, float, str]] = {}
    for i in np.lexsort((e_r, e_l, -e_p)).tolist():
        a, b = sorted((int(e_l[i]), int(e_r[i])))
        ra, rb = sorted((int(e_rec_l[i]), int(e_rec_r[i])))
        if (ra, rb) in links:
            continue
        if labels[a] != labels[b]:
            kind = "blocked"
        elif (a, b) in forest and edge_key[(a, b)][:2] == (ra, rb):
            kind = "held"
        else:
            kind = "within"
        links[(ra, rb)] = (ra, rb, float(e_p[i]), kind)
    to_queue: list[tuple[int, int, float, float]] = []
    for a, b in zip(clustering.blocked_l.tolist(), clustering.blocked_r.tolist(), strict=True):
        pair = edge_key.get((a, b))
        pa_, pb_ = person_of_cluster[labels[a]], person_of_cluster[labels[b]]
        if pair is not None and pa_ >= 0 and pb_ >= 0 and pa_ != pb_:
            to_queue.append((pair[0], pair[1], links[pair[:2]][2], pair[2]))

    # ---- writes ---------------------------------------------------------------------------
    created = [format_person_id(int(c)) for c in code_of_cluster[fresh_clusters].tolist()]
    sql.bulk_insert(
        conn,
        persons,
        ("person_id", "created_at", "created_run_id", "status"),
        ((pid, stamp, run_id, "active") for pid in created),
    )
    sql.delete_in(conn, "person_links", "record_l", new.tolist())
    sql.delete_in(conn, "person_links", "record_r", new.tolist())
    sql.bulk_insert(
        conn,
        person_records,
        ("record_id", "person_id", "run_id", "assigned_at"),
        (
            (int(r), format_person_id(int(c)), run_id, stamp)
            for r, c in zip(new.tolist(), rec_code.tolist(), strict=True)
        ),
    )
    sql.bulk_insert(
        conn, person_links, ("record_l", "record_r", "probability", "kind"), links.values()
    )
    reason = f"incremental link run {run_id} at threshold {threshold:g}"
    attached_codes, attached_n = np.unique(
        rec_code[np.isin(rec_code, person_codes)], return_counts=True
    )
    fresh_codes, fresh_n = np.unique(rec_code[~np.isin(rec_code, person_codes)], return_counts=True)
    rows = [
        (format_person_id(c), "attach", "[]", json.dumps([format_person_id(c)]), n)
        for c, n in zip(attached_codes.tolist(), attached_n.tolist(), strict=True)
    ] + [
        (format_person_id(c), "new", "[]", json.dumps([format_person_id(c)]), n)
        for c, n in zip(fresh_codes.tolist(), fresh_n.tolist(), strict=True)
    ]
    sql.bulk_insert(
        conn,
        person_history,
        ("person_id", "event", "from_ids", "to_ids", "records", "run_id", "at", "reason"),
        ((*row, run_id, stamp, reason) for row in rows),
    )
    queued = queue_pairs(conn, run_id, to_queue, reason="joins-two-persons") if to_queue else 0
    touched = len(attached_codes)
    return ClusterOutcome(
        run_id=run_id,
        persons=_active_persons(conn),
        created=created,
        records_changed=new.tolist(),
        unchanged_persons=_active_persons(conn) - touched - len(created),
        attached=int(attached_n.sum()),
        queued=queued,
        skipped=skipped,
    )


def _constraint_nodes(
    pairs: list[tuple[int, int]],
    new: I64,
    conn: Connection,
    person_codes: I64,
    k: int,
) -> tuple[I64, I64]:
    """Decision pairs touching a new record, as attach nodes (an indexed record -> its
    person's node, when that person takes part in this attach)."""
    touching = [(a, b) for a, b in pairs if _has(new, a) or _has(new, b)]
    others = sorted({x for pair in touching for x in pair if not _has(new, x)})
    of = persons_of(conn, others) if others else {}
    ls: list[int] = []
    rs: list[int] = []
    for a, b in touching:
        na, nb = _node(a, new, of, person_codes, k), _node(b, new, of, person_codes, k)
        if na is not None and nb is not None and na != nb:
            ls.append(na)
            rs.append(nb)
    return np.asarray(ls, dtype=np.int64), np.asarray(rs, dtype=np.int64)


def _node(record: int, new: I64, of: dict[int, str], person_codes: I64, k: int) -> int | None:
    if _has(new, record):
        return int(np.searchsorted(new, record))
    pid = of.get(record)
    if pid is None:
        return None
    code = parse_person_id(pid)
    i = int(np.searchsorted(person_codes, code))
    if i < len(person_codes) and int(person_codes[i]) == code:
        return k + i
    return None


def _has(sorted_ids: I64, value: int) -> bool:
    i = int(np.searchsorted(sorted_ids, value))
    return i < len(sorted_ids) and int(sorted_ids[i]) == value


def _assigned(conn: Connection, record_ids: Sequence[int]) -> set[int]:
    return {
        int(r[0])
        for r in sql.select_in(
            conn, "SELECT record_id FROM person_records WHERE record_id IN ({in_})", record_ids
        )
    }


# ---- reads --------------------------------------------------------------------------------
def person_of(conn: Connection, record_id: int) -> str | None:
    """The person id of one record (None: not in the index)."""
    return conn.execute(
        select(person_records.c.person_id).where(person_records.c.record_id == int(record_id))
    ).scalar_one_or_none()


def persons_of(conn: Connection, record_ids: Sequence[int]) -> dict[int, str]:
    """Person id of each record in the index (records not in it are absent)."""
    out: dict[int, str] = {}
    uniq = sorted({int(r) for r in record_ids})
    for rid, pid in sql.select_in(
        conn,
        "SELECT record_id, person_id FROM person_records WHERE record_id IN ({in_})",
        uniq,
    ):
        out[int(rid)] = str(pid)
    return out


def records_of(conn: Connection, person_id: str) -> list[int]:
    """The person records of a person (sorted; [] for a retired or unknown person)."""
    parse_person_id(person_id)
    rows = conn.execute(
        select(person_records.c.record_id)
        .where(person_records.c.person_id == person_id)
        .order_by(person_records.c.record_id)
    )
    return [int(r) for r in rows.scalars()]


def person_status(conn: Connection, person_id: str) -> str | None:
    """'active', 'retired', or None for an id never issued."""
    parse_person_id(person_id)
    return conn.execute(
        select(persons.c.status).where(persons.c.person_id == person_id)
    ).scalar_one_or_none()


def history(conn: Connection, person_id: str) -> list[HistoryEvent]:
    """Everything that happened to a person id, oldest first."""
    parse_person_id(person_id)
    rows = conn.execute(
        select(person_history)
        .where(person_history.c.person_id == person_id)
        .order_by(person_history.c.id)
    )
    return [
        HistoryEvent(
            id=int(r.id),
            person_id=r.person_id,
            event=r.event,
            from_ids=json.loads(r.from_ids),
            to_ids=json.loads(r.to_ids),
            records=int(r.records),
            run_id=None if r.run_id is None else int(r.run_id),
            decision_id=None if r.decision_id is None else int(r.decision_id),
            at=utc(r.at) or r.at,
            reason=r.reason,
        )
        for r in rows
    ]


def assignments(conn: Connection) -> dict[int, str]:
    """The whole index: record id -> person id (for evaluation)."""
    ids, codes = read_assignments(conn)
    return {
        int(r): format_person_id(int(c)) for r, c in zip(ids.tolist(), codes.tolist(), strict=True)
    }


def links_of(conn: Connection, record_ids: Sequence[int]) -> list[tuple[int, int, float, str]]:
    """Stored links touching the records: (record_l, record_r, probability, kind)."""
    uniq = sorted({int(r) for r in record_ids})
    out: set[tuple[int, int, float, str]] = set()
    for column in ("record_l", "record_r"):
        for a, b, p, kind in sql.select_in(
            conn,
            "SELECT record_l, record_r, probability, kind FROM person_links "
            f"WHERE {column} IN ({{in_}})",
            uniq,
        ):
            out.add((int(a), int(b), float(p), str(kind)))
    return sorted(out)
