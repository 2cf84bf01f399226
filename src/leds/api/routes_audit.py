"""The REST API of audit oversight (auditors): the log filtered, volumes, integrity status,
exports (JSON lines or CSV, streamed) and misuse alerts. Thin routes, one service call each;
the filters are one dependency (:func:`audit_filter`) shared with the web pages."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from leds.api.errors import ERROR_RESPONSES
from leds.api.routes import PREFIX, ApiCall, Limit
from leds.api.schemas import AuditEntryOut, Item, Page
from leds.api.schemas_audit import AlertsPage, IntegrityOut, VolumeOut
from leds.governance.audit.query import AuditFilter, AuditQueryError
from leds.model.codes import Purpose, SourceSystem
from leds.service import AuditExport, Result

router = APIRouter(prefix=PREFIX, responses=ERROR_RESPONSES)

SUBJECT = (
    r"^((person/)?L[0-9]{10}|(record/|R)?[0-9]{1,18}|[a-z][a-z-]{1,20}/[A-Za-z0-9._:/-]{1,100}"
    r"|(pnc|pnd|dvla|iabs|generic):[A-Za-z0-9._/-]{1,64})$"
)
DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
Name = Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[\w.@:-]+$")]


class Decision(StrEnum):
    allow = "allow"
    deny = "deny"


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"


class Order(StrEnum):
    oldest = "oldest"
    newest = "newest"


class By(StrEnum):
    user = "user"
    unit = "unit"


def day(value: str | None, name: str) -> date | None:
    """A YYYY-MM-DD day (refused by the service's error when it is no day: 2026-02-30)."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise AuditQueryError(f"{name}: {value!r} is not a day", hint="YYYY-MM-DD") from None


AlertOverrides = dict[str, Any]
HHMM = r"^[0-2][0-9]:[0-5][0-9]$"


def alert_overrides(
    factor: Annotated[
        float | None,
        Query(ge=1, le=100, description="subject-volume: times the user's own daily median"),
    ] = None,
    floor: Annotated[
        int | None, Query(ge=1, le=100_000, description="subject-volume: at least this many")
    ] = None,
    baseline_days: Annotated[
        int | None, Query(ge=1, le=90, description="subject-volume: days of baseline")
    ] = None,
    out_of_hours_min: Annotated[
        int | None, Query(ge=1, le=10_000, description="out-of-hours: consultations a day")
    ] = None,
    work_start: Annotated[
        str | None, Query(pattern=HHMM, description="Working hours start (HH:MM, local)")
    ] = None,
    work_end: Annotated[
        str | None, Query(pattern=HHMM, description="Working hours end (HH:MM, after the start)")
    ] = None,
    refusals_min: Annotated[
        int | None, Query(ge=1, le=10_000, description="refusals: refused requests a day")
    ] = None,
) -> AlertOverrides:
    """This view's thresholds over the deployment's (the service checks them together)."""
    given = {
        "factor": factor,
        "floor": floor,
        "baseline_days": baseline_days,
        "out_of_hours_min": out_of_hours_min,
        "work_start": work_start,
        "work_end": work_end,
        "refusals_min": refusals_min,
    }
    return {k: v for k, v in given.items() if v is not None}


def audit_filter(
    user: Annotated[Name, Query(description="The acting user's id")] = None,
    organisation: Annotated[Name, Query(description="The acting user's organisation")] = None,
    unit: Annotated[
        str | None,
        Query(min_length=1, max_length=64, description="The acting user's unit (local accounts)"),
    ] = None,
    date_from: Annotated[
        str | None, Query(pattern=DAY, description="From this day (UTC, YYYY-MM-DD), inclusive")
    ] = None,
    date_to: Annotated[
        str | None, Query(pattern=DAY, description="To this day (UTC, YYYY-MM-DD), inclusive")
    ] = None,
    action: Annotated[Name, Query(description="The operation, e.g. view_record")] = None,
    source: Annotated[SourceSystem | None, Query(description="A source the entry names")] = None,
    subject: Annotated[
        str | None,
        Query(
            max_length=120,
            pattern=SUBJECT,
            description="person/L.. (also finds its records), record/N, a source's own id "
            "(pnc:2001/0171310W) or kind/id",
        ),
    ] = None,
    purpose: Annotated[Purpose | None, Query(description="The purpose recorded")] = None,
    decision: Annotated[Decision | None, Query(description="allow or deny")] = None,
) -> AuditFilter:
    return AuditFilter(
        user=user,
        organisation=organisation,
        unit=unit,
        date_from=day(date_from, "date_from"),
        date_to=day(date_to, "date_to"),
        action=action,
        source=None if source is None else source.value,
        subject=subject,
        purpose=None if purpose is None else purpose.value,
        decision=None if decision is None else decision.value,
    )


Filters = Annotated[AuditFilter, Depends(audit_filter)]


def filter_params(f: AuditFilter) -> dict[str, Any]:
    """The query parameters that give ``f`` back (for next links and twins)."""
    return f.asked()


def export_response(result: Result[AuditExport]) -> StreamingResponse:
    """The streamed export, with its audit entry in ``X-Leds-Audit-Seq``."""
    export = result.value
    name = f"audit-export-{result.audit_seq}.{export.format}"
    return StreamingResponse(
        export.lines,
        media_type=export.media_type,
        headers={
            "X-Leds-Audit-Seq": str(result.audit_seq),
            "X-Leds-Entries": str(export.entries),
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )


@router.get("/audit/search", tags=["audit"], summary="Audit entries matching filters (auditors)")
def audit_search(
    call: ApiCall,
    filters: Filters,
    order: Annotated[
        Order,
        Query(description="oldest first (paged on by after) or newest first (paged on by before)"),
    ] = Order.oldest,
    after: Annotated[
        int,
        Query(ge=0, le=2**62, description="Entries above this seq (newest first: the page above)"),
    ] = 0,
    before: Annotated[
        int | None,
        Query(ge=1, le=2**62, description="Entries below this seq (oldest first: the page below)"),
    ] = None,
    limit: Limit = 100,
) -> Page[AuditEntryOut]:
    result = call.service.audit_search(
        call.user,
        call.purpose(),
        filters,
        order=order.value,
        after=after,
        before=before,
        limit=limit,
    )
    page = result.value
    cursor: dict[str, int] = {}
    if page.next_after is not None:
        cursor = {"after": page.next_after}
    elif page.next_before is not None:
        cursor = {"before": page.next_before}
    more = None
    if cursor:
        query = urlencode(
            {**filter_params(filters), "order": order.value, **cursor, "limit": limit}
        )
        more = f"{PREFIX}/audit/search?{query}"
    return Page.of(result, [AuditEntryOut.of(e) for e in page.entries], more)


@router.get("/audit/volumes", tags=["audit"], summary="Entries per user or unit (auditors)")
def audit_volumes(call: ApiCall, filters: Filters, by: By = By.user) -> Page[VolumeOut]:
    result = call.service.audit_volumes(call.user, call.purpose(), filters, by=by.value)
    return Page.of(result, [VolumeOut.of(v) for v in result.value])


@router.get("/audit/integrity", tags=["audit"], summary="Log integrity status (auditors)")
def audit_integrity(call: ApiCall) -> Item[IntegrityOut]:
    result = call.service.audit_integrity(call.user, call.purpose())
    return Item.of(result, IntegrityOut.of(result.value))


@router.get(
    "/audit/export",
    tags=["audit"],
    summary="Export the filtered entries as JSON lines or CSV (streamed; recorded)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The entries (header X-Leds-Audit-Seq: the export's audit entry)",
            "content": {"application/x-ndjson": {}, "text/csv": {}},
        }
    },
)
def audit_export(
    call: ApiCall, filters: Filters, format: ExportFormat = ExportFormat.jsonl
) -> StreamingResponse:
    result = call.service.audit_export(call.user, call.purpose(), filters, fmt=format.value)
    return export_response(result)


@router.get("/audit/alerts", tags=["audit"], summary="Misuse alerts (volume and time rules)")
def misuse_alerts(
    call: ApiCall,
    date_from: Annotated[str, Query(pattern=DAY, description="First day (local), inclusive")],
    date_to: Annotated[str, Query(pattern=DAY, description="Last day, inclusive (a year at most)")],
    overrides: Annotated[AlertOverrides, Depends(alert_overrides)],
) -> AlertsPage:
    first = day(date_from, "date_from") or date.min  # the pattern makes both days given
    last = day(date_to, "date_to") or date.min
    result = call.service.misuse_alerts(call.user, call.purpose(), first, last, overrides=overrides)
    return AlertsPage.of_report(result)
