"""API models of audit oversight (volumes, integrity status, misuse alerts); the filtered
entries are :class:`leds.api.schemas.AuditEntryOut`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from leds.api.schemas import AUDIT_SEQ
from leds.governance.audit.query import CheckpointInfo, IntegrityStatus, Volume
from leds.governance.misuse import Alert, Rules
from leds.governance.misuse.config import rules_dict
from leds.service import AlertReport, Result


class VolumeOut(BaseModel):
    key: str = Field(description="User id, or unit (per unit)")
    organisation: str
    role: str | None = Field(description="The user's role (per user only)")
    entries: int
    consultations: int
    refusals: int
    subjects: int = Field(description="Distinct subjects (records, persons...) named")
    first: datetime
    last: datetime

    @classmethod
    def of(cls, v: Volume) -> VolumeOut:
        return cls(
            key=v.key,
            organisation=v.organisation,
            role=v.role,
            entries=v.entries,
            consultations=v.consultations,
            refusals=v.refusals,
            subjects=v.subjects,
            first=v.first,
            last=v.last,
        )


class CheckpointOut(BaseModel):
    size: int = Field(description="Entries the checkpoint covers")
    at: datetime
    root: str
    note: str = Field(description="The signed checkpoint (C2SP signed note)")
    cosigners: list[str] = Field(description="Witnesses that cosigned it")

    @classmethod
    def of(cls, c: CheckpointInfo | None) -> CheckpointOut | None:
        if c is None:
            return None
        return cls(size=c.size, at=c.at, root=c.root, note=c.note, cosigners=c.cosigners)


class VerifiedOut(BaseModel):
    seq: int = Field(description="The audit entry that recorded the verification")
    at: datetime
    actor_id: str
    entries: int = Field(description="Verified up to this entry")
    root: str


class IntegrityOut(BaseModel):
    size: int = Field(description="Entries in the log (the signed head)")
    head_note: str | None
    head_at: datetime | None
    checkpoints: int
    latest_checkpoint: CheckpointOut | None
    latest_cosigned: CheckpointOut | None
    last_verified: VerifiedOut | None = Field(
        description="The last whole-log verification recorded in the log"
    )

    @classmethod
    def of(cls, s: IntegrityStatus) -> IntegrityOut:
        v = s.last_verified
        return cls(
            size=s.size,
            head_note=s.head_note,
            head_at=s.head_at,
            checkpoints=s.checkpoints,
            latest_checkpoint=CheckpointOut.of(s.latest_checkpoint),
            latest_cosigned=CheckpointOut.of(s.latest_cosigned),
            last_verified=None
            if v is None
            else VerifiedOut(
                seq=v.seq, at=v.at, actor_id=v.actor_id, entries=v.entries, root=v.root
            ),
        )


class AlertOut(BaseModel):
    rule: str = Field(description="subject-volume, out-of-hours or refusals")
    user: str
    organisation: str
    day: date
    value: int
    threshold: float
    reason: str
    first_seq: int = Field(description="The user's first audit entry that day")

    @classmethod
    def of(cls, a: Alert) -> AlertOut:
        return cls(
            rule=a.rule,
            user=a.user,
            organisation=a.organisation,
            day=a.day,
            value=a.value,
            threshold=a.threshold,
            reason=a.reason,
            first_seq=a.first_seq,
        )


class RulesOut(BaseModel):
    """The misuse thresholds an alert list was computed with (the deployment's
    ``DATA/misuse.toml`` over the shipped defaults, with this view's overrides)."""

    timezone: str
    baseline_days: int
    min_baseline_days: int
    factor: float
    floor: int
    new_user_ceiling: int
    work_start: str = Field(description="HH:MM, local time")
    work_end: str = Field(description="HH:MM, local time")
    out_of_hours_min: int
    refusals_min: int

    @classmethod
    def of(cls, rules: Rules) -> RulesOut:
        values: dict[str, Any] = rules_dict(rules)
        return cls(**values)


class AlertsPage(BaseModel):
    """The list envelope of misuse alerts, with the rules that produced them."""

    items: list[AlertOut]
    count: int = Field(description="Number of items in this page")
    audit_seq: int = AUDIT_SEQ
    next: str | None = Field(default=None, description="Always null: every alert is listed")
    rules: RulesOut

    @classmethod
    def of_report(cls, result: Result[AlertReport]) -> AlertsPage:
        report = result.value
        items = [AlertOut.of(a) for a in report.alerts]
        return cls(
            items=items,
            count=len(items),
            audit_seq=result.audit_seq,
            rules=RulesOut.of(report.rules),
        )
