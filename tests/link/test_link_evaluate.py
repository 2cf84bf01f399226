"""Evaluation: contingency-count metrics equal brute-force pair counting; truth readers."""

from __future__ import annotations

import csv
import itertools
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_link_index import THRESHOLD, add_records, full_run, pairs_table

from leds.link import evaluate as ev
from leds.link import index
from leds.store import Store

labelings = st.lists(
    st.tuples(st.integers(0, 5), st.integers(0, 5), st.sampled_from(["pnc", "pnd", "dvla"])),
    min_size=1,
    max_size=30,
)


def _brute(pred: dict[int, str], truth: dict[int, str]) -> tuple[int, int, int, float, float]:
    ids = sorted(truth)
    p = {i: pred.get(i, f"solo{i}") for i in ids}
    tp = pp = tt = 0
    for a, b in itertools.combinations(ids, 2):
        same_p, same_t = p[a] == p[b], truth[a] == truth[b]
        pp += same_p
        tt += same_t
        tp += same_p and same_t
    bp = sum(
        sum(1 for j in ids if p[j] == p[i] and truth[j] == truth[i])
        / sum(1 for j in ids if p[j] == p[i])
        for i in ids
    ) / len(ids)
    br = sum(
        sum(1 for j in ids if p[j] == p[i] and truth[j] == truth[i])
        / sum(1 for j in ids if truth[j] == truth[i])
        for i in ids
    ) / len(ids)
    return tp, pp, tt, bp, br


@given(labelings, st.sets(st.integers(0, 29), max_size=5))
@settings(max_examples=200, deadline=None)
def test_metrics_equal_a_brute_force_pair_count(
    rows: list[tuple[int, int, str]], unpredicted: set[int]
) -> None:
    truth = {i: f"T{t}" for i, (_, t, _) in enumerate(rows)}
    pred = {i: f"P{p}" for i, (p, _, _) in enumerate(rows) if i not in unpredicted}
    pred[999] = "P0"  # a prediction without truth is left out
    m = ev.evaluate(pred, truth)
    tp, pp, tt, bp, br = _brute(pred, truth)
    assert (m.true_positive_pairs, m.predicted_pairs, m.true_pairs) == (tp, pp, tt)
    assert m.precision == (1.0 if pp == 0 else tp / pp)
    assert m.recall == (1.0 if tt == 0 else tp / tt)
    assert math.isclose(m.bcubed_precision, bp)
    assert math.isclose(m.bcubed_recall, br)
    assert m.records == len(rows)
    assert m.unpredicted == len([i for i in unpredicted if i < len(rows)])
    # per source pair: the same brute force restricted to pairs of those sources
    source_of = {i: s for i, (_, _, s) in enumerate(rows)}
    by = ev.breakdown_by_source_pair(pred, truth, source_of)
    for (s1, s2), got in by.items():
        exp_tp = exp_pp = exp_tt = 0
        for a, b in itertools.combinations(sorted(truth), 2):
            if sorted((source_of[a], source_of[b])) != [s1, s2]:
                continue
            same_p = pred.get(a, f"solo{a}") == pred.get(b, f"solo{b}")
            same_t = truth[a] == truth[b]
            exp_pp += same_p
            exp_tt += same_t
            exp_tp += same_p and same_t
        assert (got.true_positive_pairs, got.predicted_pairs, got.true_pairs) == (
            exp_tp,
            exp_pp,
            exp_tt,
        )
    assert sum(x.true_positive_pairs for x in by.values()) == tp


def test_perfect_and_all_wrong_clusterings() -> None:
    truth = {1: "a", 2: "a", 3: "b", 4: "b"}
    perfect = ev.evaluate({1: "x", 2: "x", 3: "y", 4: "y"}, truth)
    assert (perfect.precision, perfect.recall, perfect.f1, perfect.bcubed_f1) == (1, 1, 1, 1)
    lumped = ev.evaluate({1: "x", 2: "x", 3: "x", 4: "x"}, truth)
    assert lumped.recall == 1.0
    assert lumped.precision == pytest.approx(2 / 6)
    assert lumped.false_positive_pairs == 4
    assert lumped.bcubed_precision == pytest.approx(0.5)
    singletons = ev.evaluate({}, truth)
    assert singletons.recall == 0.0
    assert singletons.f1 == 0.0
    assert singletons.unpredicted == 4


def test_curve_clusters_at_each_threshold() -> None:
    ids = [1, 2, 3, 4, 5]
    truth = {1: "a", 2: "a", 3: "a", 4: "b", 5: "b"}
    pairs = pairs_table([(1, 2, 0.99), (2, 3, 0.8), (3, 4, 0.6), (4, 5, 0.95)])
    points = ev.curve(ids, pairs, truth, [0.9, 0.5, 0.7])
    assert [p.threshold for p in points] == [0.5, 0.7, 0.9]
    low, mid, high = (p.metrics for p in points)
    assert low.predicted_pairs == 10  # everything chained together
    assert low.recall == 1.0
    assert (mid.precision, mid.recall, mid.f1) == (1.0, 1.0, 1.0)
    assert high.true_positive_pairs == 2
    assert high.recall == pytest.approx(2 / 4)
    # the same figures as clustering with the index at that threshold
    assert ev.evaluate({1: "x", 2: "x", 3: "y", 4: "z", 5: "z"}, truth) == high


def test_truth_from_the_column_and_from_a_world_directory(store: Store, tmp_path: Path) -> None:
    with store.transaction() as conn:
        r = add_records(conn, 4, truth=["T1", "T1", "T2", "T2"])
        plain = add_records(conn, 2, source="dvla")
        assert ev.truth_from_column(conn) == {r[0]: "T1", r[1]: "T1", r[2]: "T2", r[3]: "T2"}
        rows = conn.exec_driver_sql(
            f"SELECT id, source, source_record_id FROM records WHERE id IN ({plain[0]}, {plain[1]})"
        ).fetchall()
        world = tmp_path / "world"
        (world / "truth").mkdir(parents=True)
        with (world / "truth" / "truth-00000.csv").open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["source", "kind", "source_record_id", "person_id"])
            for _, source, srid in rows:
                w.writerow([source, "person", srid, "P9"])
            w.writerow(["dvla", "vehicle", "V1", "P9"])  # not a person record: left out
            w.writerow(["dvla", "person", "absent", "P8"])  # not in the store: left out
        assert ev.truth_from_world(conn, world) == {plain[0]: "P9", plain[1]: "P9"}
        with pytest.raises(ev.EvaluationError, match="no truth files"):
            ev.truth_from_world(conn, tmp_path)
        # evaluating the index itself
        full_run(conn, r + plain, [(r[0], r[1], 0.99), (r[1], r[2], THRESHOLD - 0.1)])
        m = ev.evaluate(index.assignments(conn), ev.truth_from_column(conn))
        assert (m.precision, m.recall) == (1.0, 0.5)
        sources = ev.source_of_records(conn, r + plain)
        assert set(sources.values()) == {"pnc", "dvla"}


def test_truth_files_must_have_the_columns(tmp_path: Path, store: Store) -> None:
    (tmp_path / "truth").mkdir()
    (tmp_path / "truth" / "truth-00000.csv").write_text("source,kind\npnc,person\n")
    with store.transaction() as conn, pytest.raises(ev.EvaluationError, match="lacks column"):
        ev.truth_from_world(conn, tmp_path)
