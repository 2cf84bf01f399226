"""Review: the queue, decisions applied at once and reversibly, respected by later runs.

Records are written straight into the ``store`` fixture's database (both backends).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert
from test_link_index import THRESHOLD, add_records, full_run, groups, pairs_table

from leds.link import index, review
from leds.link.review import ReviewConflict, ReviewError
from leds.store import Store, open_store
from leds.store.schema import records


def test_match_merges_two_persons_and_undo_restores_both_ids(store: Store) -> None:
    with store.transaction() as conn:
        r = add_records(conn, 5)
        full_run(conn, r, [(r[0], r[1], 0.99), (r[2], r[3], 0.98), (r[1], r[2], 0.6)])
        p1, p2 = index.person_of(conn, r[0]), index.person_of(conn, r[2])
        assert p1 != p2
        d = review.decide(conn, r[1], r[2], "match", "same PNC photo", "steward1")
        assert index.person_of(conn, r[3]) == p1  # the older id keeps the merged person
        assert d.change.merged == [([p1, p2], p1)]
        assert d.change.retired == [p2]
        assert d.change.records_changed == sorted(r[2:4])
        assert set(d.change.persons) == {p1, p2}
        assert d.decision == "match"
        assert (d.record_a, d.record_b) == (r[1], r[2])
        events = index.history(conn, p2 or "")
        assert [e.event for e in events] == ["new", "merge", "review"]
        assert events[1].decision_id == d.id
        assert "same PNC photo" in events[1].reason
        # the decision is a constraint: a full run keeps them together (the pair is only 0.6)
        again = full_run(conn, r, [(r[0], r[1], 0.99), (r[2], r[3], 0.98), (r[1], r[2], 0.6)])
        assert again.records_changed == []
        assert index.records_of(conn, p1 or "") == sorted(r[:4])
        # undo: both come back under their own ids
        u = review.undo_decision(conn, d.id, "steward2", "wrong photo")
        assert index.records_of(conn, p1 or "") == sorted(r[:2])
        assert index.records_of(conn, p2 or "") == sorted(r[2:4])
        assert u.change.reinstated == [p2]
        assert u.undone_by == "steward2"
        assert u.undo_reason == "wrong photo"
        assert review.constraints(conn).must_link == []
        with pytest.raises(ReviewError, match="already undone"):
            review.undo_decision(conn, d.id, "steward2", "again")


def test_not_a_match_splits_where_a_full_run_would_and_undo_remerges(store: Store) -> None:
    with store.transaction() as conn:
        r = add_records(conn, 4)
        pairs = [(r[0], r[1], 0.99), (r[1], r[2], 0.93), (r[2], r[3], 0.99)]
        full_run(conn, r, pairs)
        p = index.person_of(conn, r[0])
        d = review.decide(conn, r[0], r[3], "not-a-match", "different dates of birth", "s1")
        assert groups(conn, r) == [[0, 1], [2, 3]]  # the weakest link (r1-r2) is cut
        assert index.person_of(conn, r[0]) == p
        (new,) = d.change.created
        assert d.change.split == [(p, sorted([p or "", new]))]
        assert index.person_of(conn, r[3]) == new
        # a full run with the same pairs agrees and changes nothing
        assert full_run(conn, r, pairs).records_changed == []
        u = review.undo_decision(conn, d.id, "s2", "same person after all")
        assert groups(conn, r) == [[0, 1, 2, 3]]
        assert index.person_of(conn, r[3]) == p
        assert u.change.retired == [new]
        assert index.records_of(conn, new) == []


def test_unsure_changes_nothing_but_is_recorded(store: Store) -> None:
    with store.transaction() as conn:
        r = add_records(conn, 2)
        full_run(conn, r, [(r[0], r[1], 0.95)])
        p = index.person_of(conn, r[0])
        d = review.decide(conn, r[1], r[0], "unsure", "cannot tell from the photos", "s1")
        assert d.change.records_changed == []
        assert d.change.persons == [p]
        assert [e.event for e in index.history(conn, p or "")] == ["new", "review"]
        assert review.constraints(conn).must_link == []
        # deciding the pair again supersedes the earlier decision
        d2 = review.decide(conn, r[0], r[1], "not-a-match", "fingerprints differ", "s2")
        assert d2.superseded == d.id
        assert review.get_decision(conn, d.id).undo_reason == f"superseded by decision {d2.id}"
        assert index.person_of(conn, r[0]) != index.person_of(conn, r[1])
        assert [x.id for x in review.decisions(conn, record_id=r[0], in_force_only=True)] == [d2.id]


def test_contradictions_and_bad_requests_are_refused(store: Store) -> None:
    with store.transaction() as conn:
        r = add_records(conn, 4)
        full_run(conn, r, [])
        review.decide(conn, r[0], r[1], "match", "same", "s")
        review.decide(conn, r[1], r[3], "match", "same", "s")
        nm = review.decide(conn, r[1], r[2], "not-a-match", "different", "s")
        with pytest.raises(ReviewConflict, match=f"decision {nm.id}"):
            review.decide(conn, r[0], r[2], "match", "chain", "s")
        with pytest.raises(ReviewConflict, match="confirmed as one person"):
            review.decide(conn, r[3], r[0], "not-a-match", "changed my mind", "s")
        with pytest.raises(ReviewError, match="unknown review decision"):
            review.decide(conn, r[0], r[2], "maybe", "x", "s")
        with pytest.raises(ReviewError, match="reason"):
            review.decide(conn, r[0], r[2], "match", "  ", "s")
        with pytest.raises(ReviewError, match="itself"):
            review.decide(conn, r[0], r[0], "match", "x", "s")
        with pytest.raises(ReviewError, match="no record"):
            review.decide(conn, r[0], 10**9, "match", "x", "s")
        with pytest.raises(ReviewError, match="no review decision"):
            review.undo_decision(conn, 10**9, "s", "x")
        other = conn.execute(
            insert(records).returning(records.c.id),
            {
                "source": "pnc",
                "kind": "arrest",
                "source_record_id": "A1",
                "payload": "{}",
                "content_hash": "0" * 64,
                "import_id": 1,
                "file": "f",
                "line": 1,
                "imported_at": conn.execute(records.select().limit(1)).one().imported_at,
            },
        ).scalar_one()
        with pytest.raises(ReviewError, match="not a person record"):
            review.decide(conn, r[0], int(other), "match", "x", "s")


def test_queue_is_sorted_by_uncertainty_and_follows_the_runs(store: Store) -> None:
    with store.transaction() as conn:
        r = add_records(conn, 8)
        pairs = [
            (r[0], r[1], 0.97),  # weight far above the threshold's
            (r[2], r[3], 0.91),  # closest to the threshold (0.9)
            (r[4], r[5], 0.80),
            (r[6], r[7], 0.30),  # outside the band
        ]
        run = index.start_run(
            conn, kind="full", model_version="m", threshold=THRESHOLD, actor_id="s"
        )
        index.cluster_full(conn, run, r, pairs_table(pairs), threshold=THRESHOLD)
        assert index.queue_for_review(conn, run, pairs_table(pairs), low=0.5, high=0.99) == 3
        items = review.review_queue(conn)
        assert [(i.record_a, i.record_b) for i in items] == [
            (r[2], r[3]),
            (r[4], r[5]),
            (r[0], r[1]),
        ]
        assert items[0].person_a == items[0].person_b  # linked (above the threshold)
        assert items[1].person_a != items[1].person_b
        assert [i.id for i in review.review_queue(conn, limit=1, offset=1)] == [items[1].id]
        review.decide(conn, r[4], r[5], "match", "same", "s")
        assert len(review.review_queue(conn)) == 2
        # the next full run no longer has r0-r1 in the band: superseded; decided pairs stay out
        run2 = index.start_run(
            conn, kind="full", model_version="m", threshold=THRESHOLD, actor_id="s"
        )
        pairs2 = [(r[2], r[3], 0.92), (r[4], r[5], 0.80), (r[0], r[1], 0.999)]
        index.cluster_full(conn, run2, r, pairs_table(pairs2), threshold=THRESHOLD)
        assert index.queue_for_review(conn, run2, pairs_table(pairs2), low=0.5, high=0.99) == 1
        (only,) = review.review_queue(conn)
        assert (only.record_a, only.record_b, only.probability) == (r[2], r[3], 0.92)
        with pytest.raises(index.PersonIndexError, match="band"):
            index.queue_for_review(conn, run2, pairs_table(pairs2), low=0.9, high=0.5)


# ---- property: any sequence of decisions and undos -----------------------------------------
@pytest.fixture(scope="module")
def prop_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    handle = open_store(tmp_path_factory.mktemp("review-prop"))
    yield handle
    handle.close()


ops = st.lists(
    st.tuples(
        st.sampled_from(["match", "not-a-match", "unsure", "undo"]),
        st.integers(0, 9),
        st.integers(0, 9),
    ),
    max_size=8,
)
links = st.lists(
    st.tuples(st.integers(0, 9), st.integers(0, 9), st.floats(0.9, 0.999, allow_nan=False)),
    max_size=25,
)


@given(links, ops)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_decisions_hold_and_a_full_run_reaches_the_same_persons(
    prop_store: Store, e: list[tuple[int, int, float]], steps: list[tuple[str, int, int]]
) -> None:
    with prop_store.engine.connect() as conn:
        trans = conn.begin()  # each example rolls back
        try:
            r = add_records(conn, 10)
            pairs = [(r[a], r[b], p) for a, b, p in e if a != b]
            full_run(conn, r, pairs)
            made: list[int] = []
            for op, a, b in steps:
                if op == "undo":
                    if made:
                        review.undo_decision(conn, made.pop(0), "s", "undo")
                    continue
                if a == b:
                    continue
                try:
                    d = review.decide(conn, r[a], r[b], op, "checked", "s")
                except ReviewConflict:
                    continue
                made = [m for m in made if m != d.superseded] + [d.id]
            after = index.persons_of(conn, r)
            cons = review.constraints(conn)
            for x, y in cons.cannot_link:
                assert after[x] != after[y]
            for x, y in cons.must_link:
                assert after[x] == after[y]
            out = full_run(conn, r, pairs)
            assert index.persons_of(conn, r) == after
            assert out.records_changed == []
            assert out.created == []
        finally:
            trans.rollback()
