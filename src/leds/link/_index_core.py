"""The person index's shared machinery: person ids, constraints, and applying a clustering of a
set of records to the stored index (ids carried over, history, links, bulk writes).

Used by :mod:`leds.link.index` (full runs, incremental attach) and :mod:`leds.link.review`
(decisions re-cluster only the persons they touch).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, func, select, update

from leds.errors import LedsError
from leds.link import _index_sql as sql
from leds.link._index_cluster import F64, I64, Clustering, carry_over
from leds.store.tables_link import (
    link_runs,
    person_history,
    person_links,
    person_records,
    persons,
    review_decisions,
)

PERSON_ID_RE = re.compile(r"^L\d{10}$")


class PersonIndexError(LedsError):
    """The person index was asked something it cannot do (unknown run, person, record...)."""


def format_person_id(code: int) -> str:
    return f"L{code:010d}"


def pid_strings(codes: I64) -> npt.NDArray[np.object_]:
    """``format_person_id`` over an array (an object array of str)."""
    if not len(codes):
        return np.zeros(0, dtype=object)
    digits = np.char.zfill(np.asarray(codes, dtype=np.int64).astype("U10"), 10)
    return np.char.add("L", digits).astype(object)


def parse_person_id(person_id: str) -> int:
    if not isinstance(person_id, str) or not PERSON_ID_RE.match(person_id):
        raise PersonIndexError(
            f"invalid person id {person_id!r}",
            hint="a person id is 'L' followed by 10 digits, e.g. L0000000042",
        )
    return int(person_id[1:])


@dataclass(frozen=True, slots=True)
class Constraints:
    """Review decisions in force: pairs (a < b) that must / must not be one person."""

    must_link: list[tuple[int, int]]
    cannot_link: list[tuple[int, int]]
    decision_of: dict[tuple[int, int], int]  # pair -> id of the decision in force


def read_constraints(conn: Connection) -> Constraints:
    rows = conn.execute(
        select(
            review_decisions.c.id,
            review_decisions.c.record_a,
            review_decisions.c.record_b,
            review_decisions.c.decision,
        )
        .where(review_decisions.c.undone_at.is_(None))
        .order_by(review_decisions.c.id)
    )
    must: list[tuple[int, int]] = []
    cannot: list[tuple[int, int]] = []
    decision_of: dict[tuple[int, int], int] = {}
    for did, a, b, decision in rows:
        pair = (int(a), int(b))
        decision_of[pair] = int(did)
        if decision == "match":
            must.append(pair)
        elif decision == "not-a-match":
            cannot.append(pair)
    return Constraints(must, cannot, decision_of)


def constraint_positions(rec: I64, pairs: Sequence[tuple[int, int]]) -> tuple[I64, I64]:
    """Positions in ``rec`` (sorted) of the pairs with both records present."""
    if not pairs or not len(rec):
        z = np.zeros(0, dtype=np.int64)
        return z, z
    arr = np.asarray(pairs, dtype=np.int64)
    a = np.searchsorted(rec, arr[:, 0])
    b = np.searchsorted(rec, arr[:, 1])
    a_ok = (a < len(rec)) & (rec[np.minimum(a, len(rec) - 1)] == arr[:, 0])
    b_ok = (b < len(rec)) & (rec[np.minimum(b, len(rec) - 1)] == arr[:, 1])
    ok = a_ok & b_ok
    return a[ok].astype(np.int64), b[ok].astype(np.int64)


def next_person_code(conn: Connection) -> int:
    top = conn.execute(select(func.max(persons.c.person_id))).scalar()
    return 1 if top is None else int(top[1:]) + 1


def now() -> datetime:
    return datetime.now(UTC)


def utc(value: datetime | None) -> datetime | None:
    """A stored timestamp as an aware UTC datetime (SQLite hands them back naive)."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


_LOCK_KEY = 0x1EDC_0004  # PostgreSQL advisory lock: one writer of the person index at a time


