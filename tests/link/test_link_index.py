"""The person index: constrained clustering, stable ids across runs, history, incremental attach.

Records are written straight into the ``store`` fixture's database (both backends); pairs are
built by hand, so every expected person is known.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, insert

from leds.link import index
from leds.link._index_cluster import cluster_nodes
from leds.link.index import PersonIndexError
from leds.store import Store
from leds.store.schema import imports, records

THRESHOLD = 0.9


def add_records(
    conn: Connection, n: int, *, source: str = "pnc", truth: Sequence[str] | None = None
) -> list[int]:
    """Insert ``n`` person records (optionally with truth person ids); return their ids."""
    now = datetime.now(UTC)
    import_id = conn.execute(
        insert(imports).returning(imports.c.id),
        {"source": source, "path": "test", "actor_id": "t", "started_at": now, "status": "done"},
    ).scalar_one()
    tag = uuid.uuid4().hex[:8]
    ids = []
    for i in range(n):
        ids.append(
            conn.execute(
                insert(records).returning(records.c.id),
                {
                    "source": source,
                    "kind": "person",
                    "source_record_id": f"{tag}-{i}",
                    "payload": "{}",
                    "content_hash": "0" * 64,
                    "import_id": import_id,
                    "file": "test",
                    "line": i + 1,
                    "imported_at": now,
                    "truth_person_id": None if truth is None else truth[i],
                },
            ).scalar_one()
        )
    return [int(i) for i in ids]


def pairs_table(pairs: Sequence[tuple[int, int, float]]) -> pa.Table:
    """A pairs table as L1's predict() gives it (id_l < id_r)."""
    rows = [(min(a, b), max(a, b), p) for a, b, p in pairs]
    return pa.table(
        {
            "id_l": pa.array([r[0] for r in rows], pa.int64()),
            "id_r": pa.array([r[1] for r in rows], pa.int64()),
            "match_weight": pa.array([math.log2(r[2] / (1 - r[2])) for r in rows], pa.float64()),
            "match_probability": pa.array([r[2] for r in rows], pa.float64()),
        }
    )


def full_run(
    conn: Connection, ids: Sequence[int], pairs: Sequence[tuple[int, int, float]]
) -> index.ClusterOutcome:
    run = index.start_run(
        conn, kind="full", model_version="test", threshold=THRESHOLD, actor_id="steward"
    )
    outcome = index.cluster_full(conn, run, ids, pairs_table(pairs), threshold=THRESHOLD)
    index.finish_run(conn, run, outcome)
    return outcome


def groups(conn: Connection, ids: Sequence[int]) -> list[list[int]]:
    """The partition of ``ids`` the index holds, as sorted lists of positions."""
    who = index.persons_of(conn, ids)
    by: dict[str, list[int]] = {}
    for pos, rid in enumerate(ids):
        by.setdefault(who[rid], []).append(pos)
    return sorted(by.values())


def test_first_run_creates_persons_with_history(store: Store) -> None:
    with store.transaction() as conn:
        r = add_records(conn, 6)
        out = full_run(conn, r, [(r[0], r[1], 0.99), (r[1], r[2], 0.95), (r[3], r[4], 0.5)])
        assert groups(conn, r) == [[0, 1, 2], [3], [4], [5]]
        assert len(out.created) == 4
        assert out.persons == 4
        assert sorted(out.records_changed) == sorted(r)
        pid = index.person_of(conn, r[0])
        assert pid is not None
        assert pid.startswith("L")
        assert len(pid) == 11
        assert index.records_of(conn, pid) == sorted(r[:3])
        (event,) = index.history(conn, pid)
        assert event.event == "new"
        assert event.to_ids == [pid]
        assert event.records == 3
        assert index.person_of(conn, 10**9) is None


def test_rerun_with_the_same_pairs_changes_nothing(store: Store) -> None:
    with store.transaction() as conn:
        r = add_records(conn, 5)
        pairs = [(r[0], r[1], 0.99), (r[2], r[3], 0.97)]
        full_run(conn, r, pairs)
        before = index.persons_of(conn, r)
        again = full_run(conn, r, pairs)
        assert index.persons_of(conn, r) == before
        assert again.created == []
        assert again.records_changed == []
        assert again.unchanged_persons == 3
        assert again.persons == 3


