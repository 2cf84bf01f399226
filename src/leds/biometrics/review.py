"""Human review of candidate lists: every candidate decided by a person, with a rationale.

Rules
-----
* A decision is *possible-match*, *not-a-match* or *inconclusive*, with a rationale of at least
  :data:`MIN_RATIONALE_WORDS` words and :data:`MIN_RATIONALE_CHARS` characters.
* The first reviewer of a candidate decides it; an optional second reviewer, who must be a
  different person, adds a second decision. Either may revise their own decision later (a new
  row: nothing is overwritten), nobody else may take over their role.
* The outcome of a candidate is the first decision, or the common decision of both reviewers;
  when they disagree it is *inconclusive* (reported as a disagreement).
* A search is closed only once every candidate has a first decision (the error names the
  undecided ranks); with ``require_second_review`` every possible match also needs a second
  reviewer. Closed searches take no more decisions.

Every function takes a SQLAlchemy ``Connection`` inside the caller's transaction, never
writes audit events, and returns what changed for the caller's audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from leds.biometrics.candidates import NOTICE, Candidate, CandidateList, load_candidates
from leds.errors import LedsError
from leds.store.tables_biometrics import biometric_decisions as D
from leds.store.tables_biometrics import biometric_searches

DECISIONS = ("possible-match", "not-a-match", "inconclusive")
FIRST = "first"
SECOND = "second"
MIN_RATIONALE_WORDS = 3
MIN_RATIONALE_CHARS = 15


class ReviewError(LedsError, ValueError):
    """A review decision or a closure is refused (says what to fix)."""


@dataclass(frozen=True, slots=True)
class Decision:
    id: int
    rank: int
    reviewer_id: str
    reviewer_role: str
    decision: str
    rationale: str
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class DecisionChange:
    """One recorded decision, for the caller's audit entry."""

    search_id: int
    rank: int
    decision_id: int
    reviewer_id: str
    reviewer_role: str
    decision: str
    previous: str | None  # the reviewer's earlier decision on this candidate, if revised
    template_id: int
    record_id: int
    person_record_id: int | None

    @property
    def records_read(self) -> tuple[int, ...]:
        ids = {self.record_id} | ({self.person_record_id} if self.person_record_id else set())
        return tuple(sorted(ids))

    def as_dict(self) -> dict[str, Any]:
        return {
            "search_id": self.search_id,
            "rank": self.rank,
            "decision_id": self.decision_id,
            "reviewer_id": self.reviewer_id,
            "reviewer_role": self.reviewer_role,
            "decision": self.decision,
            "previous": self.previous,
            "template_id": self.template_id,
            "record_id": self.record_id,
            "person_record_id": self.person_record_id,
        }


@dataclass(frozen=True, slots=True)
class CandidateReview:
    candidate: Candidate
    first: Decision | None
    second: Decision | None

    @property
    def outcome(self) -> str | None:
        if self.first is None:
            return None
        if self.second is None or self.second.decision == self.first.decision:
            return self.first.decision
        return "inconclusive"

    @property
    def disagreement(self) -> bool:
        return (
            self.first is not None
            and self.second is not None
            and self.first.decision != self.second.decision
        )


@dataclass(frozen=True, slots=True)
class ReviewState:
    search_id: int
    status: str
    reviews: tuple[CandidateReview, ...]
    notice: str = NOTICE
    search: CandidateList | None = None  # the recorded search: algorithm, threshold, probe

    @property
    def undecided(self) -> tuple[int, ...]:
        return tuple(r.candidate.rank for r in self.reviews if r.first is None)

    def as_dict(self) -> dict[str, Any]:
        def dec(d: Decision | None) -> dict[str, Any] | None:
            if d is None:
                return None
            return {
                "reviewer_id": d.reviewer_id,
                "decision": d.decision,
                "rationale": d.rationale,
                "decided_at": d.decided_at.isoformat(),
            }

        found = self.search
        return {
            "search_id": self.search_id,
            "status": self.status,
            "notice": self.notice,
            **(
                {}
                if found is None
                else {
                    "modality": found.modality,
                    "algorithm": found.algorithm,
                    "threshold": {"version": found.threshold_version, "value": found.threshold},
                    "list_length": found.list_length,
                    "parameters": found.parameters,
                    "created_at": found.created_at.isoformat(),
                    "closed_at": None if found.closed_at is None else found.closed_at.isoformat(),
                    "closed_by": found.closed_by,
                }
            ),
            "undecided": list(self.undecided),
            "candidates": [
                {
                    **r.candidate.as_dict(),
                    "first": dec(r.first),
                    "second": dec(r.second),
                    "outcome": r.outcome,
                    "disagreement": r.disagreement,
                }
                for r in self.reviews
            ],
        }


