"""Linkage through the one door: runs, explanations, the review queue and evaluation.

Linking records of different sources into one person is a *combination* of personal data:
every run and every review decision is recorded as a ``combination`` event. A run is long, so
it is recorded twice: a ``started`` entry before anything changes (if that cannot be written
the run is refused, nothing changed) and a ``finished`` entry with what changed; the person
history rows of the run (``person_history.run_id``) hold the detail behind the entry. A review
decision changes the index and is recorded in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from leds.errors import LedsError, NotFound
from leds.governance.authn import AuthenticatedUser
from leds.governance.identity import PurposeStatement
from leds.model.codes import AuditKind
from leds.service._base import Result, ServiceBase
from leds.store.schema import records

# Audit entries name at most this many person ids; the run's history rows hold all of them.
SUBJECTS_CAP = 1_000


@dataclass(frozen=True, slots=True)
class LinkPairView:
    """Two person records side by side with the model's explanation."""

    record_a: str
    record_b: str
    explanation: Any  # leds.link.explain.Explanation
    person_a: str | None
    person_b: str | None


@dataclass(frozen=True, slots=True)
class LinkEvaluation:
    """The index against a ground truth: overall, per source pair, and a threshold curve."""

    overall: Any  # leds.link.evaluate.Metrics
    by_source_pair: dict[tuple[str, str], Any]  # SourcePairMetrics
    curve: list[Any]  # CurvePoint(threshold, metrics)


def _ref(conn: Connection, ref: str | int) -> int:
    """A person record by internal id (``123``) or ``source:source_record_id``."""
    text = str(ref).strip()
    if text.isdigit():
        row = conn.execute(
            select(records.c.id, records.c.kind).where(records.c.id == int(text))
        ).first()
    elif ":" in text:
        source, _, rid = text.partition(":")
        row = conn.execute(
            select(records.c.id, records.c.kind).where(
                records.c.source == source.strip().lower(),
                records.c.kind == "person",
                records.c.source_record_id == rid.strip(),
            )
        ).first()
    else:
        raise LedsError(
            f"not a record reference: {text!r}",
            hint="give an internal record id (123) or SOURCE:ID, e.g. pnc:2001/0171310W",
        )
    if row is None:
        raise NotFound(f"no person record {text!r}")
    if row.kind != "person":
        raise LedsError(
            f"record {text!r} is a {row.kind} record, not a person record",
            hint="linkage compares the person (nominal) records of the sources",
        )
    return int(row.id)


def _label(conn: Connection, record_id: int) -> str:
    row = conn.execute(
        select(records.c.source, records.c.source_record_id).where(records.c.id == record_id)
    ).first()
    return f"{row.source}:{row.source_record_id}" if row else str(record_id)


def _persons_touched(outcome: Any) -> list[str]:
    ids: list[str] = []
    for sources, into in getattr(outcome, "merged", []):
        ids.extend([*sources, into])
    for source, into_ids in getattr(outcome, "split", []):
        ids.extend([source, *into_ids])
    ids.extend(getattr(outcome, "retired", []))
    return sorted(set(ids))