def test_merge_and_split_keep_the_largest_overlap_id_and_record_history(store: Store) -> None:
    with store.transaction() as conn:
        r = add_records(conn, 6)
        full_run(conn, r, [(r[0], r[1], 0.99), (r[1], r[2], 0.99), (r[3], r[4], 0.99)])
        big, small = index.person_of(conn, r[0]), index.person_of(conn, r[3])
        assert big is not None
        assert small is not None
        # r2 leaves the big person and joins r3, r4 (small keeps its id: overlap 2 vs 1)
        out = full_run(conn, r, [(r[0], r[1], 0.99), (r[2], r[3], 0.99), (r[3], r[4], 0.99)])
        assert index.person_of(conn, r[0]) == big
        assert index.person_of(conn, r[2]) == small
        assert out.split == [(big, sorted([big, small]))]
        assert out.merged == [([big, small], small)]
        assert out.records_changed == [r[2]]
        kinds = [e.event for e in index.history(conn, big)]
        assert kinds == ["new", "merge", "split"] or kinds == ["new", "split", "merge"]
        # a merge of both: the older id (smaller) wins the tie-break on equal overlap
        out = full_run(conn, r, [(r[0], r[1], 0.99), (r[1], r[2], 0.99), (r[2], r[3], 0.99),
                                 (r[3], r[4], 0.99)])  # fmt: skip
        assert index.person_of(conn, r[4]) == index.person_of(conn, r[0])
        (merged,) = out.merged
        assert merged[0] == sorted([big, small])
        assert merged[1] in (big, small)
        gone = small if merged[1] == big else big
        assert out.retired == [gone]
        assert index.records_of(conn, gone) == []
        # ids are never reused: a new person gets a fresh id
        out = full_run(conn, r, [])
        assert gone not in out.created
        assert merged[1] not in out.created


def test_records_no_longer_given_leave_and_empty_persons_retire(store: Store) -> None:
    with store.transaction() as conn:
        r = add_records(conn, 3)
        full_run(conn, r, [(r[0], r[1], 0.99)])
        lone = index.person_of(conn, r[2])
        out = full_run(conn, r[:2], [(r[0], r[1], 0.99)])
        assert out.retired == [lone]
        assert out.records_changed == [r[2]]
        assert index.person_of(conn, r[2]) is None
        assert [e.event for e in index.history(conn, lone or "")] == ["new", "retire"]
        assert index.history(conn, lone or "")[0].at.tzinfo is not None
        emptied = full_run(conn, [], [])
        assert emptied.persons == 0
        assert emptied.retired == [index.person_of(conn, r[0]) or "?"] or emptied.retired
        assert index.persons_of(conn, r) == {}


def test_bad_input_is_refused_clearly(store: Store) -> None:
    with store.transaction() as conn:
        with pytest.raises(PersonIndexError, match="kind"):
            index.start_run(conn, kind="weekly", model_version="m", threshold=0.9, actor_id="a")
        with pytest.raises(PersonIndexError, match="threshold"):
            index.start_run(conn, kind="full", model_version="m", threshold=1.5, actor_id="a")
        with pytest.raises(PersonIndexError, match="no link run"):
            index.cluster_full(conn, 999, [1], pairs_table([]), threshold=0.9)
        run = index.start_run(conn, kind="full", model_version="m", threshold=0.9, actor_id="a")
        with pytest.raises(PersonIndexError, match="match_probability"):
            index.cluster_full(conn, run, [1], pa.table({"id_l": [1], "id_r": [2]}), threshold=0.9)
        with pytest.raises(PersonIndexError, match="person id"):
            index.records_of(conn, "P42")


