"""Typed s.62 audit events (DPA 2018): who, when, why, what was asked, what was shown or changed.

Events are appended by the service in the same transaction as their effect; a response without
a committed entry is a bug. (This is the plain append-only table; the Merkle tree, signed
checkpoints and the witness build on these rows.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from leds.governance.identity import Actor, PurposeStatement
from leds.model.codes import AuditKind


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One audit event before it is committed (``seq`` is assigned by the log)."""

    kind: AuditKind
    operation: str
    actor: Actor
    purpose: PurposeStatement
    query: dict[str, Any]
    subjects: list[str] = field(default_factory=list)  # identifiers of what was shown/changed
    recipients: list[str] = field(default_factory=list)  # for disclosures
    decision: str = "allow"
    outcome: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def row(self) -> dict[str, Any]:
        """The row stored for this event (JSON columns canonical, UTC time)."""

        def dump(value: object) -> str:
            return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))

        return {
            "at": self.at.astimezone(UTC),  # stored and hashed as UTC
            "kind": self.kind.value,
            "operation": self.operation,
            "actor_id": self.actor.user_id,
            "actor_role": self.actor.role,
            "actor_org": self.actor.organisation,
            "purpose": self.purpose.code.value,
            "justification": self.purpose.justification,
            "case_ref": self.purpose.case_ref,
            "query": dump(self.query),
            "subjects": dump(self.subjects),
            "recipients": dump(self.recipients),
            "decision": self.decision,
            "outcome": dump(self.outcome),
        }


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """A committed audit event as read back from the log."""

    seq: int
    at: datetime
    kind: str
    operation: str
    actor_id: str
    actor_role: str
    actor_org: str
    purpose: str
    justification: str
    case_ref: str | None
    query: dict[str, Any]
    subjects: list[str]
    recipients: list[str]
    decision: str
    outcome: dict[str, Any]

    @classmethod
    def from_row(cls, row: Any) -> AuditEntry:
        at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
        return cls(
            seq=row.seq,
            at=at,
            kind=row.kind,
            operation=row.operation,
            actor_id=row.actor_id,
            actor_role=row.actor_role,
            actor_org=row.actor_org,
            purpose=row.purpose,
            justification=row.justification,
            case_ref=row.case_ref,
            query=json.loads(row.query),
            subjects=json.loads(row.subjects),
            recipients=json.loads(row.recipients),
            decision=row.decision,
            outcome=json.loads(row.outcome),
        )