def lock_index(conn: Connection) -> None:
    """Serialise writers of the person index (new ids are max + 1). SQLite write
    transactions are already exclusive; PostgreSQL takes a transaction advisory lock."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")


def run_threshold(conn: Connection, run_id: int) -> tuple[str, float]:
    row = conn.execute(
        select(link_runs.c.kind, link_runs.c.threshold).where(link_runs.c.id == run_id)
    ).one_or_none()
    if row is None:
        raise PersonIndexError(f"no link run {run_id}", hint="start one with start_run()")
    return str(row.kind), float(row.threshold)


@dataclass
class Applied:
    """What applying a clustering changed."""

    created: list[str] = field(default_factory=list)
    merged: list[tuple[list[str], str]] = field(default_factory=list)
    split: list[tuple[str, list[str]]] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    reinstated: list[str] = field(default_factory=list)
    records_changed: list[int] = field(default_factory=list)
    attached: int = 0
    unchanged_persons: int = 0
    persons_touched: list[str] = field(default_factory=list)


@dataclass
class _Event:
    event: str
    subject: int
    from_codes: list[int]
    to_codes: list[int]
    records: int
    moved: list[int] | None = None


def apply_clustering(
    conn: Connection,
    rec: I64,
    cl: Clustering,
    old_code: I64,
    el: I64,
    er: I64,
    ep: F64,
    *,
    scope: str,
    run_id: int | None,
    decision_id: int | None,
    reason: str,
    extra_pos: I64 | None = None,
    extra_code: I64 | None = None,
    removed: Sequence[int] = (),
) -> Applied:
    """Write a clustering of the records ``rec`` (sorted ids) to the index.

    ``old_code``: each record's current person code (-1: none). ``el``/``er``/``ep``: the
    links clustered (positions in ``rec``, probability), all stored in ``person_links``.
    ``scope``: "full" (the whole index: links are diffed, persons left without records
    retire) or "local" (a closed component of persons: their links are rebuilt, nothing
    outside is touched).
    ``extra_pos``/``extra_code``: further candidate ids (persons a decision being undone
    retired), which may be reinstated. ``removed``: records leaving the index (full scope).
    """
    stamp = now()
    labels, count = cl.labels, cl.count
    has_old = old_code >= 0
    member_pos = np.flatnonzero(has_old).astype(np.int64)
    member_code = old_code[has_old]
    cand_pos, cand_code = member_pos, member_code
    code_size: dict[int, int] | None = None
    if extra_pos is not None and extra_code is not None and len(extra_pos):
        cand_pos = np.concatenate([member_pos, extra_pos])
        cand_code = np.concatenate([member_code, extra_code])
        codes, sizes = np.unique(cand_code, return_counts=True)
        code_size = dict(zip(codes.tolist(), sizes.tolist(), strict=True))
    keep = carry_over(labels, count, cand_pos, cand_code, code_size)
    first_new = next_person_code(conn)
    fresh = np.flatnonzero(keep < 0)
    final = keep.copy()
    final[fresh] = first_new + np.arange(len(fresh), dtype=np.int64)
    rec_code = final[labels]
    changed = rec_code != old_code

    old_codes = np.unique(member_code)
    kept_codes = keep[keep >= 0]
    reinstated = np.setdiff1d(kept_codes, old_codes)
    retired_codes = np.setdiff1d(old_codes, final)

    events = _events(labels, count, final, member_pos, member_code, old_code, scope == "local")
    out = Applied()
    out.created = pid_strings(final[fresh]).tolist()
    out.reinstated = [format_person_id(int(c)) for c in reinstated]
    out.records_changed = sorted([*rec[changed].tolist(), *removed])
    sizes = np.bincount(labels, minlength=count)
    if len(member_pos):
        base = int(max(final.max(), member_code.max())) + 1
        uniq_keys, n_pairs = np.unique(labels[member_pos] * base + member_code, return_counts=True)
        c_of = uniq_keys // base
        p_of = uniq_keys % base
        old_sizes = dict(zip(*np.unique(member_code, return_counts=True), strict=True))
        same = (final[c_of] == p_of) & (n_pairs == sizes[c_of])
        out.unchanged_persons = int(
            sum(1 for c, p in zip(c_of[same], p_of[same], strict=True) if old_sizes[p] == sizes[c])
        )
    for ev in events:
        if ev.event == "merge":
            out.merged.append(
                ([format_person_id(c) for c in ev.from_codes], format_person_id(ev.to_codes[0]))
            )
        elif ev.event == "split":
            out.split.append(
                (format_person_id(ev.from_codes[0]), [format_person_id(c) for c in ev.to_codes])
            )
    # Events are stored once per person concerned: report each once.
    merged = {(tuple(f), t) for f, t in out.merged}
    out.merged = [(list(f), t) for f, t in sorted(merged, key=lambda m: (m[1], m[0]))]
    splits = {(f, tuple(t)) for f, t in out.split}
    out.split = [(f, list(t)) for f, t in sorted(splits)]
    out.attached = int(sum(ev.records for ev in events if ev.event == "attach"))

    # ---- writes ---------------------------------------------------------------------------
    stored = sql.bind_value(conn, persons, "created_at", stamp)
    final_str = pid_strings(final)
    if len(fresh):
        sql.bulk_insert(
            conn,
            persons,
            ("person_id", "created_at", "created_run_id", "status"),
            ((pid, stored, run_id, "active") for pid in final_str[fresh].tolist()),
            convert=False,
        )
    if len(reinstated):
        conn.execute(
            update(persons)
            .where(persons.c.person_id.in_(out.reinstated))
            .values(status="active", retired_at=None)
        )
    moved_ids = rec[changed & has_old].tolist()
    sql.delete_in(conn, "person_records", "record_id", [*moved_ids, *removed])
    sql.bulk_insert(
        conn,
        person_records,
        ("record_id", "person_id", "run_id", "assigned_at"),
        (
            (r, pid, run_id, stored)
            for r, pid in zip(
                rec[changed].tolist(), final_str[labels[changed]].tolist(), strict=True
            )
        ),
        convert=False,
    )
    _write_links(conn, rec, cl, el, er, ep, scope)
    retired = [format_person_id(int(c)) for c in retired_codes]
    if scope == "full":  # persons left without records (erased, or no longer linked)
        empty = conn.execute(
            select(persons.c.person_id).where(
                persons.c.status == "active",
                ~select(person_records.c.record_id)
                .where(person_records.c.person_id == persons.c.person_id)
                .exists(),
            )
        ).scalars()
        covered = set(retired)
        for pid in empty:
            if pid not in covered:
                retired.append(pid)
                events.append(_Event("retire", parse_person_id(pid), [parse_person_id(pid)], [], 0))
    retired.sort()
    out.retired = retired
    for chunk in sql.chunks(retired, sql.IN_CHUNK):
        conn.execute(
            update(persons)
            .where(persons.c.person_id.in_(chunk))
            .values(status="retired", retired_at=stamp)
        )
    sql.bulk_insert(
        conn,
        person_history,
        (
            "person_id",
            "event",
            "from_ids",
            "to_ids",
            "records",
            "run_id",
            "decision_id",
            "at",
            "reason",
            "moved",
        ),
        (
            (
                format_person_id(ev.subject),
                ev.event,
                json.dumps([format_person_id(c) for c in ev.from_codes]),
                json.dumps([format_person_id(c) for c in ev.to_codes]),
                ev.records,
                run_id,
                decision_id,
                stamp,
                reason,
                None if ev.moved is None else json.dumps(rec[ev.moved].tolist()),
            )
            for ev in events
        ),
    )
    if scope == "full":  # new persons, from arrays
        new_clusters = np.flatnonzero(np.bincount(labels[member_pos], minlength=count) == 0)
        sql.bulk_insert(
            conn,
            person_history,
            ("person_id", "event", "from_ids", "to_ids", "records", "run_id", "at", "reason"),
            (
                (pid, "new", "[]", f'["{pid}"]', n, run_id, stored, reason)
                for pid, n in zip(
                    final_str[new_clusters].tolist(), sizes[new_clusters].tolist(), strict=True
                )
            ),
            convert=False,
        )
    else:
        touched = set(out.retired) | set(out.created) | set(out.reinstated)
        for ev in events:
            touched.update(format_person_id(c) for c in (*ev.from_codes, *ev.to_codes))
        out.persons_touched = sorted(touched)
    return out


def _events(
    labels: I64,
    count: int,
    final: I64,
    member_pos: I64,
    member_code: I64,
    old_code: I64,
    with_moved: bool,
) -> list[_Event]:
    events: list[_Event] = []
    sizes = np.bincount(labels, minlength=count)
    overlap: dict[tuple[int, int], int] = {}
    olds_of: dict[int, list[int]] = defaultdict(list)
    clusters_of: dict[int, list[int]] = defaultdict(list)
    if len(member_pos):
        base = int(member_code.max()) + 1
        keys, n = np.unique(labels[member_pos] * base + member_code, return_counts=True)
        uniq = np.stack([keys // base, keys % base], axis=1)
        c_n = np.bincount(uniq[:, 0], minlength=count)
        p_vals, p_inv, p_n = np.unique(uniq[:, 1], return_inverse=True, return_counts=True)
        interesting = (c_n[uniq[:, 0]] > 1) | (p_n[p_inv] > 1)
        for (c, p), k in zip(uniq[interesting].tolist(), n[interesting].tolist(), strict=True):
            overlap[(c, p)] = k
            olds_of[c].append(p)
            clusters_of[p].append(c)
        del p_vals
    with_old = np.zeros(count, dtype=np.int64)
    if len(member_pos):
        with_old = np.bincount(labels[member_pos], minlength=count)
    # new persons: clusters none of whose records had a person (a full run writes these
    # from arrays, see apply_clustering)
    if with_moved:
        for c in np.flatnonzero(with_old == 0).tolist():
            code = int(final[c])
            events.append(_Event("new", code, [], [code], int(sizes[c]), _members(labels, c)))
    # attach: records without a person joining a cluster that had records with one
    gained = sizes - with_old
    for c in np.flatnonzero((with_old > 0) & (gained > 0)).tolist():
        code = int(final[c])
        moved = None
        if with_moved:
            idx = np.flatnonzero((labels == c) & (old_code < 0))
            moved = idx.tolist()
        events.append(_Event("attach", code, [], [code], int(gained[c]), moved))
    for c, olds in sorted(olds_of.items()):
        if len(olds) < 2:
            continue
        to = int(final[c])
        olds = sorted(olds)
        for s in sorted({*olds, to}):
            if s == to:
                k = int(sizes[c]) - overlap.get((c, to), 0)
                moved = (
                    np.flatnonzero((labels == c) & (old_code != to)).tolist()
                    if with_moved
                    else None
                )
            else:
                k = overlap[(c, s)]
                moved = (
                    np.flatnonzero((labels == c) & (old_code == s)).tolist() if with_moved else None
                )
            events.append(_Event("merge", s, olds, [to], k, moved))
    for p, cs in sorted(clusters_of.items()):
        if len(cs) < 2:
            continue
        to_codes = sorted(int(final[c]) for c in cs)
        for s in sorted({p, *to_codes}):
            if s == p:
                k = sum(overlap[(c, p)] for c in cs if int(final[c]) != p)
                moved = (
                    np.flatnonzero((old_code == p) & (final[labels] != p)).tolist()
                    if with_moved
                    else None
                )
            else:
                c = next(c for c in cs if int(final[c]) == s)
                k = overlap[(c, p)]
                moved = (
                    np.flatnonzero((labels == c) & (old_code == p)).tolist() if with_moved else None
                )
            events.append(_Event("split", s, [p], to_codes, k, moved))
    return events


def _members(labels: I64, c: int) -> list[int]:
    return np.flatnonzero(labels == c).tolist()


LINK_KINDS = ("held", "within", "blocked")


def link_kinds(cl: Clustering, el: I64, er: I64) -> I64:
    """0 held (a forest edge), 1 within (redundant, same person), 2 blocked (across persons)."""
    kinds = np.where(cl.labels[el] == cl.labels[er], 1, 2).astype(np.int64)
    if len(el) and len(cl.forest_l):
        top = int(max(el.max(), er.max(), cl.forest_r.max())) + 1
        lo, hi = np.minimum(el, er), np.maximum(el, er)
        held = ~cl.forest_decision
        forest_keys = cl.forest_l[held] * top + cl.forest_r[held]
        kinds[np.isin(lo * top + hi, forest_keys)] = 0
    return kinds


def _write_links(
    conn: Connection, rec: I64, cl: Clustering, el: I64, er: I64, ep: F64, scope: str
) -> None:
    """Store the links (all pairs at or above the threshold, as record ids) among ``rec``:
    a diff over the whole table (full scope) or a rebuild (local scope: ``rec`` is a closed
    component, so every stored link touching it lies inside it)."""
    kinds = link_kinds(cl, el, er)
    new_l = rec[np.minimum(el, er)]
    new_r = rec[np.maximum(el, er)]
    new_p = ep
    if len(new_l):  # one row per pair (the strongest)
        top0 = int(new_r.max()) + 1
        order = np.lexsort((-new_p, new_l * top0 + new_r))
        keys = (new_l * top0 + new_r)[order]
        first = np.ones(len(keys), dtype=bool)
        first[1:] = keys[1:] != keys[:-1]
        pick = order[first]
        new_l, new_r, new_p, kinds = new_l[pick], new_r[pick], new_p[pick], kinds[pick]
    if scope == "local":
        existing = list(
            sql.select_in(
                conn,
                "SELECT record_l, record_r FROM person_links WHERE record_l IN ({in_})",
                rec.tolist(),
            )
        )
        _delete_links(conn, [(int(a), int(b)) for a, b in existing])
    else:
        old = conn.exec_driver_sql(
            "SELECT record_l, record_r, probability, kind FROM person_links"
        ).fetchall()
        old_l = np.fromiter((r[0] for r in old), dtype=np.int64, count=len(old))
        old_r = np.fromiter((r[1] for r in old), dtype=np.int64, count=len(old))
        old_p = np.fromiter((r[2] for r in old), dtype=np.float64, count=len(old))
        old_k = np.fromiter((LINK_KINDS.index(r[3]) for r in old), dtype=np.int64, count=len(old))
        del old
        top = int(max(new_r.max(initial=0), old_r.max(initial=0))) + 1
        _, in_new, in_old = np.intersect1d(
            new_l * top + new_r, old_l * top + old_r, assume_unique=True, return_indices=True
        )
        equal = (kinds[in_new] == old_k[in_old]) & (np.abs(new_p[in_new] - old_p[in_old]) < 1e-9)
        same_new = np.zeros(len(new_l), dtype=bool)
        same_new[in_new[equal]] = True
        same_old = np.zeros(len(old_l), dtype=bool)
        same_old[in_old[equal]] = True
        drop_l, drop_r = old_l[~same_old], old_r[~same_old]
        _delete_links(conn, list(zip(drop_l.tolist(), drop_r.tolist(), strict=True)))
        new_l, new_r, new_p, kinds = (
            new_l[~same_new],
            new_r[~same_new],
            new_p[~same_new],
            kinds[~same_new],
        )
    sql.bulk_insert(
        conn,
        person_links,
        ("record_l", "record_r", "probability", "kind"),
        (
            (a, b, p, LINK_KINDS[k])
            for a, b, p, k in zip(
                new_l.tolist(), new_r.tolist(), new_p.tolist(), kinds.tolist(), strict=True
            )
        ),
    )


def _contains(sorted_ids: I64, value: int) -> bool:
    i = int(np.searchsorted(sorted_ids, value))
    return i < len(sorted_ids) and int(sorted_ids[i]) == value


def _delete_links(conn: Connection, pairs: list[tuple[int, int]]) -> None:
    if not pairs:
        return
    m = sql.mark(conn)
    stmt = f"DELETE FROM person_links WHERE record_l = {m} AND record_r = {m}"
    for chunk in sql.chunks(pairs, sql.CHUNK):
        conn.exec_driver_sql(stmt, chunk)


def read_assignments(conn: Connection) -> tuple[I64, I64]:
    """All (record id, person code) pairs of the index, sorted by record id."""
    rows = conn.exec_driver_sql("SELECT record_id, person_id FROM person_records").fetchall()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    codes = np.fromiter((int(r[1][1:]) for r in rows), dtype=np.int64, count=len(rows))
    order = np.argsort(ids, kind="stable")
    return ids[order], codes[order]


def codes_for(rec: I64, ids: I64, codes: I64) -> I64:
    """Person code of each of ``rec`` (-1: none) given sorted (ids, codes)."""
    out = np.full(len(rec), -1, dtype=np.int64)
    if not len(ids) or not len(rec):
        return out
    pos = np.searchsorted(ids, rec)
    ok = pos < len(ids)
    ok[ok] = ids[pos[ok]] == rec[ok]
    out[ok] = codes[pos[ok]]
    return out


def any_record(rows: Any) -> list[int]:
    return [int(r[0]) for r in rows]
