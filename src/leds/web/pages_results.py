"""The results screen (UI.md screen 3) of the person and vehicle searches: facets with counts
that filter, sort, paging, per-source status, and the audited CSV export of the page shown.

The search page (:func:`leds.web.pages.search`) calls :func:`run_person` for the person tab
and :func:`run_vehicle` for the vehicle tab; both build their screen with the same helpers
(:func:`facet_links`, :func:`sort_links`, :func:`filter_badges`, :func:`export_link`). Every
link built here is a plain ``/search?...`` link carrying the whole query, so the screen works
without JavaScript and each state has its own address. The export is its own service call
(``export_persons`` / ``export_vehicles``), recorded as a disclosure, refused (and the refusal
recorded) for a user the policy does not let export.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leds.api.routes import csv_response, person_params, vehicle_params
from leds.api.schemas_search import PersonHitOut, VehicleHitOut, source_status
from leds.search.persons import FACETS, SORTS, PersonQuery
from leds.search.vehicles import FACETS as VEHICLE_FACETS
from leds.search.vehicles import SORTS as VEHICLE_SORTS
from leds.search.vehicles import VehicleQuery
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
VEHICLE_FACET_LABELS = {
    "source": "Source",
    "make": "Make",
    "colour": "Colour",
    "marker": "Marker",
    "keeper_area": "Keeper postcode area",
}
VEHICLE_SORT_LABELS = {
    "relevance": "Best match",
    "vrm": "Mark",
    "make": "Make",
    "keeper_change": "Newest keeper change",
}
# Query-string keys that shape a person result without being a search criterion: the sources
# ticked arrive as ``source`` (one per checkbox) and travel on in links as ``sources``.
SHAPING = ("offset", "mode", "sort", "source", "sources", *(f"filter_{f}" for f in FACETS))
VEHICLE_SHAPING = ("offset", "sort", *(f"filter_{f}" for f in VEHICLE_FACETS))
NO_SOURCE = "none"  # ``sources`` when the form was sent with every source unticked


def facet_label(facet: str, value: str) -> str:
    if facet == "source":
        return value.upper()
    if facet == "sex":
        return SEX_LABELS.get(value, value)
    return value


# ---- shared by the person and vehicle results --------------------------------------------
def link(tab: str, asked: Mapping[str, str], **changes: str | None) -> str:
    """``/search`` with ``tab``, the query as asked, and ``changes`` (None removes a key); any
    change starts again at the first page."""
    params = {k: v for k, v in asked.items() if k != "offset"}
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return "/search?" + urlencode({"tab": tab, **params})


def facet_links(
    tab: str,
    asked: Mapping[str, str],
    counts: Mapping[str, Mapping[str, int]],
    active: Mapping[str, str],
    labels: Mapping[str, str],
    label_of: Callable[[str, str], str] = facet_label,
) -> list[dict[str, Any]]:
    """The facets shown (in the order of ``labels``), each value with its count and the link
    that filters on it (the active value marked)."""
    out = []
    for facet, title in labels.items():
        values = counts.get(facet) or {}
        if not values:
            continue
        chosen = (active.get(facet) or "").casefold()
        rows = [
            {
                "value": value,
                "label": label_of(facet, value),
                "count": n,
                "active": chosen == value.casefold(),
                "href": link(tab, asked, **{f"filter_{facet}": value}),
            }
            for value, n in values.items()
        ]
        out.append({"name": facet, "label": title, "values": rows})
    return out


def filter_badges(
    tab: str,
    asked: Mapping[str, str],
    active: Mapping[str, str],
    labels: Mapping[str, str],
    label_of: Callable[[str, str], str] = facet_label,
) -> dict[str, Any]:
    """The active filters, each with the link that removes it, and the link clearing all."""
    return {
        "filters": [
            {
                "label": labels[f],
                "value": label_of(f, v),
                "remove": link(tab, asked, **{f"filter_{f}": None}),
            }
            for f, v in active.items()
        ],
        "clear_filters": link(tab, asked, **{f"filter_{f}": None for f in active}),
    }


def sort_links(
    tab: str, asked: Mapping[str, str], labels: Mapping[str, str], default: str
) -> list[dict[str, str]]:
    """A link per sort order (the default one leaves ``sort`` out of the address)."""
    return [
        {"value": v, "label": label, "href": link(tab, asked, sort=None if v == default else v)}
        for v, label in labels.items()
    ]


def export_link(tab: str, asked: Mapping[str, str], found: Any) -> str | None:
    """The page's ``/search/export`` link when the user may export and there are hits."""
    if found.may_export and found.hits:
        return "/search/export?" + urlencode({"tab": tab, **asked})
    return None


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


