"""The results screen (UI.md screen 3) of the person search: facets with counts that filter,
sort, paging, per-source status, and the audited CSV export of the page shown.

The search page (:func:`leds.web.pages.search`) calls :func:`run_person` for the person tab;
every link built here is a plain ``/search?...`` link carrying the whole query, so the screen
works without JavaScript and each state has its own address. The export is its own service
call (``export_persons``), recorded as a disclosure, refused (and the refusal recorded) for a
user the policy does not let export.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leds.api.routes import csv_response, person_params
from leds.api.schemas_search import PersonHitOut, source_status
from leds.search.persons import FACETS, SORTS, PersonQuery
from leds.service._base import SOURCES
from leds.web.pages import (
    PAGE_SIZE,
    TOO_MANY,
    Purposeful,
    Visit,
    _age_fields,
    _dob_fields,
    _offset,
    _text,
    _understood,
    service,
)

router = APIRouter(include_in_schema=False)

FACET_LABELS = {
    "source": "Source",
    "sex": "Sex",
    "age_band": "Age band",
    "nationality": "Nationality",
    "marker": "Marker type",
}
SORT_LABELS = {"score": "Best match", "name": "Name", "dob": "Date of birth"}
SOURCE_LABELS = {
    "pnc": "PNC (criminal records)",
    "pnd": "PND (intelligence and custody)",
    "dvla": "DVLA (drivers and vehicles)",
    "iabs": "IABS (immigration and biometrics)",
    "generic": "Other loaded files",
}
SEX_LABELS = {"M": "Male", "F": "Female", "U": "Unknown", "unknown": "Not recorded"}
# Query-string keys that shape a person result without being a search criterion: the sources
# ticked arrive as ``source`` (one per checkbox) and travel on in links as ``sources``.
SHAPING = ("offset", "mode", "sort", "source", "sources", *(f"filter_{f}" for f in FACETS))
NO_SOURCE = "none"  # ``sources`` when the form was sent with every source unticked


def facet_label(facet: str, value: str) -> str:
    if facet == "source":
        return value.upper()
    if facet == "sex":
        return SEX_LABELS.get(value, value)
    return value


def source_choices(request: Request, s: Visit, asked: dict[str, str]) -> list[dict[str, Any]]:
    """The source checkboxes of the person form: only the sources this user may search for
    this purpose (a policy question: nothing read or recorded), each ticked unless the query
    leaves it out. The form's ``source`` boxes become ``sources`` in ``asked`` (so paging,
    facet and export links carry them), left out when every box is ticked."""
    svc = service(request)
    may = [x for x in SOURCES if svc.may(s.user, s.purpose, "search_person", (x,))]
    asked.pop("source", None)
    if may and "source" in request.query_params:  # the form: a hidden empty box, those ticked
        ticked = [x.strip().lower() for x in request.query_params.getlist("source") if x.strip()]
        # in the order of the sources; a box the form never offered is passed on as asked,
        # for the service to refuse (and record) or to call unknown
        picked = [x for x in SOURCES if x in ticked] + sorted(set(ticked) - set(SOURCES))
        if not picked:
            asked["sources"] = NO_SOURCE
        elif picked != may:
            asked["sources"] = ",".join(picked)
        else:
            asked.pop("sources", None)
    wanted = _sources(asked)
    return [
        {
            "value": x,
            "label": SOURCE_LABELS.get(x, x.upper()),
            "ticked": wanted is None or x in wanted,
        }
        for x in may
    ]


def _sources(asked: dict[str, str]) -> frozenset[str] | None:
    raw = asked.get("sources")
    if raw is None:
        return None
    if raw == NO_SOURCE:
        return frozenset()
    return frozenset(x.strip().lower() for x in raw.split(",") if x.strip())


def person_query(asked: dict[str, str]) -> PersonQuery:
    """The person query of the search form's fields (and the result's sort and filters)."""
    mode = asked.get("mode", "fuzzy")
    sort = asked.get("sort", "score")
    filters: dict[str, Any] = {f"filter_{f}": _text(asked, f"filter_{f}") for f in FACETS}
    return PersonQuery(
        surname=_text(asked, "surname"),
        forenames=_text(asked, "forenames"),
        sex=_text(asked, "sex"),
        postcode=_text(asked, "postcode"),
        identifier=_text(asked, "identifier"),
        mode=mode if mode in ("exact", "phonetic", "fuzzy") else "fuzzy",  # type: ignore[arg-type]
        sort=sort if sort in SORTS else "score",  # type: ignore[arg-type]
        sources=_sources(asked),
        limit=PAGE_SIZE,
        offset=_offset(asked),
        **filters,
        **_dob_fields(asked.get("dob", "")),
        **_age_fields(asked.get("age", "")),
    )


def _link(asked: dict[str, str], **changes: str | None) -> str:
    """``/search`` with the person tab, the query as asked, and ``changes`` (None removes a
    key); any change starts again at the first page."""
    params = {k: v for k, v in asked.items() if k != "offset"}
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return "/search?" + urlencode({"tab": "person", **params})


def run_person(request: Request, s: Visit, asked: dict[str, str]) -> dict[str, Any]:
    """Run the person search and build the results screen's context."""
    query = person_query(asked)
    result = service(request).search_person(s.user, s.purpose, query)
    found = result.value
    params = person_params(query)
    criteria = {k: v for k, v in params.items() if k == "mode" or k not in SHAPING}
    active = query.filters
    facets = []
    for facet in FACETS:
        counts = found.facets.get(facet) or {}
        if not counts:
            continue
        values = [
            {
                "value": value,
                "label": facet_label(facet, value),
                "count": n,
                "active": active.get(facet) == value,
                "href": _link(asked, **{f"filter_{facet}": value}),
            }
            for value, n in counts.items()
        ]
        facets.append({"name": facet, "label": FACET_LABELS[facet], "values": values})
    export = None
    if found.may_export and found.hits:
        export = "/search/export?" + urlencode({"tab": "person", **asked})
    return {
        "result": result,
        "twin": "/api/v1/search/persons?" + urlencode({**params, "offset": query.offset}),
        "hits": [PersonHitOut.of(h) for h in found.hits],
        "total": found.total,
        "facets": facets,
        "too_many": found.total > TOO_MANY,
        "understood": _understood(criteria),
        "sort": query.sort,
        "sorts": [
            {"value": v, "label": label, "href": _link(asked, sort=None if v == "score" else v)}
            for v, label in SORT_LABELS.items()
        ],
        "filters": [
            {
                "label": FACET_LABELS[f],
                "value": facet_label(f, v),
                "remove": _link(asked, **{f"filter_{f}": None}),
            }
            for f, v in active.items()
        ],
        "clear_filters": _link(asked, **{f"filter_{f}": None for f in active}),
        "source_status": source_status(found),
        "export": export,
        "may_export": found.may_export,
    }


@router.get("/search/export")
def export_persons(request: Request, s: Purposeful) -> Response:
    """The CSV of the result page shown (same query, sort, filters and page), recorded as a
    disclosure; refused for a user who may not export."""
    asked = {
        k: v.strip()[:200] for k, v in request.query_params.items() if k != "tab" and v.strip()
    }
    result = service(request).export_persons(s.user, s.purpose, person_query(asked))
    return csv_response(result.value.csv, result.audit_seq, "persons")