@dataclass(frozen=True, slots=True)
class SearchClosed:
    """A closed search's outcome, for the caller's audit entry."""

    search_id: int
    closed_by: str
    closed_at: datetime
    outcomes: dict[int, str]  # rank -> outcome
    possible_matches: tuple[int, ...]  # ranks
    disagreements: tuple[int, ...]  # ranks
    records_read: tuple[int, ...]  # records of the possible matches
    notice: str = NOTICE

    def as_dict(self) -> dict[str, Any]:
        return {
            "search_id": self.search_id,
            "closed_by": self.closed_by,
            "closed_at": self.closed_at.isoformat(),
            "outcomes": {str(k): v for k, v in self.outcomes.items()},
            "possible_matches": list(self.possible_matches),
            "disagreements": list(self.disagreements),
            "notice": self.notice,
        }


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _latest(conn: Connection, search_id: int) -> dict[tuple[int, str], Decision]:
    """The latest decision per (rank, reviewer role)."""
    return {(d.rank, d.reviewer_role): d for d in decision_history(conn, search_id)}


def decision_history(conn: Connection, search_id: int) -> tuple[Decision, ...]:
    """Every decision recorded on a search, in the order made (revisions included: a revised
    decision is a new row, the earlier one stays)."""
    rows = conn.execute(select(D).where(D.c.search_id == search_id).order_by(D.c.id))
    return tuple(
        Decision(
            int(r.id),
            int(r.rank),
            r.reviewer_id,
            r.reviewer_role,
            r.decision,
            r.rationale,
            _utc(r.decided_at),
        )
        for r in rows
    )


def review_state(conn: Connection, search_id: int) -> ReviewState:
    """The candidates of a search with their current first and second decisions."""
    cl = load_candidates(conn, search_id)
    latest = _latest(conn, search_id)
    reviews = tuple(
        CandidateReview(c, latest.get((c.rank, FIRST)), latest.get((c.rank, SECOND)))
        for c in cl.candidates
    )
    return ReviewState(cl.search_id, cl.status, reviews, search=cl)


def _rationale(text: str | None) -> str:
    clean = " ".join((text or "").split())
    if len(clean.split()) < MIN_RATIONALE_WORDS or len(clean) < MIN_RATIONALE_CHARS:
        raise ReviewError(
            "a review decision needs a rationale" + (f" (got {clean!r})" if clean else ""),
            hint=f"say what you compared and why, in at least {MIN_RATIONALE_WORDS} words "
            f"and {MIN_RATIONALE_CHARS} characters",
        )
    return clean