def run_person(request: Request, s: Visit, asked: dict[str, str]) -> dict[str, Any]:
    """Run the person search and build the results screen's context."""
    query = person_query(asked)
    result = service(request).search_person(s.user, s.purpose, query)
    found = result.value
    params = person_params(query)
    criteria = {k: v for k, v in params.items() if k == "mode" or k not in SHAPING}
    active = query.filters
    return {
        "result": result,
        "twin": "/api/v1/search/persons?" + urlencode({**params, "offset": query.offset}),
        "hits": [PersonHitOut.of(h) for h in found.hits],
        "total": found.total,
        "facets": facet_links("person", asked, found.facets, active, FACET_LABELS),
        "too_many": found.total > TOO_MANY,
        "understood": _understood(criteria),
        "sort": query.sort,
        "sorts": sort_links("person", asked, SORT_LABELS, "score"),
        **filter_badges("person", asked, active, FACET_LABELS),
        "source_status": source_status(found),
        "export": export_link("person", asked, found),
        "may_export": found.may_export,
    }


def vehicle_facet_label(facet: str, value: str) -> str:
    if facet == "source":
        return value.upper()
    if facet == "marker":
        return value.replace("-", " ")
    return value


def vehicle_query(asked: dict[str, str]) -> VehicleQuery:
    """The vehicle query of the search form's fields (and the result's sort and filters)."""
    sort = asked.get("sort", "relevance")
    filters: dict[str, Any] = {f"filter_{f}": _text(asked, f"filter_{f}") for f in VEHICLE_FACETS}
    return VehicleQuery(
        vrm=_text(asked, "vrm"),
        vin=_text(asked, "vin"),
        make=_text(asked, "make"),
        model=_text(asked, "model"),
        colour=_text(asked, "colour"),
        keeper_postcode=_text(asked, "keeper_postcode"),
        sort=sort if sort in VEHICLE_SORTS else "relevance",
        limit=PAGE_SIZE,
        offset=_offset(asked),
        **filters,
    )


def run_vehicle(request: Request, s: Visit, asked: dict[str, str]) -> dict[str, Any]:
    """Run the vehicle search and build the results screen's context."""
    query = vehicle_query(asked)
    result = service(request).search_vehicle(s.user, s.purpose, query)
    found = result.value
    params = vehicle_params(query)
    criteria = {k: v for k, v in params.items() if k not in VEHICLE_SHAPING}
    active = query.filters
    labels = VEHICLE_FACET_LABELS
    sorts = dict(VEHICLE_SORT_LABELS)
    if "dvla" not in found.searched:  # make and keepers are DVLA's: nothing to sort by
        sorts = {k: v for k, v in sorts.items() if k not in ("make", "keeper_change")}
    return {
        "result": result,
        "twin": "/api/v1/search/vehicles?" + urlencode({**params, "offset": query.offset}),
        "vehicles": [VehicleHitOut.of(h) for h in found.hits],
        "total": found.total,
        "facets": facet_links("vehicle", asked, found.facets, active, labels, vehicle_facet_label),
        "too_many": found.truncated or found.total > TOO_MANY,
        "truncated": found.truncated,
        "understood": _understood(criteria),
        "sort": query.sort,
        "sorts": sort_links("vehicle", asked, sorts, "relevance"),
        **filter_badges("vehicle", asked, active, labels, vehicle_facet_label),
        "source_status": source_status(found),
        "export": export_link("vehicle", asked, found),
        "may_export": found.may_export,
    }


@router.get("/search/export")
def export_results(request: Request, s: Purposeful) -> Response:
    """The CSV of the result page shown (same query, sort, filters and page; ``tab`` person or
    vehicle), recorded as a disclosure; refused for a user who may not export."""
    asked = {
        k: v.strip()[:200] for k, v in request.query_params.items() if k != "tab" and v.strip()
    }
    if request.query_params.get("tab") == "vehicle":
        found = service(request).export_vehicles(s.user, s.purpose, vehicle_query(asked))
        return csv_response(found.value.csv, found.audit_seq, "vehicles")
    result = service(request).export_persons(s.user, s.purpose, person_query(asked))
    return csv_response(result.value.csv, result.audit_seq, "persons")
