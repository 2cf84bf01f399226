"""Audit oversight (auditors): the log filtered, volumes per user and unit, integrity status,
exports and misuse alerts. Each call is authorised as ``read_audit`` and is itself an entry
in the log it reads; a search for a subject names that subject, so looking someone up in the
log is on record against them too."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Literal

from leds.governance.audit import query as q
from leds.governance.audit.events import AuditEntry
from leds.governance.authn import AuthenticatedUser
from leds.governance.identity import PurposeStatement
from leds.governance.misuse import Alert, Rules, detect
from leds.model.codes import AuditKind
from leds.service._base import Result, ServiceBase

MAX_ALERT_DAYS = 366


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of filtered entries, oldest first; ``next_after``: pass it as ``after`` for
    the next page (None: no more)."""

    entries: list[AuditEntry]
    next_after: int | None


@dataclass(frozen=True, slots=True)
class AuditExport:
    """A recorded export: how many entries, and the lines (a stream: iterate once). Only the
    entries before the export's own audit entry are in it."""

    format: Literal["jsonl", "csv"]
    entries: int
    lines: Iterator[str]

    @property
    def media_type(self) -> str:
        return "application/x-ndjson" if self.format == "jsonl" else "text/csv"


def _range(entries: list[AuditEntry]) -> list[str]:
    return [f"audit/{entries[0].seq}-{entries[-1].seq}"] if entries else []


class OversightOps(ServiceBase):
    def audit_search(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        filters: q.AuditFilter | None = None,
        *,
        after: int = 0,
        limit: int = 100,
    ) -> Result[AuditPage]:
        """Entries matching ``filters`` (user, organisation, unit, dates, action, source,
        subject, purpose, decision), oldest first, keyset-paged by ``after``."""
        f = filters or q.AuditFilter()
        asked = {**f.asked(), "after": after, "limit": limit}
        decision = self._authorise(user, purpose, "read_audit", asked)
        with self._store.engine.connect() as conn:
            entries = q.search(conn, f, after=after, limit=limit + 1)
        more = len(entries) > limit
        entries = entries[:limit]
        seq = self._record(
            AuditKind.CONSULTATION,
            user,
            purpose,
            "audit_search",
            asked,
            decision,
            _range(entries) + ([f.subject] if f.subject else []),
            {"entries": len(entries), "more": more},
        )
        return Result(AuditPage(entries, entries[-1].seq if more else None), seq)

    def audit_volumes(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        filters: q.AuditFilter | None = None,
        *,
        by: Literal["user", "unit"] = "user",
    ) -> Result[list[q.Volume]]:
        """Entries, consultations, refusals and distinct subjects per user or per unit over
        the filtered entries (typically a date range)."""
        f = filters or q.AuditFilter()
        if by not in ("user", "unit"):
            raise q.AuditQueryError(f"cannot count by {by!r}", hint="by user or by unit")
        asked = {**f.asked(), "by": by}
        decision = self._authorise(user, purpose, "read_audit", asked)
        with self._store.engine.connect() as conn:
            rows = q.volumes(conn, f, by)
        seq = self._record(
            AuditKind.CONSULTATION,
            user,
            purpose,
            "audit_volumes",
            asked,
            decision,
            [f.subject] if f.subject else [],
            {"rows": len(rows), "entries": sum(v.entries for v in rows)},
        )
        return Result(rows, seq)

    def audit_integrity(
        self, user: AuthenticatedUser, purpose: PurposeStatement
    ) -> Result[q.IntegrityStatus]:
        """The log's integrity status without recomputing it: the signed head, the latest
        signed checkpoint, the latest witness cosignature and the last whole-log verification
        recorded (``verify_audit`` recomputes everything)."""
        decision = self._authorise(user, purpose, "read_audit", {})
        with self._store.engine.connect() as conn:
            status = q.integrity_status(conn)
        seq = self._record(
            AuditKind.CONSULTATION,
            user,
            purpose,
            "audit_integrity",
            {},
            decision,
            [],
            {
                "size": status.size,
                "verified": status.last_verified.entries if status.last_verified else None,
            },
        )
        return Result(status, seq)

    def audit_export(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        filters: q.AuditFilter | None = None,
        *,
        fmt: Literal["jsonl", "csv"] = "jsonl",
    ) -> Result[AuditExport]:
        """The filtered entries as JSON lines or CSV, streamed. The export is recorded (a
        disclosure to the auditor) before anything is read out; it holds the entries before
        its own entry."""
        f = filters or q.AuditFilter()
        if fmt not in ("jsonl", "csv"):
            raise q.AuditQueryError(f"cannot export as {fmt!r}", hint="jsonl or csv")
        asked = {**f.asked(), "format": fmt}
        decision = self._authorise(user, purpose, "read_audit", asked)
        with self._store.engine.connect() as conn:
            matched = q.count(conn, f)
        seq = self._record(
            AuditKind.DISCLOSURE,
            user,
            purpose,
            "audit_export",
            asked,
            decision,
            [f.subject] if f.subject else [],
            {"entries": matched, "format": fmt},
            recipients=[user.actor.user_id],
        )
        lines = q.export_lines(self._store.engine, f, fmt, before=seq)
        return Result(AuditExport(fmt, matched, lines), seq)

    def misuse_alerts(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        date_from: date,
        date_to: date,
        *,
        rules: Rules | None = None,
    ) -> Result[list[Alert]]:
        """Rule-based misuse alerts (``leds.governance.misuse``) for the days asked."""
        asked = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat()}
        q.check_days(date_from, date_to)
        if date_from > date_to:
            raise q.AuditQueryError(
                f"the date range ends ({date_to}) before it starts ({date_from})",
                hint="give the earlier date first",
            )
        if (date_to - date_from).days >= MAX_ALERT_DAYS:
            raise q.AuditQueryError(
                "alerts are computed over at most a year at a time", hint="narrow the dates"
            )
        decision = self._authorise(user, purpose, "read_audit", asked)
        with self._store.engine.connect() as conn:
            alerts = detect(conn, date_from, date_to, rules)
        seq = self._record(
            AuditKind.CONSULTATION,
            user,
            purpose,
            "misuse_alerts",
            asked,
            decision,
            sorted({f"user/{a.user}" for a in alerts}),
            {"alerts": len(alerts)},
        )
        return Result(alerts, seq)
