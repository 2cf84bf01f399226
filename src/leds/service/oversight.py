"""Audit oversight (auditors): the log filtered, volumes per user and unit, integrity status,
exports and misuse alerts. Each call is authorised as ``read_audit`` and is itself an entry
in the log it reads; a search for a subject names that subject, so looking someone up in the
log is on record against them too."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import Connection

from leds.governance.audit import query as q
from leds.governance.audit.events import AuditEntry
from leds.governance.authn import AuthenticatedUser
from leds.governance.identity import PurposeStatement
from leds.governance.misuse import Alert, Rules, detect
from leds.governance.misuse.config import (
    FILE_NAME,
    OVERRIDABLE,
    load_rules,
    rules_dict,
    rules_from,
)
from leds.model.codes import AuditKind
from leds.service._base import Result, ServiceBase

MAX_ALERT_DAYS = 366


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of filtered entries in the order asked (``oldest`` or ``newest`` first).

    ``newer``: pass it as ``after`` (and no ``before``) for the page of newer entries;
    ``older``: pass it as ``before`` (and no ``after``) for the page of older ones (None:
    there are none). ``total``: how many entries match the filter, when it was asked for."""

    entries: list[AuditEntry]
    order: q.Order = "oldest"
    newer: int | None = None
    older: int | None = None
    total: int | None = None

    @property
    def next_after(self) -> int | None:
        """Oldest first: ``after`` for the next page (None: no more, or newest first)."""
        return self.newer if self.order == "oldest" else None

    @property
    def next_before(self) -> int | None:
        """Newest first: ``before`` for the next (older) page (None: no more, or oldest
        first)."""
        return self.older if self.order == "newest" else None


@dataclass(frozen=True, slots=True)
class AlertReport:
    """Misuse alerts of the days asked and the rules (thresholds) that produced them."""

    alerts: list[Alert]
    rules: Rules


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


def _neighbours(
    conn: Connection,
    f: q.AuditFilter,
    entries: list[AuditEntry],
    read: q.Order,
    more: bool,
    after: int,
    before: int | None,
) -> tuple[int | None, int | None]:
    """The cursors of a page's neighbours: (``after`` for newer entries, ``before`` for older
    ones), each None when no matching entry lies that way. ``more``: the read (in order
    ``read``, bounded by ``after`` and ``before``) found more than the page."""
    if not entries:
        return None, None
    seqs = [e.seq for e in entries]
    low, high = min(seqs), max(seqs)
    if read == "newest":  # read down from ``before``: older ones follow, newer lie above it
        has_older = more or (after > 0 and q.any_beyond(conn, f, before=low))
        has_newer = before is not None and q.any_beyond(conn, f, after=high)
    else:  # read up from ``after``
        has_newer = more or (before is not None and q.any_beyond(conn, f, after=high))
        has_older = after > 0 and q.any_beyond(conn, f, before=low)
    return (high if has_newer else None), (low if has_older else None)


class OversightOps(ServiceBase):
    def audit_search(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        filters: q.AuditFilter | None = None,
        *,
        order: q.Order = "oldest",
        after: int = 0,
        before: int | None = None,
        limit: int = 100,
        total: bool = False,
    ) -> Result[AuditPage]:
        """Entries matching ``filters`` (user, organisation, unit, dates, action, source,
        subject, purpose, decision), keyset-paged: oldest first on by ``after``, newest first
        on by ``before``. Paging back is the other cursor alone: newest first with ``after``
        (no ``before``) is the page of entries just above ``after``; oldest first with
        ``before`` (``after`` 0) the page just below ``before``. ``total``: count the matching
        entries too. The order and cursors are recorded in the entry's query."""
        f = filters or q.AuditFilter()
        order = q.check_order(order)
        if limit < 1 or after < 0 or (before is not None and before < 1):
            raise q.AuditQueryError(
                "cannot page the log like that",
                hint="limit at least 1, after 0 or more, before 1 or more",
            )
        asked: dict[str, Any] = {**f.asked(), "order": order, "after": after, "limit": limit}
        if before is not None:
            asked["before"] = before
        decision = self._authorise(user, purpose, "read_audit", asked)
        # Paging back (the other cursor alone) reads towards the cursor, then turns the page.
        if order == "newest":
            back = after > 0 and before is None
        else:
            back = before is not None and after == 0
        read: q.Order = ("oldest" if order == "newest" else "newest") if back else order
        with self._store.engine.connect() as conn:
            found = q.search(conn, f, after=after, before=before, limit=limit + 1, order=read)
            entries = found[:limit]
            if read != order:
                entries.reverse()
            newer, older = _neighbours(conn, f, entries, read, len(found) > limit, after, before)
            matched = q.count(conn, f) if total else None
        seq = self._record(
            AuditKind.CONSULTATION,
            user,
            purpose,
            "audit_search",
            asked,
            decision,
            _range(sorted(entries, key=lambda e: e.seq)) + ([f.subject] if f.subject else []),
            {"entries": len(entries), "newer": newer, "older": older, "total": matched},
        )
        return Result(AuditPage(entries, order, newer, older, matched), seq)

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

    def misuse_rules(self) -> Rules:
        """The deployment's misuse thresholds: ``DATA/misuse.toml`` over the shipped defaults
        (read at each use: a small file, read when an auditor asks for alerts; refused,
        naming the key, when it is wrong)."""
        if self._data is None:
            return Rules()
        path = self._data / FILE_NAME
        return load_rules(path) if path.is_file() else Rules()

    def misuse_alerts(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        date_from: date,
        date_to: date,
        *,
        rules: Rules | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> Result[AlertReport]:
        """Rule-based misuse alerts (``leds.governance.misuse``) for the days asked, under
        ``rules`` (default: the deployment's, :meth:`misuse_rules`) with an auditor's
        ``overrides`` for this view (keys ``leds.governance.misuse.config.OVERRIDABLE``,
        checked against their bounds). The rules used are returned and recorded."""
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
        given = dict(overrides or {})
        used = rules_from(
            given, rules or self.misuse_rules(), allowed=OVERRIDABLE, where="alert thresholds"
        )
        asked: dict[str, Any] = {
            "date_from": date_from.isoformat(),
            "date_to": date_to.isoformat(),
            "rules": rules_dict(used),
        }
        if given:
            asked["overrides"] = sorted(given)
        decision = self._authorise(user, purpose, "read_audit", asked)
        with self._store.engine.connect() as conn:
            alerts = detect(conn, date_from, date_to, used)
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
        return Result(AlertReport(alerts, used), seq)
