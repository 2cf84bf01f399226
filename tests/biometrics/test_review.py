"""Human review: a decision with a rationale per candidate, second reviewers, closing a search."""

from __future__ import annotations

import pytest
from biometric_rows import (
    ALGORITHM,
    NOW,
    Gallery,
    make_gallery,
    probe_hash,
    shared_store,  # noqa: F401 - the module-scoped store fixture
)
from sqlalchemy import func, select

from leds.biometrics.candidates import CandidateList, record_search
from leds.biometrics.review import (
    ReviewError,
    close_search,
    decide,
    review_state,
)
from leds.store import Store
from leds.store.tables_biometrics import biometric_decisions, biometric_searches

WHY = "same ear shape and scar; hairline differs only by age"


@pytest.fixture
def store(shared_store: Store) -> Store:  # noqa: F811 - the imported fixture, requested
    return shared_store


@pytest.fixture
def gallery(store: Store) -> Gallery:
    with store.transaction() as conn:
        return make_gallery(conn, 12)


def _search(store: Store, gallery: Gallery, length: int = 4) -> CandidateList:
    with store.transaction() as conn:
        return record_search(
            conn,
            modality="face",
            probe_sha256=probe_hash(5),
            search=gallery.search_for(5),
            algorithm=ALGORITHM,
            actor_id="fso1",
            purpose="crime",
            case_ref="CASE/9",
            list_length=length,
            now=NOW,
        )


def _decide(store: Store, search_id: int, rank: int, who: str, what: str, **kw: object):  # type: ignore[no-untyped-def]
    with store.transaction() as conn:
        return decide(
            conn,
            search_id=search_id,
            rank=rank,
            reviewer_id=who,
            decision=what,
            rationale=kw.pop("rationale", WHY),  # type: ignore[arg-type]
            **kw,  # type: ignore[arg-type]
        )


def _decisions(store: Store, search_id: int) -> int:
    with store.transaction() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(biometric_decisions)
                .where(biometric_decisions.c.search_id == search_id)
            ).scalar_one()
        )


def test_every_candidate_decided_then_the_search_closes(store: Store, gallery: Gallery) -> None:
    cl = _search(store, gallery)
    first = _decide(store, cl.search_id, 1, "fso1", "possible-match")
    assert first.reviewer_role == "first"
    assert first.previous is None
    assert first.template_id == cl.candidates[0].template_id
    assert set(first.records_read) == {
        cl.candidates[0].record_id,
        cl.candidates[0].person_record_id,
    }
    _decide(store, cl.search_id, 2, "fso1", "not-a-match")
    _decide(store, cl.search_id, 3, "fso1", "inconclusive")
    _decide(store, cl.search_id, 4, "fso1", "NOT-A-MATCH")
    with store.transaction() as conn:
        closed = close_search(conn, search_id=cl.search_id, actor_id="fso1", now=NOW)
    assert closed.outcomes == {
        1: "possible-match",
        2: "not-a-match",
        3: "inconclusive",
        4: "not-a-match",
    }
    assert closed.possible_matches == (1,)
    assert set(closed.records_read) == {
        cl.candidates[0].record_id,
        cl.candidates[0].person_record_id,
    }
    assert closed.notice == "investigative lead — not an identification"
    with store.transaction() as conn:
        row = conn.execute(
            select(biometric_searches).where(biometric_searches.c.id == cl.search_id)
        ).one()
        state = review_state(conn, cl.search_id)
    assert (row.status, row.closed_by) == ("closed", "fso1")
    assert state.status == "closed"
    assert state.undecided == ()
    assert _decisions(store, cl.search_id) == 4
    with pytest.raises(ReviewError, match="closed"):
        _decide(store, cl.search_id, 2, "fso1", "possible-match")
    with store.transaction() as conn, pytest.raises(ReviewError, match="already closed"):
        close_search(conn, search_id=cl.search_id, actor_id="fso1")


def test_bad_decisions_are_refused_and_nothing_is_written(store: Store, gallery: Gallery) -> None:
    cl = _search(store, gallery)
    for rationale in ("", "   ", "ok", "looks same", "a b c"):
        with pytest.raises(ReviewError, match="rationale"):
            _decide(store, cl.search_id, 1, "fso1", "not-a-match", rationale=rationale)
    with pytest.raises(ReviewError, match="unknown decision 'match'"):
        _decide(store, cl.search_id, 1, "fso1", "match")
    with pytest.raises(ReviewError, match="no candidate at rank 5"):
        _decide(store, cl.search_id, 5, "fso1", "not-a-match")
    with pytest.raises(ReviewError, match="reviewer"):
        _decide(store, cl.search_id, 1, "  ", "not-a-match")
    assert _decisions(store, cl.search_id) == 0


def test_a_search_with_undecided_candidates_cannot_be_closed(
    store: Store, gallery: Gallery
) -> None:
    cl = _search(store, gallery, length=5)
    _decide(store, cl.search_id, 1, "fso1", "not-a-match")
    _decide(store, cl.search_id, 3, "fso1", "not-a-match")
    with store.transaction() as conn, pytest.raises(ReviewError) as err:
        close_search(conn, search_id=cl.search_id, actor_id="fso1")
    assert "3 candidate(s) undecided (rank 2, 4, 5)" in str(err.value)
    with store.transaction() as conn:
        assert review_state(conn, cl.search_id).undecided == (2, 4, 5)
        assert (
            conn.execute(
                select(biometric_searches.c.status).where(biometric_searches.c.id == cl.search_id)
            ).scalar_one()
            == "open"
        )


def test_second_reviewer_rules(store: Store, gallery: Gallery) -> None:
    cl = _search(store, gallery, length=2)
    sid = cl.search_id
    with pytest.raises(ReviewError, match="no first decision"):
        _decide(store, sid, 1, "fso2", "possible-match", second=True)
    _decide(store, sid, 1, "fso1", "possible-match")
    with pytest.raises(ReviewError, match="different person"):
        _decide(store, sid, 1, "fso1", "possible-match", second=True)
    with pytest.raises(ReviewError, match="already has a first decision by fso1"):
        _decide(store, sid, 1, "fso2", "not-a-match")  # cannot take over the first role
    _decide(store, sid, 2, "fso1", "not-a-match")
    with store.transaction() as conn, pytest.raises(ReviewError, match="need a second reviewer"):
        close_search(conn, search_id=sid, actor_id="fso1", require_second_review=True)
    second = _decide(store, sid, 1, "fso2", "not-a-match", second=True)
    assert second.reviewer_role == "second"
    with pytest.raises(ReviewError, match="already has a second decision by fso2"):
        _decide(store, sid, 1, "fso3", "not-a-match", second=True)
    with store.transaction() as conn:
        state = review_state(conn, sid)
    assert state.reviews[0].disagreement
    assert state.reviews[0].outcome == "inconclusive"  # reviewers disagree
    revised = _decide(store, sid, 1, "fso1", "not-a-match", rationale="second look: chin differs")
    assert revised.previous == "possible-match"
    assert _decisions(store, sid) == 4  # revisions add rows; nothing is overwritten
    with store.transaction() as conn:
        closed = close_search(conn, search_id=sid, actor_id="fso2", require_second_review=True)
    assert closed.outcomes == {1: "not-a-match", 2: "not-a-match"}
    assert closed.possible_matches == ()
    assert closed.disagreements == ()
