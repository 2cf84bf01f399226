"""The person page's panels (UI.md screen 4): the linkage panel and "viewed by" on the
overview, and the Intelligence and Biometrics tabs.

Each panel is its own service call, so its own audit entry (the page names each). What a page
*offers* is asked of the policy first (:meth:`Service.may`: a question, nothing recorded), so a
role that may not see linkage evidence or the audit log gets a sentence saying so, not a
refused page and not a refusal in the log on every view.

- Linkage panel: ``person_links`` (policy ``link_explain``): the stored links that joined the
  person's records, each with its match weight and a link to its waterfall
  (``/links/explain``); stewards (``merge_split``) get Confirm / Not a match (split) / Report
  wrong link (recorded as ``unsure``: nothing changes, the pair is on record for review), a
  reason required, posted with the CSRF token to ``/links/decisions``, which comes back here.
- Viewed by (``read_audit``: auditors): the audit entries naming this person, newest first,
  20 a page (``?viewed_before=N`` for older ones), with how many there are and a link to all
  of them in ``/audit`` (``audit_search`` with a subject filter, itself recorded against the
  person).
- Intelligence tab: ``person_intelligence``; grading and handling code are intelligence-class
  fields, shown only after the sensitive-data step (its own justification, recorded), as on a
  record view.
- Biometrics tab: ``person_biometrics``; enrolled templates (never an image). A 1:N search
  starts from an uploaded probe (``/faces``): templates carry no image to search with.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from leds.api.schemas_panels import PersonBiometricsOut, PersonIntelligenceOut, PersonLinksOut
from leds.api.schemas_search import PersonViewOut
from leds.governance.audit.query import AuditFilter
from leds.web.pages import Purposeful, Visit, render, service

router = APIRouter(include_in_schema=False)

VIEWED_BY_SHOWN = 20  # "viewed by" entries a page, newest first (paged by viewed_before)
PERSON_LINK_CHOICES = (
    ("match", "Confirm"),
    ("not-a-match", "Not a match (split)"),
    ("unsure", "Report wrong link"),
)


def overview_panels(request: Request, s: Visit, p: PersonViewOut) -> dict[str, Any]:
    """The linkage panel and "viewed by" for the overview page (template context)."""
    svc = service(request)
    out: dict[str, Any] = {"linkage": None, "viewed_by": None}
    if svc.may(s.user, s.purpose, "link_explain"):
        links = svc.person_links(s.user, s.purpose, p.key)
        decided = request.query_params.get("decided")
        out["linkage"] = {
            "links": PersonLinksOut.of(links.value),
            "seq": links.audit_seq,
            "may_decide": svc.may(s.user, s.purpose, "merge_split"),
            "choices": PERSON_LINK_CHOICES,
            "decided": decided if decided and decided.isdigit() else None,
        }
    if svc.may(s.user, s.purpose, "read_audit"):
        subject = f"person/{p.person_id}" if p.person_id else p.key
        f = AuditFilter(subject=subject)
        before = _cursor(request.query_params.get("viewed_before"))
        found = svc.audit_search(
            s.user, s.purpose, f, order="newest", before=before, limit=VIEWED_BY_SHOWN, total=True
        )
        page = found.value
        here = request.url.path
        everything = f"/audit?{urlencode({'subject': f.subject or ''})}"  # newest first
        twin = {"subject": f.subject or "", "order": "newest", "limit": VIEWED_BY_SHOWN}
        out["viewed_by"] = {
            "entries": page.entries,
            "seq": found.audit_seq,
            "total": page.total,
            "paged": before is not None,
            "newest": f"{here}#viewed-by-heading" if before is not None else None,
            "older": None
            if page.next_before is None
            else f"{here}?viewed_before={page.next_before}#viewed-by-heading",
            "subject": f.subject,
            "all": everything,
            "twin": "/api/v1/audit/search?"
            + urlencode({**twin, **({"before": before} if before else {})}),
        }
    return out


def _cursor(value: str | None) -> int | None:
    """A ``viewed_before`` cursor (ignored unless a positive entry number)."""
    if value and len(value) <= 19 and value.isdigit() and 0 < int(value) <= 2**62:
        return int(value)
    return None


def _tab_person(key: str, person_id: str | None) -> SimpleNamespace:
    """What the tab bar and heading need (no second view of the person is made for them)."""
    return SimpleNamespace(key=key, person_id=person_id, best_name=None)


@router.get("/persons/{key}/intelligence", response_class=HTMLResponse)
def person_intelligence(
    request: Request,
    s: Purposeful,
    key: str,
    sensitive: Annotated[str | None, Query(max_length=2000)] = None,
) -> HTMLResponse:
    sensitive = sensitive.strip() if sensitive and sensitive.strip() else None
    svc = service(request)
    result = svc.person_intelligence(s.user, s.purpose, key, sensitive=sensitive)
    intel = PersonIntelligenceOut.of(result.value)
    twin = f"/api/v1/persons/{quote(key, safe='')}/intelligence"
    if sensitive:
        twin += f"?sensitive={quote(sensitive, safe='')}"
    return render(
        request,
        "person_intelligence.html",
        s,
        result,
        twin=twin,
        p=_tab_person(intel.key, intel.key if intel.key.startswith("L") else None),
        person_tab="intelligence",
        intel=intel,
        sensitive=sensitive,
        may_step=svc.may(
            s.user, s.purpose, "view_sensitive", field_class="intelligence", sensitive_step=True
        ),
    )


@router.get("/persons/{key}/biometrics", response_class=HTMLResponse)
def person_biometrics(request: Request, s: Purposeful, key: str) -> HTMLResponse:
    svc = service(request)
    result = svc.person_biometrics(s.user, s.purpose, key)
    bio = PersonBiometricsOut.of(result.value)
    return render(
        request,
        "person_biometrics.html",
        s,
        result,
        twin=f"/api/v1/persons/{quote(key, safe='')}/biometrics",
        p=_tab_person(bio.key, bio.key if bio.key.startswith("L") else None),
        person_tab="biometrics",
        bio=bio,
        may_search=svc.may(s.user, s.purpose, "face_search", ("pnd", "iabs")),
    )
