"""Screen 8, audit and oversight (auditors): the log filtered (user, organisation, unit, dates,
action, source, subject, purpose, decision), newest first by default (or oldest first),
keyset-paged both ways keeping the filters, with one-click "who viewed subject X" and "what
did user Y do", the integrity status, exports (JSON lines, CSV), volumes per user and unit,
and misuse alerts (thresholds overridable per view, shown beside the deployment's). Each page
is one or two service calls, each an audit entry; the JSON twins are ``/api/v1/audit/...``
(the verify button and inclusion proofs stay in :mod:`leds.web.pages`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from leds.api.routes_audit import export_response
from leds.api.schemas import AuditEntryOut
from leds.api.schemas_audit import AlertsPage, IntegrityOut, RulesOut, VolumeOut
from leds.governance.audit.query import AuditFilter, AuditQueryError, check_order
from leds.governance.misuse.config import OVERRIDABLE, parse_value
from leds.model.codes import Purpose, SourceSystem
from leds.web.pages import Purposeful, render, service

router = APIRouter(include_in_schema=False)

FILTER_FIELDS = (
    "user",
    "organisation",
    "unit",
    "date_from",
    "date_to",
    "action",
    "source",
    "subject",
    "purpose",
    "decision",
)
# The operations the log records (refusals are recorded under the policy action asked).
ACTIONS = (
    "audit_export",
    "audit_integrity",
    "audit_search",
    "audit_volumes",
    "biometric_candidates",
    "biometric_close",
    "biometric_decide",
    "biometric_enrol",
    "biometric_evaluate",
    "biometric_performance",
    "biometric_plot",
    "create_token",
    "data_quality",
    "erase_record",
    "export",
    "face_quality",
    "face_search",
    "fingerprint_search",
    "import_source",
    "link_decide",
    "link_evaluate",
    "link_explain",
    "link_records",
    "link_review_queue",
    "link_undo",
    "list_imports",
    "list_rejections",
    "lookup_identifier",
    "manage_users",
    "misuse_alerts",
    "person_history",
    "read_audit",
    "reindex_search",
    "search_person",
    "search_property",
    "search_text",
    "search_vehicle",
    "show_person",
    "show_vehicle",
    "threshold_approve",
    "threshold_propose",
    "threshold_refuse",
    "verify_audit",
    "view_record",
)
Text = Annotated[str, Query(max_length=200)]
LAST_SEQ = 2**62  # above any entry: "before" it, oldest first, is the log's last page


def _day(value: str, name: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise AuditQueryError(
            f"cannot read the {name.replace('_', ' ')} {value!r}", hint="give a date: 2026-11-26"
        ) from None


def filter_from(asked: dict[str, str]) -> AuditFilter:
    """The filter of a page's query string (blank fields: any)."""

    def text(key: str) -> str | None:
        value = asked.get(key, "").strip()
        return value or None

    decision = text("decision")
    if decision not in (None, "allow", "deny"):
        raise AuditQueryError(f"unknown decision {decision!r}", hint="allow or deny")
    return AuditFilter(
        user=text("user"),
        organisation=text("organisation"),
        unit=text("unit"),
        date_from=_day(asked.get("date_from", ""), "date_from"),
        date_to=_day(asked.get("date_to", ""), "date_to"),
        action=text("action"),
        source=text("source"),
        subject=text("subject"),
        purpose=text("purpose"),
        decision=decision,  # type: ignore[arg-type]
    )


def _asked(request: Request) -> dict[str, str]:
    return {
        k: v.strip()[:200]
        for k, v in request.query_params.items()
        if k in FILTER_FIELDS and v.strip()
    }


def _link(path: str, **params: Any) -> str:
    given = {k: v for k, v in params.items() if v not in (None, "")}
    return path + ("?" + urlencode(given) if given else "")


def _form_context(asked: dict[str, str]) -> dict[str, Any]:
    return {
        "asked": asked,
        "actions": ACTIONS,
        "sources": [s.value for s in SourceSystem],
        "purpose_codes": [p.value for p in Purpose],
    }


