"""The decision record of a 1:N search: what was searched, with what, against which threshold,
and what each reviewer decided about each candidate, why and when — as JSON and as CSV.

It is built from what the store recorded (:func:`leds.biometrics.review.review_state` and
:func:`~leds.biometrics.review.decision_history`): the probe's SHA-256 and parameters (never
the probe), the algorithm, the threshold and its version in force at the search, who searched
for what purpose and case, every candidate (rank, score, above or below the threshold, its
source record, its template's enrolment date, quality and algorithm) with its first and second
decisions, outcome and disagreement, every decision ever recorded (revisions included), and the
closure. A candidate's identity (sample reference, source record id, person record) can be
withheld per source (``hidden_sources``): the caller decides what its user may see.

The JSON file is :meth:`DecisionRecord.json_text` (keys sorted, so the same record always
gives the same bytes and the same SHA-256); the CSV file is one row per candidate, the search's
fields repeated on each row, cells a spreadsheet would run as formulas prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from leds.biometrics.review import Decision, ReviewState, decision_history, review_state

FORMAT_VERSION = 1
WITHHELD = "withheld: your role may not see identity fields of this source for this purpose"
CSV_COLUMNS = (
    "search_id",
    "modality",
    "status",
    "notice",
    "probe_sha256",
    "probe_parameters",
    "algorithm",
    "threshold_version",
    "threshold",
    "list_length",
    "searched_by",
    "purpose",
    "case_ref",
    "searched_at",
    "closed_by",
    "closed_at",
    "rank",
    "score",
    "above_threshold",
    "source",
    "kind",
    "enrolled_at",
    "template_quality",
    "template_algorithm",
    "sample_ref",
    "source_record_id",
    "person_record_id",
    "first_decision",
    "first_rationale",
    "first_reviewer",
    "first_decided_at",
    "second_decision",
    "second_rationale",
    "second_reviewer",
    "second_decided_at",
    "outcome",
    "disagreement",
    "revisions",
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _decision(d: Decision | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {
        "decision_id": d.id,
        "reviewer_id": d.reviewer_id,
        "reviewer_role": d.reviewer_role,
        "decision": d.decision,
        "rationale": d.rationale,
        "decided_at": d.decided_at.isoformat(),
    }


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One search's decision record (see the module docstring)."""

    state: ReviewState
    history: tuple[Decision, ...]
    hidden_sources: frozenset[str] = field(default_factory=frozenset)

    @property
    def records_read(self) -> tuple[int, ...]:
        """The records the file names (sample and person records): the audit subjects."""
        ids: set[int] = set()
        for r in self.state.reviews:
            c = r.candidate
            if c.record_source in self.hidden_sources:
                continue
            ids.add(c.record_id)
            if c.person_record_id is not None:
                ids.add(c.person_record_id)
        return tuple(sorted(ids))

    def as_dict(self) -> dict[str, Any]:
        found = self.state.search
        if found is None:  # review_state always loads it; a hand-made state may not
            raise ValueError("a decision record needs the recorded search")
        revised = {d.id for d in self.history} - {
            d.id for r in self.state.reviews for d in (r.first, r.second) if d is not None
        }
        candidates = []
        for r in self.state.reviews:
            c = r.candidate
            hidden = c.record_source in self.hidden_sources
            candidates.append(
                {
                    "rank": c.rank,
                    "score": c.score,
                    "above_threshold": c.above_threshold,
                    "source": c.record_source,
                    "kind": c.record_kind,
                    "template": {
                        "template_id": c.template_id,
                        "enrolled_at": _when(c.enrolled_at),
                        "quality": c.quality,
                        "algorithm": c.template_algorithm,
                    },
                    "identity": None
                    if hidden
                    else {
                        "sample_ref": c.sample_ref,
                        "record_id": c.record_id,
                        "source_record_id": c.record_source_id,
                        "person_record_id": c.person_record_id,
                        "person_source_record_id": c.person_source_id,
                    },
                    "identity_withheld": WITHHELD if hidden else None,
                    "first": _decision(r.first),
                    "second": _decision(r.second),
                    "outcome": r.outcome,
                    "disagreement": r.disagreement,
                    "revisions": sum(
                        1 for d in self.history if d.rank == c.rank and d.id in revised
                    ),
                }
            )
        return {
            "record": "leds biometric search decision record",
            "format_version": FORMAT_VERSION,
            "notice": found.notice,
            "search_id": found.search_id,
            "modality": found.modality,
            "status": found.status,
            "probe": {"sha256": found.probe_sha256, "parameters": found.parameters},
            "algorithm": found.algorithm,
            "threshold": {"version": found.threshold_version, "value": found.threshold},
            "list_length": found.list_length,
            "searched": {
                "by": found.actor_id,
                "purpose": found.purpose,
                "case_ref": found.case_ref,
                "at": found.created_at.isoformat(),
            },
            "closed": None
            if found.status != "closed"
            else {"by": found.closed_by, "at": _when(found.closed_at)},
            "undecided": list(self.state.undecided),
            "candidates": candidates,
            "decisions": [_decision(d) for d in self.history],
        }

    def json_text(self) -> str:
        """The JSON file (sorted keys: the same record gives the same bytes)."""
        return json.dumps(self.as_dict(), sort_keys=True, indent=1, ensure_ascii=False) + "\n"

    def csv_text(self) -> str:
        """The CSV file: one row per candidate (:data:`CSV_COLUMNS`)."""
        d = self.as_dict()
        search = [
            d["search_id"],
            d["modality"],
            d["status"],
            d["notice"],
            d["probe"]["sha256"],
            json.dumps(d["probe"]["parameters"], sort_keys=True),
            d["algorithm"],
            d["threshold"]["version"],
            d["threshold"]["value"],
            d["list_length"],
            d["searched"]["by"],
            d["searched"]["purpose"],
            d["searched"]["case_ref"],
            d["searched"]["at"],
            (d["closed"] or {}).get("by"),
            (d["closed"] or {}).get("at"),
        ]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for c in d["candidates"]:
            who = c["identity"] or {}
            row: list[object] = [
                *search,
                c["rank"],
                c["score"],
                c["above_threshold"],
                c["source"],
                c["kind"],
                c["template"]["enrolled_at"],
                c["template"]["quality"],
                c["template"]["algorithm"],
                who.get("sample_ref", c["identity_withheld"]),
                who.get("source_record_id", c["identity_withheld"]),
                who.get("person_record_id", c["identity_withheld"]),
            ]
            for role in ("first", "second"):
                dec = c[role] or {}
                row += [dec.get(k) for k in ("decision", "rationale", "reviewer_id", "decided_at")]
            row += [c["outcome"], c["disagreement"], c["revisions"]]
            writer.writerow([_cell(v) for v in row])
        return out.getvalue()


def decision_record(
    conn: Connection, search_id: int, *, hidden_sources: frozenset[str] = frozenset()
) -> DecisionRecord:
    """The decision record of a search as recorded now (open or closed)."""
    return DecisionRecord(
        review_state(conn, search_id), decision_history(conn, search_id), hidden_sources
    )
