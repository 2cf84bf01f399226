"""Misuse alerts: simple, explainable rules over the audit log (volume and time of day).

Each rule looks at one user's day (in the force's local time, ``Rules.timezone``) and says why
it fired, with the figures. Alerts are prompts for a person to look, never findings.

- ``subject-volume``: the user named more distinct subjects (persons, records) in consultations
  on one day than ``factor`` times their own median over their active days in the
  ``baseline_days`` before it (and at least ``floor``); a user with fewer than
  ``min_baseline_days`` active days is held to ``new_user_ceiling`` instead.
- ``out-of-hours``: at least ``out_of_hours_min`` consultations outside working hours
  (``work_start`` to ``work_end`` local time) on one day.
- ``refusals``: at least ``refusals_min`` refused requests on one day (probing for access).

The log is read over the asked range plus the baseline window, restricted by the indexes on
time; only the user/day counts are kept in memory.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, select

from leds.store.schema import audit_events, audit_index


@dataclass(frozen=True, slots=True)
class Rules:
    """The thresholds of the rules (defaults for a police force; tune per deployment)."""

    timezone: str = "Europe/London"
    baseline_days: int = 28
    min_baseline_days: int = 3
    factor: float = 3.0
    floor: int = 20
    new_user_ceiling: int = 100
    work_start: time = time(7, 0)
    work_end: time = time(19, 0)
    out_of_hours_min: int = 3
    refusals_min: int = 5


@dataclass(frozen=True, slots=True)
class Alert:
    rule: str
    user: str
    organisation: str
    day: date
    value: int  # the figure that fired the rule
    threshold: float
    reason: str
    first_seq: int  # the user's first entry that day (a place to start looking)


@dataclass
class _Day:
    org: str = ""
    first_seq: int = 0
    subjects: set[str] = field(default_factory=set)
    out_of_hours: int = 0
    refusals: int = 0


def detect(
    conn: Connection, date_from: date, date_to: date, rules: Rules | None = None
) -> list[Alert]:
    """The alerts of the days ``date_from``..``date_to`` (inclusive, local days)."""
    rules = rules or Rules()
    zone = ZoneInfo(rules.timezone)
    start = datetime.combine(date_from - timedelta(days=rules.baseline_days), time(), zone)
    end = datetime.combine(date_to + timedelta(days=1), time(), zone)
    c = audit_events.c
    days: dict[tuple[str, date], _Day] = defaultdict(_Day)
    in_range = and_(c.at >= start.astimezone(UTC), c.at < end.astimezone(UTC))
    rows = conn.execute(
        select(c.seq, c.at, c.actor_id, c.actor_org, c.kind, c.decision)
        .where(in_range)
        .order_by(c.seq)
    )
    for row in rows:
        local = _aware(row.at).astimezone(zone)
        tally = days[(row.actor_id, local.date())]
        if not tally.first_seq:
            tally.first_seq, tally.org = int(row.seq), str(row.actor_org)
        if row.decision.startswith("deny"):
            tally.refusals += 1
        elif row.kind == "consultation" and not (rules.work_start <= local.time() < rules.work_end):
            tally.out_of_hours += 1
    subjects = conn.execute(
        select(c.at, c.actor_id, audit_index.c.value)
        .select_from(
            audit_events.join(
                audit_index, and_(audit_index.c.seq == c.seq, audit_index.c.kind == "subject")
            )
        )
        .where(in_range, c.kind == "consultation", c.decision.like("allow:%"))
    )
    for at, actor, value in subjects:
        if value.startswith(("person/", "record/")):
            days[(actor, _aware(at).astimezone(zone).date())].subjects.add(value)
    by_user: dict[str, dict[date, _Day]] = defaultdict(dict)
    for (user, when), counts in days.items():
        by_user[user][when] = counts
    alerts: list[Alert] = []
    for user, user_days in by_user.items():
        for asked in sorted(d for d in user_days if date_from <= d <= date_to):
            alerts.extend(_rules_for_day(rules, user, asked, user_days))
    return sorted(alerts, key=lambda a: (a.day, a.user, a.rule), reverse=True)


def _rules_for_day(rules: Rules, user: str, day: date, user_days: dict[date, _Day]) -> list[Alert]:
    today = user_days[day]
    out: list[Alert] = []

    def alert(rule: str, value: int, threshold: float, reason: str) -> None:
        out.append(Alert(rule, user, today.org, day, value, threshold, reason, today.first_seq))

    seen = len(today.subjects)
    earlier = [
        len(d.subjects)
        for when, d in user_days.items()
        if day - timedelta(days=rules.baseline_days) <= when < day and d.subjects
    ]
    if len(earlier) >= rules.min_baseline_days:
        median = statistics.median(earlier)
        limit = max(float(rules.floor), rules.factor * median)
        if seen > limit:
            alert(
                "subject-volume",
                seen,
                limit,
                f"{seen} distinct subjects viewed, against a median of {median:g} a day over "
                f"{len(earlier)} active days in the previous {rules.baseline_days} "
                f"(limit {limit:g})",
            )
    elif seen > rules.new_user_ceiling:
        alert(
            "subject-volume",
            seen,
            rules.new_user_ceiling,
            f"{seen} distinct subjects viewed with too little history for a baseline "
            f"(fewer than {rules.min_baseline_days} active days; limit {rules.new_user_ceiling})",
        )
    if today.out_of_hours >= rules.out_of_hours_min:
        alert(
            "out-of-hours",
            today.out_of_hours,
            rules.out_of_hours_min,
            f"{today.out_of_hours} consultations outside working hours "
            f"({rules.work_start:%H:%M}-{rules.work_end:%H:%M} {rules.timezone})",
        )
    if today.refusals >= rules.refusals_min:
        alert(
            "refusals",
            today.refusals,
            rules.refusals_min,
            f"{today.refusals} refused requests in one day",
        )
    return out


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    result: datetime = value if value.tzinfo else value.replace(tzinfo=UTC)
    return result


__all__ = ["Alert", "Rules", "detect"]