def test_incremental_attach_joins_the_strongest_person_and_queues_a_second(store: Store) -> None:
    with store.transaction() as conn:
        old = add_records(conn, 4)
        full_run(conn, old, [(old[0], old[1], 0.99), (old[2], old[3], 0.99)])
        p1, p2 = index.person_of(conn, old[0]), index.person_of(conn, old[2])
        new = add_records(conn, 4, source="dvla")
        run = index.start_run(
            conn, kind="incremental", model_version="m", threshold=THRESHOLD, actor_id="s"
        )
        pairs = [
            (new[0], old[0], 0.99),  # attaches to p1...
            (new[0], old[3], 0.95),  # ...and links p2 too: not merged, queued
            (new[1], new[0], 0.97),  # joins new[0] (so p1)
            (new[2], new[3], 0.93),  # a new person of two
            (new[3], old[1], 0.40),  # below threshold
        ]
        out = index.attach(conn, run, new, pairs_table(pairs), threshold=THRESHOLD)
        index.finish_run(conn, run, out)
        assert index.person_of(conn, new[0]) == p1
        assert index.person_of(conn, new[1]) == p1
        assert index.records_of(conn, p2 or "") == sorted(old[2:])
        assert len(out.created) == 1
        assert index.person_of(conn, new[2]) == out.created[0]
        assert index.person_of(conn, new[3]) == out.created[0]
        assert out.attached == 2
        assert out.queued == 1
        assert out.merged == []
        assert out.records_changed == sorted(new)
        assert out.unchanged_persons == 1
        from leds.link import review

        (item,) = review.review_queue(conn)
        assert (item.record_a, item.record_b) == tuple(sorted((new[0], old[3])))
        assert item.reason == "joins-two-persons"
        assert {item.person_a, item.person_b} == {p1, p2}
        assert [e.event for e in index.history(conn, p1 or "")] == ["new", "attach"]
        # attaching again leaves indexed records where they are
        run2 = index.start_run(
            conn, kind="incremental", model_version="m", threshold=THRESHOLD, actor_id="s"
        )
        again = index.attach(conn, run2, new, pairs_table(pairs), threshold=THRESHOLD)
        assert again.skipped == 4
        assert again.records_changed == []


def test_attach_agrees_with_a_full_run_when_no_persons_merge(store: Store) -> None:
    with store.transaction() as conn:
        old = add_records(conn, 6)
        new = add_records(conn, 4)
        pairs = [
            (old[0], old[1], 0.99),
            (old[2], old[3], 0.98),
            (new[0], old[1], 0.96),
            (new[1], old[4], 0.92),
            (new[2], new[3], 0.91),
        ]
        old_pairs = [p for p in pairs if p[0] in old and p[1] in old]
        full_run(conn, old, old_pairs)
        run = index.start_run(
            conn, kind="incremental", model_version="m", threshold=THRESHOLD, actor_id="s"
        )
        index.attach(conn, run, new, pairs_table(pairs[2:]), threshold=THRESHOLD)
        incremental = index.persons_of(conn, old + new)
        out = full_run(conn, old + new, pairs)
        assert index.persons_of(conn, old + new) == incremental
        assert out.records_changed == []
        assert out.created == []


# ---- properties of the clustering (pure, fast) ----------------------------------------------
edges = st.lists(
    st.tuples(st.integers(0, 11), st.integers(0, 11), st.floats(0.9, 0.999, allow_nan=False)),
    max_size=40,
)
node_pairs = st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11)), max_size=6)