def decide(
    conn: Connection,
    *,
    search_id: int,
    rank: int,
    reviewer_id: str,
    decision: str,
    rationale: str,
    second: bool = False,
    now: datetime | None = None,
) -> DecisionChange:
    """Record a reviewer's decision on one candidate (first review, or ``second=True``)."""
    verdict = (decision or "").strip().lower()
    if verdict not in DECISIONS:
        raise ReviewError(f"unknown decision {decision!r}", hint=f"one of: {', '.join(DECISIONS)}")
    why = _rationale(rationale)
    reviewer = (reviewer_id or "").strip()
    if not reviewer:
        raise ReviewError("a review decision needs the reviewer's user id")
    cl = load_candidates(conn, search_id)
    if cl.status != "open":
        raise ReviewError(f"search {search_id} is {cl.status}; it takes no more decisions")
    cand = next((c for c in cl.candidates if c.rank == rank), None)
    if cand is None:
        raise ReviewError(
            f"search {search_id} has no candidate at rank {rank}",
            hint=f"ranks 1-{len(cl.candidates)}",
        )
    latest = _latest(conn, search_id)
    first = latest.get((rank, FIRST))
    other = latest.get((rank, SECOND))
    role = SECOND if second else FIRST
    if second:
        if first is None:
            raise ReviewError(
                f"rank {rank} of search {search_id} has no first decision yet",
                hint="a second review follows a first one",
            )
        if first.reviewer_id == reviewer:
            raise ReviewError(
                f"{reviewer} made the first decision on rank {rank}; the second reviewer must "
                "be a different person"
            )
        mine = other
    else:
        if other is not None and other.reviewer_id == reviewer:
            raise ReviewError(f"{reviewer} is the second reviewer of rank {rank}, not the first")
        mine = first
    if mine is not None and mine.reviewer_id != reviewer:
        raise ReviewError(
            f"rank {rank} of search {search_id} already has a {role} decision by "
            f"{mine.reviewer_id}",
            hint="only that reviewer may revise it"
            + ("; record a second review instead" if role == FIRST else ""),
        )
    when = now or datetime.now(UTC)
    decision_id = conn.execute(
        D.insert()
        .values(
            search_id=search_id,
            rank=rank,
            reviewer_id=reviewer,
            reviewer_role=role,
            decision=verdict,
            rationale=why,
            decided_at=when,
        )
        .returning(D.c.id)
    ).scalar_one()
    return DecisionChange(
        search_id=search_id,
        rank=rank,
        decision_id=int(decision_id),
        reviewer_id=reviewer,
        reviewer_role=role,
        decision=verdict,
        previous=None if mine is None else mine.decision,
        template_id=cand.template_id,
        record_id=cand.record_id,
        person_record_id=cand.person_record_id,
    )


def close_search(
    conn: Connection,
    *,
    search_id: int,
    actor_id: str,
    require_second_review: bool = False,
    now: datetime | None = None,
) -> SearchClosed:
    """Close a search once every candidate is decided (names the undecided ranks otherwise)."""
    state = review_state(conn, search_id)
    if state.status != "open":
        raise ReviewError(f"search {search_id} is already {state.status}")
    if state.undecided:
        ranks = ", ".join(str(r) for r in state.undecided)
        raise ReviewError(
            f"search {search_id} cannot be closed: {len(state.undecided)} candidate(s) "
            f"undecided (rank {ranks})",
            hint="record possible-match, not-a-match or inconclusive, with a rationale, for each",
        )
    if require_second_review:
        missing = [
            r.candidate.rank
            for r in state.reviews
            if r.first is not None and r.first.decision == "possible-match" and r.second is None
        ]
        if missing:
            raise ReviewError(
                f"search {search_id} cannot be closed: possible match(es) at rank "
                f"{', '.join(map(str, missing))} need a second reviewer"
            )
    when = now or datetime.now(UTC)
    done = conn.execute(
        update(biometric_searches)
        .where(biometric_searches.c.id == search_id, biometric_searches.c.status == "open")
        .values(status="closed", closed_at=when, closed_by=actor_id)
    )
    if done.rowcount != 1:
        raise ReviewError(f"search {search_id} was closed meanwhile")
    outcomes = {r.candidate.rank: r.outcome or "" for r in state.reviews}
    matches = tuple(r.candidate.rank for r in state.reviews if r.outcome == "possible-match")
    ids: set[int] = set()
    for r in state.reviews:
        if r.outcome == "possible-match":
            ids.add(r.candidate.record_id)
            if r.candidate.person_record_id is not None:
                ids.add(r.candidate.person_record_id)
    return SearchClosed(
        search_id=search_id,
        closed_by=actor_id,
        closed_at=when,
        outcomes=outcomes,
        possible_matches=matches,
        disagreements=tuple(r.candidate.rank for r in state.reviews if r.disagreement),
        records_read=tuple(sorted(ids)),
    )
