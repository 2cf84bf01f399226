"""The review queue's writes (shared by the index's attach step and :mod:`leds.link.review`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
from sqlalchemy import Connection, bindparam, update

from leds.link import _index_sql as sql
from leds.link._index_core import PersonIndexError, now, read_constraints, run_threshold
from leds.store.tables_link import review_queue


def threshold_weight(threshold: float) -> float:
    """The match weight (log2 Bayes factor) of a probability: log2(t / (1 - t))."""
    return math.log2(threshold / (1.0 - threshold))


def queue_for_review(
    conn: Connection, run_id: int, pairs: pa.Table, *, low: float, high: float
) -> int:
    """Queue the pairs whose probability lies in [low, high] for review, most uncertain first
    (|match weight - threshold weight|). Pairs with a decision in force are left out. After a
    full run, pending near-threshold items the run no longer puts in the band are marked
    ``superseded``. Returns how many pairs are now pending from this run."""
    if not 0.0 <= low < high <= 1.0:
        raise PersonIndexError(
            f"review band [{low}, {high}] is not 0 <= low < high <= 1", hint="e.g. 0.5 and 0.99"
        )
    kind, _ = run_threshold(conn, run_id)
    p = np.asarray(pairs.column("match_probability").to_numpy(zero_copy_only=False), np.float64)
    band = np.flatnonzero((p >= low) & (p <= high))
    l_ = np.asarray(pairs.column("id_l").to_numpy(zero_copy_only=False), np.int64)[band]
    r_ = np.asarray(pairs.column("id_r").to_numpy(zero_copy_only=False), np.int64)[band]
    w_ = np.asarray(pairs.column("match_weight").to_numpy(zero_copy_only=False), np.float64)
    items = [
        (min(a, b), max(a, b), pr, w)
        for a, b, pr, w in zip(
            l_.tolist(), r_.tolist(), p[band].tolist(), w_[band].tolist(), strict=True
        )
    ]
    return queue_pairs(conn, run_id, items, reason="near-threshold", supersede=kind == "full")


def queue_pairs(
    conn: Connection,
    run_id: int,
    items: Sequence[tuple[int, int, float, float]],
    *,
    reason: str,
    supersede: bool = False,
) -> int:
    """Upsert (record_a, record_b, probability, weight) items as pending review items."""
    _, threshold = run_threshold(conn, run_id)
    tw = threshold_weight(threshold)
    decided = set(read_constraints(conn).decision_of)
    existing = {
        (int(a), int(b)): (int(i), float(p), str(status), str(why))
        for i, a, b, p, status, why in conn.exec_driver_sql(
            "SELECT id, record_a, record_b, probability, status, reason FROM review_queue"
        )
    }
    stamp = now()
    fresh: dict[tuple[int, int], tuple[float, float]] = {}
    for a, b, p, w in items:
        pair = (min(a, b), max(a, b))
        if pair[0] == pair[1] or pair in decided:
            continue
        fresh.setdefault(pair, (float(p), float(w)))
    updates = []
    inserts = []
    for pair, (p, w) in fresh.items():
        held = existing.get(pair)
        if held is None:
            inserts.append((*pair, p, w, abs(w - tw), run_id, reason, "pending", stamp))
        elif held[2] != "pending" or abs(held[1] - p) > 1e-12:  # unchanged items stay as they are
            updates.append(
                {
                    "b_id": held[0],
                    "b_probability": p,
                    "b_weight": w,
                    "b_uncertainty": abs(w - tw),
                    "b_run_id": run_id,
                    "b_reason": reason,
                    "b_queued_at": stamp,
                }
            )
    if updates:
        stmt = (
            update(review_queue)
            .where(review_queue.c.id == bindparam("b_id"))
            .values(
                probability=bindparam("b_probability"),
                weight=bindparam("b_weight"),
                uncertainty=bindparam("b_uncertainty"),
                run_id=bindparam("b_run_id"),
                reason=bindparam("b_reason"),
                status="pending",
                queued_at=bindparam("b_queued_at"),
                decision_id=None,
            )
        )
        for chunk in sql.chunks(updates, sql.CHUNK):
            conn.execute(stmt, chunk)
    sql.bulk_insert(
        conn,
        review_queue,
        (
            "record_a",
            "record_b",
            "probability",
            "weight",
            "uncertainty",
            "run_id",
            "reason",
            "status",
            "queued_at",
        ),
        inserts,
    )
    if supersede:
        stale = [
            held[0]
            for pair, held in existing.items()
            if held[2] == "pending" and held[3] == reason and pair not in fresh
        ]
        for chunk in sql.chunks(stale, sql.IN_CHUNK):
            conn.execute(
                update(review_queue).where(review_queue.c.id.in_(chunk)).values(status="superseded")
            )
    return len(fresh)