def _arrays(e: list[tuple[int, int, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    e = [x for x in e if x[0] != x[1]]
    return (
        np.array([x[0] for x in e], dtype=np.int64),
        np.array([x[1] for x in e], dtype=np.int64),
        np.array([x[2] for x in e], dtype=np.float64),
    )


def _greedy(n: int, e: list[tuple[int, int, float]], cannot: list[tuple[int, int]]) -> list[int]:
    """Brute force: the constrained greedy union-find, plainly."""
    label = list(range(n))
    for a, b, _ in sorted(
        ((min(a, b), max(a, b), p) for a, b, p in e if a != b), key=lambda x: (-x[2], x[0], x[1])
    ):
        la, lb = label[a], label[b]
        if la == lb:
            continue
        if any({label[x], label[y]} == {la, lb} for x, y in cannot if x != y):
            continue
        label = [la if v == lb else v for v in label]
    return label


def _partition(labels: Sequence[int]) -> set[frozenset[int]]:
    by: dict[int, set[int]] = {}
    for i, v in enumerate(labels):
        by.setdefault(int(v), set()).add(i)
    return {frozenset(v) for v in by.values()}


@given(edges, node_pairs)
@settings(max_examples=150, deadline=None)
def test_clustering_equals_the_plain_greedy_and_never_joins_a_cannot_link(
    e: list[tuple[int, int, float]], cannot: list[tuple[int, int]]
) -> None:
    cannot = [(a, b) for a, b in cannot if a != b]
    el, er, ep = _arrays(e)
    cl = np.array([a for a, _ in cannot], dtype=np.int64)
    cr = np.array([b for _, b in cannot], dtype=np.int64)
    result = cluster_nodes(12, el, er, ep, cannot_l=cl, cannot_r=cr)
    for a, b in cannot:
        assert result.labels[a] != result.labels[b]
    assert _partition(result.labels) == _partition(_greedy(12, e, cannot))
    # the forest alone holds each cluster together (and joins nothing else)
    forest = cluster_nodes(12, result.forest_l, result.forest_r, result.forest_p)
    assert _partition(forest.labels) == _partition(result.labels)
    assert len(result.forest_l) == 12 - result.count


@pytest.fixture(scope="module")
def prop_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    from leds.store import open_store

    handle = open_store(tmp_path_factory.mktemp("prop"))
    yield handle
    handle.close()


@given(edges, node_pairs)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_ids_are_stable_when_pairs_are_unchanged_and_cannot_links_hold(
    prop_store: Store, e: list[tuple[int, int, float]], cannot: list[tuple[int, int]]
) -> None:
    from leds.link import review

    with prop_store.engine.connect() as conn:
        trans = conn.begin()  # each example rolls back: the store stays empty
        try:
            r = add_records(conn, 12)
            pairs = [(r[a], r[b], p) for a, b, p in e if a != b]
            full_run(conn, r, pairs)
            for a, b in cannot:
                if a != b:
                    review.decide(conn, r[a], r[b], "not-a-match", "checked", "steward")
            after_decisions = index.persons_of(conn, r)
            for a, b in cannot:
                if a != b:
                    assert after_decisions[r[a]] != after_decisions[r[b]]
            out = full_run(conn, r, pairs)
            # a full run reaches what the decisions reached, and keeps every id
            assert index.persons_of(conn, r) == after_decisions
            assert out.records_changed == []
            assert out.created == []
        finally:
            trans.rollback()


def test_constraint_chain_never_merges(store: Store) -> None:
    """A not-a-match is not re-merged through a chain of strong links."""
    with store.transaction() as conn:
        from leds.link import review

        r = add_records(conn, 5)
        chain = [(r[i], r[i + 1], 0.99 - i * 0.01) for i in range(4)]
        full_run(conn, r, chain)
        review.decide(conn, r[0], r[4], "not-a-match", "different people", "steward")
        assert index.person_of(conn, r[0]) != index.person_of(conn, r[4])
        full_run(conn, r, chain)
        assert index.person_of(conn, r[0]) != index.person_of(conn, r[4])
        # the weakest link of the chain (r3-r4) is the one cut, as the greedy rule cuts it
        assert groups(conn, r) == [[0, 1, 2, 3], [4]]


def test_clusters_a_realistic_graph_quickly() -> None:
    """300k nodes in small true groups plus cross-group noise: a few seconds at most
    (bench figures for 1.8M records are in the report)."""
    rng = np.random.default_rng(1)
    n = 300_000
    group = np.sort(rng.integers(0, n // 2, n))  # groups of ~2 consecutive nodes
    same = np.flatnonzero(group[1:] == group[:-1])
    el = np.concatenate([same, rng.integers(0, n, 20_000)])
    er = np.concatenate([same + 1, rng.integers(0, n, 20_000)])
    ep = np.concatenate([rng.uniform(0.95, 1.0, len(same)), rng.uniform(0.9, 0.95, 20_000)])
    cl = rng.integers(0, n, 2_000)
    cr = rng.integers(0, n, 2_000)
    t = datetime.now(UTC)
    result = cluster_nodes(n, el, er, ep, cannot_l=cl, cannot_r=cr)
    assert (datetime.now(UTC) - t).total_seconds() < 10
    ok = cl != cr
    assert (result.labels[cl[ok]] != result.labels[cr[ok]]).all()
    assert len(result.forest_l) == n - result.count