class LinkOps(ServiceBase):
    """Linkage operations (data stewards run and review; others may see explanations)."""

    def link_records(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        *,
        incremental: bool = False,
        import_ids: Sequence[int] = (),
        retrain: bool = True,
        threshold: float | None = None,
        progress: Callable[[str, int], None] | None = None,
    ) -> Result[Any]:
        """Link the person records of every source into persons (a *combination*).

        Full (default): train (or reuse with ``retrain=False``) the model, score, cluster
        with stable ids and review decisions honoured. ``incremental``: attach only the person
        records of ``import_ids`` with the saved model. Returns a
        :class:`leds.link.run.LinkResult`.
        """
        from leds.link import run

        mode = "incremental" if incremental else "full"
        query: dict[str, Any] = {"mode": mode, "import_ids": list(import_ids)}
        if threshold is not None:
            query["threshold"] = threshold
        if not incremental:
            query["retrain"] = retrain
        decision = self._authorise(user, purpose, "link_records", query)
        if incremental and not import_ids:
            raise LedsError(
                "an incremental run needs the imports to attach",
                hint="give --import N (see `leds sources`) or run a full link",
            )
        limit = run.DEFAULT_THRESHOLD if threshold is None else threshold
        # Fail closed: nothing is linked unless the start of the run is on the record.
        self._record(
            AuditKind.COMBINATION,
            user,
            purpose,
            "link_records",
            query,
            decision,
            ["link-run/next"],
            {"stage": "started"},
        )
        if incremental:
            result = run.link_incremental(
                self._store,
                self.data_dir,
                actor_id=user.actor.user_id,
                import_ids=import_ids,
                threshold=limit,
            )
        else:
            result = run.link_full(
                self._store,
                self.data_dir,
                actor_id=user.actor.user_id,
                threshold=limit,
                retrain=retrain,
                progress=progress,
            )
        outcome = result.outcome
        touched = _persons_touched(outcome)
        seq = self._record(
            AuditKind.COMBINATION,
            user,
            purpose,
            "link_records",
            query,
            decision,
            [f"link-run/{result.run_id}", *touched[:SUBJECTS_CAP]],
            {
                "stage": "finished",
                "run_id": result.run_id,
                "model_version": result.model_version,
                "records": result.records,
                "pairs": result.pairs,
                "persons": outcome.persons,
                "created": len(outcome.created),
                "merged": len(outcome.merged),
                "split": len(outcome.split),
                "records_changed": len(outcome.records_changed),
                "queued_for_review": result.queued_for_review,
                "persons_named": min(len(touched), SUBJECTS_CAP),
                "persons_touched": len(touched),
            },
        )
        return Result(result, seq)

    def link_explain(
        self, user: AuthenticatedUser, purpose: PurposeStatement, record_a: str, record_b: str
    ) -> Result[LinkPairView]:
        """Why two person records are (or are not) one person: each comparison's match
        weight and the total (the data behind a waterfall chart)."""
        from leds.link import index
        from leds.link.explain import explain_ids
        from leds.link.model import load_model

        query = {"record_a": str(record_a), "record_b": str(record_b)}
        decision = self._authorise(user, purpose, "link_explain", query)
        model = load_model(self.data_dir)
        with self._store.engine.connect() as conn:
            a, b = _ref(conn, record_a), _ref(conn, record_b)
            explanation = explain_ids(conn, model, a, b)
            persons = index.persons_of(conn, [a, b])
            view = LinkPairView(
                _label(conn, a), _label(conn, b), explanation, *(persons.get(a), persons.get(b))
            )
        seq = self._record(
            AuditKind.CONSULTATION,
            user,
            purpose,
            "link_explain",
            query,
            decision,
            [f"record/{a}", f"record/{b}"],
            {"match_weight": round(explanation.match_weight, 3), "model": model.version},
        )
        return Result(view, seq)

    def link_review_queue(
        self, user: AuthenticatedUser, purpose: PurposeStatement, limit: int = 50, offset: int = 0
    ) -> Result[list[Any]]:
        """Pairs near the threshold, most uncertain first (``leds.link.review.ReviewItem``)."""
        from leds.link import review

        query = {"limit": limit, "offset": offset}
        decision = self._authorise(user, purpose, "merge_split", query)
        with self._store.engine.connect() as conn:
            items = review.review_queue(conn, limit=limit, offset=offset)
        subjects = sorted({f"record/{r}" for i in items for r in (i.record_a, i.record_b)})
        seq = self._record(
            AuditKind.CONSULTATION,
            user,
            purpose,
            "link_review_queue",
            query,
            decision,
            subjects,
            {"items": len(items)},
        )
        return Result(items, seq)

    def link_decide(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        record_a: str,
        record_b: str,
        decision: str,
        reason: str,
    ) -> Result[Any]:
        """Decide a pair: ``match``, ``not-a-match`` or ``unsure``, with a reason; applied to
        the person index at once and respected by every later run (a *combination*)."""
        from leds.link import review

        query = {"record_a": str(record_a), "record_b": str(record_b), "decision": decision}
        allowed = self._authorise(user, purpose, "merge_split", {**query, "reason": reason})
        with self._audited() as conn:
            a, b = _ref(conn, record_a), _ref(conn, record_b)
            made = review.decide(conn, a, b, decision, reason, user.actor.user_id)
            seq = self._record(
                AuditKind.COMBINATION,
                user,
                purpose,
                "link_decide",
                {**query, "reason": reason},
                allowed,
                [f"record/{a}", f"record/{b}", *made.change.persons],
                _change(made),
                conn,
            )
        return Result(made, seq)

    def link_undo(
        self, user: AuthenticatedUser, purpose: PurposeStatement, decision_id: int, reason: str
    ) -> Result[Any]:
        """Undo a review decision (itself a *combination*: the index changes back)."""
        from leds.link import review

        query = {"decision_id": decision_id, "reason": reason}
        allowed = self._authorise(user, purpose, "merge_split", query)
        with self._audited() as conn:
            made = review.undo_decision(conn, decision_id, user.actor.user_id, reason)
            seq = self._record(
                AuditKind.COMBINATION,
                user,
                purpose,
                "link_undo",
                query,
                allowed,
                [f"record/{made.record_a}", f"record/{made.record_b}", *made.change.persons],
                _change(made),
                conn,
            )
        return Result(made, seq)

    def person_history(
        self, user: AuthenticatedUser, purpose: PurposeStatement, person_id: str
    ) -> Result[list[Any]]:
        """Which ids became which, when and why, for one person id (merges, splits, reviews)."""
        from leds.link import index

        query = {"person_id": person_id}
        decision = self._authorise(user, purpose, "link_explain", query)
        with self._store.engine.connect() as conn:
            events = index.history(conn, person_id)
        if not events:
            raise NotFound(f"no person {person_id!r} in the index")
        seq = self._record(
            AuditKind.CONSULTATION,
            user,
            purpose,
            "person_history",
            query,
            decision,
            [f"person/{person_id}"],
            {"events": len(events)},
        )
        return Result(events, seq)

    def link_evaluate(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        *,
        world: Path | None = None,
        thresholds: Sequence[float] = (),
    ) -> Result[LinkEvaluation]:
        """Compare the person index with a ground truth (a synthetic world's truth files, or
        the truth column of a mapped source): pairwise and B-cubed precision, recall and F1 of
        the index, per source pair, and — for ``thresholds`` — a curve from re-clustering the
        saved model's pairs at each threshold. Aggregate figures only."""
        from leds.link import evaluate, index
        from leds.link.model import load_model
        from leds.link.predict import FLOOR, predict
        from leds.link.run import _load_frame

        query: dict[str, Any] = {"world": str(world) if world else None}
        if thresholds:
            query["thresholds"] = list(thresholds)
        decision = self._authorise(user, purpose, "link_evaluate", query)
        with self._store.engine.connect() as conn:
            truth = (
                evaluate.truth_from_world(conn, world)
                if world is not None
                else evaluate.truth_from_column(conn)
            )
            if not truth:
                raise LedsError(
                    "no ground truth to evaluate against",
                    hint="give --world DIR (a synthetic world) or import a mapped source "
                    "with a truth column",
                )
            predicted = index.assignments(conn)
            sources = evaluate.source_of_records(conn, list(truth))
        overall = evaluate.evaluate(predicted, truth)
        by_pair = evaluate.breakdown_by_source_pair(predicted, truth, sources)
        points: list[Any] = []
        if thresholds:
            frame = _load_frame(self.data_dir)
            if frame is None:
                raise LedsError(
                    "no linkage frame to draw a curve from", hint="run `leds link` first"
                )
            pairs = predict(load_model(self.data_dir), frame, floor=FLOOR)
            points = evaluate.curve(frame.column("id"), pairs, truth, thresholds)
        seq = self._record(
            AuditKind.CONSULTATION,
            user,
            purpose,
            "link_evaluate",
            query,
            decision,
            [],
            {"records": len(truth), "f1": round(overall.f1, 6)},
        )
        return Result(LinkEvaluation(overall, by_pair, points), seq)


def _change(made: Any) -> dict[str, Any]:
    change = made.change
    return {
        "decision_id": made.id,
        "decision": made.decision,
        "persons": change.persons[:SUBJECTS_CAP],
        "records_changed": len(change.records_changed),
        "created": change.created,
        "retired": change.retired,
        "merged": [[list(a), b] for a, b in change.merged],
        "split": [[a, list(b)] for a, b in change.split],
    }