@router.get("/audit", response_class=HTMLResponse)
def audit(
    request: Request,
    s: Purposeful,
    order: Annotated[str, Query(max_length=10)] = "newest",
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> HTMLResponse:
    asked = _asked(request)
    f = filter_from(asked)
    order = check_order(order.strip() or "newest")
    svc = service(request)
    result = svc.audit_search(
        s.user,
        s.purpose,
        f,
        order=order,
        after=after,
        before=before,
        limit=limit,
        total=bool(asked),
    )
    status = svc.audit_integrity(s.user, s.purpose)
    page = result.value
    params = f.asked()
    keep = {**asked, "order": order, "limit": limit if limit != 50 else None}

    def newer(seq: int) -> str:  # newest first: the page above; oldest first: the next page
        return _link("/audit", **keep, after=seq)

    def older(seq: int) -> str:
        return _link("/audit", **keep, before=seq)

    pages = {
        "newer": None if page.newer is None else newer(page.newer),
        "older": None if page.older is None else older(page.older),
        "start": _link("/audit", **keep) if after or before else None,
        # oldest first, the log's last page (the page below any entry there can be)
        "latest": older(LAST_SEQ) if order == "oldest" and page.newer is not None else None,
    }
    cursor = {"after": after or None, "before": before}
    return render(
        request,
        "audit.html",
        s,
        result,
        twin=_link("/api/v1/audit/search", **params, order=order, **cursor, limit=limit),
        entries=[AuditEntryOut.of(e) for e in page.entries],
        order=order,
        orders={
            o: _link("/audit", **asked, order=o, limit=keep["limit"]) for o in ("newest", "oldest")
        },
        total=page.total,
        paged=bool(after or before),
        limit=limit,
        filtered=bool(params),
        pages=pages,
        exports={fmt: _link("/audit/export", **asked, format=fmt) for fmt in ("jsonl", "csv")},
        integrity=IntegrityOut.of(status.value),
        integrity_seq=status.audit_seq,
        **_form_context(asked),
    )


@router.get("/audit/export")
def audit_export(
    request: Request, s: Purposeful, format: Annotated[str, Query(max_length=10)] = "jsonl"
) -> StreamingResponse:
    f = filter_from(_asked(request))
    if format not in ("jsonl", "csv"):
        raise AuditQueryError(f"cannot export as {format!r}", hint="jsonl or csv")
    result = service(request).audit_export(s.user, s.purpose, f, fmt=format)  # type: ignore[arg-type]
    return export_response(result)


def _default_range(asked: dict[str, str]) -> dict[str, str]:
    today = datetime.now(UTC).date()
    return {
        "date_from": asked.get("date_from") or (today - timedelta(days=6)).isoformat(),
        "date_to": asked.get("date_to") or today.isoformat(),
        **{k: v for k, v in asked.items() if k not in ("date_from", "date_to")},
    }


@router.get("/audit/volumes", response_class=HTMLResponse)
def audit_volumes(
    request: Request, s: Purposeful, by: Annotated[str, Query(max_length=10)] = "user"
) -> HTMLResponse:
    by = by if by in ("user", "unit") else "user"
    asked = _default_range(_asked(request))
    f = filter_from(asked)
    result = service(request).audit_volumes(s.user, s.purpose, f, by=by)  # type: ignore[arg-type]
    return render(
        request,
        "audit_volumes.html",
        s,
        result,
        twin=_link("/api/v1/audit/volumes", **f.asked(), by=by),
        rows=[VolumeOut.of(v) for v in result.value],
        by=by,
        other=_link("/audit/volumes", **asked, by="unit" if by == "user" else "user"),
        **_form_context(asked),
    )


@router.get("/audit/alerts", response_class=HTMLResponse)
def audit_alerts(
    request: Request,
    s: Purposeful,
    date_from: Text = "",
    date_to: Text = "",
) -> HTMLResponse:
    asked = _default_range({"date_from": date_from, "date_to": date_to})
    first = _day(asked["date_from"], "date_from") or date.today()
    last = _day(asked["date_to"], "date_to") or date.today()
    svc = service(request)
    defaults = svc.misuse_rules()
    # The form sends every threshold: those left at the deployment's value are not overrides
    # (an unreadable one is, and the service refuses it saying why).
    overrides = {
        k: v.strip()[:20]
        for k, v in request.query_params.items()
        if k in OVERRIDABLE and v.strip() and parse_value(k, v.strip()[:20]) != getattr(defaults, k)
    }
    result = svc.misuse_alerts(s.user, s.purpose, first, last, overrides=overrides)
    report = AlertsPage.of_report(result)
    days = {"date_from": first.isoformat(), "date_to": last.isoformat()}
    return render(
        request,
        "audit_alerts.html",
        s,
        result,
        twin=_link("/api/v1/audit/alerts", **days, **overrides),
        alerts=report.items,
        rules=report.rules,
        defaults=RulesOut.of(defaults),
        overrides=overrides,
        asked=asked,
    )
