"""Evaluation of a person index against ground truth: pairwise and B-cubed metrics.

Everything is computed from the contingency table of (predicted cluster, true cluster)
counts, never by listing pairs: with ``n_ij`` records in predicted cluster i and true cluster
j, ``a_i``/``b_j`` the cluster sizes and C(k) = k(k-1)/2,

- pairs predicted = sum C(a_i), true pairs = sum C(b_j), true positives = sum C(n_ij);
- B-cubed precision = (1/N) sum n_ij^2 / a_i, recall = (1/N) sum n_ij^2 / b_j.

The universe is the records with a truth label; a labelled record the index does not hold
counts as a predicted singleton (it lowers recall); predictions without truth are left out.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from sqlalchemy import Connection, select

from leds.link import _index_sql as sql
from leds.link._index_cluster import cluster_nodes
from leds.link._index_core import PersonIndexError
from leds.store.schema import records

__all__ = [
    "CurvePoint",
    "Metrics",
    "SourcePairMetrics",
    "breakdown_by_source_pair",
    "curve",
    "evaluate",
    "source_of_records",
    "truth_from_column",
    "truth_from_world",
]

I64 = npt.NDArray[np.int64]


class EvaluationError(PersonIndexError):
    """Ground truth cannot be read or does not fit the index."""


@dataclass(frozen=True, slots=True)
class Metrics:
    records: int  # records evaluated (those with a truth label)
    unpredicted: int  # of those, not in the index (counted as singletons)
    predicted_clusters: int
    true_clusters: int
    predicted_pairs: int
    true_pairs: int
    true_positive_pairs: int
    precision: float  # pairwise
    recall: float
    f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float

    @property
    def false_positive_pairs(self) -> int:
        return self.predicted_pairs - self.true_positive_pairs

    @property
    def false_negative_pairs(self) -> int:
        return self.true_pairs - self.true_positive_pairs


@dataclass(frozen=True, slots=True)
class CurvePoint:
    threshold: float
    metrics: Metrics


@dataclass(frozen=True, slots=True)
class SourcePairMetrics:
    sources: tuple[str, str]
    predicted_pairs: int
    true_pairs: int
    true_positive_pairs: int
    precision: float
    recall: float
    f1: float


def _f1(p: float, r: float) -> float:
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def _ratio(num: float, den: float) -> float:
    return 1.0 if den == 0 else num / den


def _codes(values: Sequence[str]) -> I64:
    _, inverse = np.unique(np.asarray(values, dtype=object).astype(str), return_inverse=True)
    return inverse.astype(np.int64)


def _aligned(predicted: Mapping[int, str], truth: Mapping[int, str]) -> tuple[I64, I64, I64, int]:
    """(record ids, predicted codes, true codes, unpredicted count) over the truth's records;
    unpredicted records get singleton codes of their own."""
    ids = np.asarray(sorted(truth), dtype=np.int64)
    true = _codes([truth[int(i)] for i in ids]) if len(ids) else np.zeros(0, dtype=np.int64)
    labels: list[str] = []
    missing = 0
    for i in ids.tolist():
        p = predicted.get(i)
        if p is None:
            missing += 1
            labels.append(f"\x00unpredicted-{i}")
        else:
            labels.append(str(p))
    pred = _codes(labels) if labels else np.zeros(0, dtype=np.int64)
    return ids, pred, true, missing


def _pairs(k: npt.NDArray[np.int64]) -> int:
    return int((k * (k - 1) // 2).sum())


def metrics_from_codes(pred: I64, true: I64, unpredicted: int = 0) -> Metrics:
    """Metrics of two labelings of the same records (integer codes)."""
    n = len(pred)
    if n == 0:
        return Metrics(0, 0, 0, 0, 0, 0, 0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
    a = np.bincount(pred)
    b = np.bincount(true)
    cells, n_ij = np.unique(pred * (int(true.max()) + 1) + true, return_counts=True)
    ci = cells // (int(true.max()) + 1)
    cj = cells % (int(true.max()) + 1)
    n_ij = n_ij.astype(np.int64)
    predicted_pairs = _pairs(a)
    true_pairs = _pairs(b)
    tp = _pairs(n_ij)
    precision = _ratio(tp, predicted_pairs)
    recall = _ratio(tp, true_pairs)
    sq = n_ij.astype(np.float64) ** 2
    bp = float((sq / a[ci]).sum() / n)
    br = float((sq / b[cj]).sum() / n)
    return Metrics(
        records=n,
        unpredicted=unpredicted,
        predicted_clusters=int((a > 0).sum()),
        true_clusters=int((b > 0).sum()),
        predicted_pairs=predicted_pairs,
        true_pairs=true_pairs,
        true_positive_pairs=tp,
        precision=precision,
        recall=recall,
        f1=_f1(precision, recall),
        bcubed_precision=bp,
        bcubed_recall=br,
        bcubed_f1=_f1(bp, br),
    )


def evaluate(predicted: Mapping[int, str], truth: Mapping[int, str]) -> Metrics:
    """Pairwise precision/recall/F1 and B-cubed of a record -> person mapping."""
    _, pred, true, missing = _aligned(predicted, truth)
    return metrics_from_codes(pred, true, missing)


def curve(
    record_ids: pa.Array | Sequence[int],
    pairs: pa.Table,
    truth: Mapping[int, str],
    thresholds: Sequence[float],
) -> list[CurvePoint]:
    """Cluster the pairs at each threshold (plain greedy union-find, no review constraints)
    and evaluate each clustering against the truth."""
    ids = (
        record_ids.to_numpy(zero_copy_only=False)
        if isinstance(record_ids, pa.Array)
        else record_ids
    )
    rec = np.unique(np.asarray(ids, dtype=np.int64))
    el = np.asarray(pairs.column("id_l").to_numpy(zero_copy_only=False), dtype=np.int64)
    er = np.asarray(pairs.column("id_r").to_numpy(zero_copy_only=False), dtype=np.int64)
    ep = np.asarray(
        pairs.column("match_probability").to_numpy(zero_copy_only=False), dtype=np.float64
    )
    pos_l = np.searchsorted(rec, el)
    pos_r = np.searchsorted(rec, er)
    ok = (pos_l < len(rec)) & (pos_r < len(rec))
    ok[ok] &= (rec[pos_l[ok]] == el[ok]) & (rec[pos_r[ok]] == er[ok])
    pos_l, pos_r, ep = pos_l[ok].astype(np.int64), pos_r[ok].astype(np.int64), ep[ok]
    t_ids = np.asarray(sorted(truth), dtype=np.int64)
    at = np.searchsorted(rec, t_ids)
    have = at < len(rec)
    have[have] &= rec[at[have]] == t_ids[have]
    true_all = _codes([truth[int(i)] for i in t_ids]) if len(t_ids) else np.zeros(0, np.int64)
    points = []
    for t in sorted(float(x) for x in thresholds):
        if not 0.0 <= t <= 1.0:
            raise EvaluationError(f"threshold {t} is not a probability")
        above = ep >= t
        cl = cluster_nodes(len(rec), pos_l[above], pos_r[above], ep[above])
        pred = np.empty(len(t_ids), dtype=np.int64)
        pred[have] = cl.labels[at[have]]
        pred[~have] = cl.count + np.arange(int((~have).sum()))
        _, pred = np.unique(pred, return_inverse=True)
        points.append(
            CurvePoint(t, metrics_from_codes(pred.astype(np.int64), true_all, int((~have).sum())))
        )
    return points


def breakdown_by_source_pair(
    predicted: Mapping[int, str], truth: Mapping[int, str], source_of: Mapping[int, str]
) -> dict[tuple[str, str], SourcePairMetrics]:
    """Pairwise precision/recall/F1 for each pair of sources (s, t), s <= t: pairs with one
    record from each (or both from s). From per-cell source counts, no pair listing."""
    ids, pred, true, _ = _aligned(predicted, truth)
    if not len(ids):
        return {}
    names = sorted({source_of.get(int(i), "?") for i in ids.tolist()})
    src = np.asarray([names.index(source_of.get(int(i), "?")) for i in ids.tolist()])
    s = len(names)
    base = int(true.max()) + 1
    cells, cell_of = np.unique(pred * base + true, return_inverse=True)
    per_cell = np.zeros((len(cells), s), dtype=np.int64)
    np.add.at(per_cell, (cell_of, src), 1)
    per_pred = np.zeros((int(pred.max()) + 1, s), dtype=np.int64)
    np.add.at(per_pred, (pred, src), 1)
    per_true = np.zeros((base, s), dtype=np.int64)
    np.add.at(per_true, (true, src), 1)

    def pair_count(m: npt.NDArray[np.int64], x: int, y: int) -> int:
        if x == y:
            return int((m[:, x] * (m[:, x] - 1) // 2).sum())
        return int((m[:, x] * m[:, y]).sum())

    out: dict[tuple[str, str], SourcePairMetrics] = {}
    for x in range(s):
        for y in range(x, s):
            tp = pair_count(per_cell, x, y)
            pp = pair_count(per_pred, x, y)
            tt = pair_count(per_true, x, y)
            if pp == 0 and tt == 0:
                continue
            p, r = _ratio(tp, pp), _ratio(tp, tt)
            out[(names[x], names[y])] = SourcePairMetrics(
                (names[x], names[y]), pp, tt, tp, p, r, _f1(p, r)
            )
    return out


# ---- truth --------------------------------------------------------------------------------
def truth_from_world(conn: Connection, world_dir: Path) -> dict[int, str]:
    """Record id -> true person, from a synthetic world's ``truth/truth-*.csv`` files
    (columns source, kind, source_record_id, person_id); person records only. Rows whose
    record is not in the store are skipped."""
    files = sorted((Path(world_dir) / "truth").glob("truth-*.csv"))
    if not files:
        raise EvaluationError(
            f"no truth files in {Path(world_dir) / 'truth'}",
            hint="give the directory of a generated world (it has truth/truth-*.csv)",
        )
    out: dict[int, str] = {}
    for path in files:
        by_source: dict[str, dict[str, str]] = {}
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            need = {"source", "kind", "source_record_id", "person_id"}
            if not need <= set(reader.fieldnames or ()):
                lacking = ", ".join(sorted(need - set(reader.fieldnames or ())))
                raise EvaluationError(f"{path} lacks column(s) {lacking}")
            for row in reader:
                if row["kind"] == "person":
                    by_source.setdefault(row["source"], {})[row["source_record_id"]] = row[
                        "person_id"
                    ]
        for source, mapping in by_source.items():
            for chunk in sql.chunks(sorted(mapping), sql.IN_CHUNK):
                for rid, srid in conn.execute(
                    select(records.c.id, records.c.source_record_id).where(
                        records.c.kind == "person",
                        records.c.source == source,
                        records.c.source_record_id.in_(chunk),
                    )
                ):
                    out[int(rid)] = mapping[str(srid)]
    return out


def truth_from_column(conn: Connection) -> dict[int, str]:
    """Record id -> true person from ``records.truth_person_id`` (generic sources with a
    truth column)."""
    rows = conn.execute(
        select(records.c.id, records.c.truth_person_id).where(
            records.c.kind == "person", records.c.truth_person_id.is_not(None)
        )
    )
    return {int(i): str(t) for i, t in rows}


def source_of_records(conn: Connection, record_ids: Sequence[int]) -> dict[int, str]:
    """Record id -> source system (for :func:`breakdown_by_source_pair`)."""
    return {
        int(i): str(s)
        for i, s in sql.select_in(
            conn, "SELECT id, source FROM records WHERE id IN ({in_})", sorted(set(record_ids))
        )
    }
