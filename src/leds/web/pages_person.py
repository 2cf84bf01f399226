"""The person page's tabs (UI.md screen 4): link chart, timeline and map.

Each tab is its own page over one ``show_person`` call (so each view is recorded), rendering
tables that work without JavaScript; the data the script draws (cytoscape.js, vis-timeline,
Leaflet) is embedded in the page as a JSON data block (not fetched again, so one view is one
audit entry). The JSON twins are ``/api/v1/persons/{key}/graph|timeline|places``; the link
chart's "expand" fetches a related person's graph from there (each expansion is a view of
that person, recorded as such).

The map: the tile URL is a setting (``LEDS_MAP_TILES``, e.g.
``https://tile.openstreetmap.org/{z}/{x}/{y}.png``, or ``app.state.map_tiles``); without one
the map draws a coarse project-owned outline of Great Britain and Ireland
(``static/uk-outline.json``) and fetches nothing from the network.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from leds.api.app import SECURITY_HEADERS
from leds.api.schemas_person import GraphOut, PlacesOut, TimelineOut, graph_payload
from leds.api.schemas_search import PersonViewOut
from leds.web.pages import STATIC, Purposeful, Visit, render, service

router = APIRouter(include_in_schema=False)

MAP_TILES_ENV = "LEDS_MAP_TILES"
GROUP_LABELS = {
    "events": "Arrests, charges, disposals",
    "custody": "Custody",
    "immigration": "Immigration encounters",
    "intel": "Intelligence",
    "vehicles": "Keeper periods",
    "addresses": "Addresses",
}


def map_tiles(request: Request) -> str | None:
    """The configured tile URL template, or None for the offline outline."""
    configured = getattr(request.app.state, "map_tiles", None) or os.environ.get(MAP_TILES_ENV)
    return configured.strip() if configured and configured.strip() else None


def _assets() -> dict[str, bool]:
    """Which vendored front-end libraries are installed (``make web-assets``)."""
    vendor = STATIC / "vendor"
    return {
        "cytoscape": (vendor / "cytoscape.min.js").exists(),
        "timeline": (vendor / "vis-timeline-graph2d.min.js").exists(),
        "leaflet": (vendor / "leaflet" / "leaflet.js").exists(),
    }


def _view(request: Request, s: Visit, key: str) -> tuple[Any, PersonViewOut]:
    result = service(request).show_person(s.user, s.purpose, key)
    return result, PersonViewOut.of(result.value)


@router.get("/persons/{key}/chart", response_class=HTMLResponse)
def person_chart(request: Request, s: Purposeful, key: str) -> HTMLResponse:
    result, p = _view(request, s, key)
    graph = GraphOut.of(p)
    labels = {n.id: n.label for n in graph.nodes}
    return render(
        request,
        "person_chart.html",
        s,
        result,
        twin=f"/api/v1/persons/{quote(key, safe='')}/graph",
        p=p,
        person_tab="chart",
        graph=graph,
        labels=labels,
        elements=graph_payload(graph),
        assets=_assets(),
    )


@router.get("/persons/{key}/timeline", response_class=HTMLResponse)
def person_timeline(request: Request, s: Purposeful, key: str) -> HTMLResponse:
    result, p = _view(request, s, key)
    timeline = TimelineOut.of(p)
    groups = [
        {"id": g, "content": label}
        for g, label in GROUP_LABELS.items()
        if any(it.group == g for it in timeline.items)
    ]
    return render(
        request,
        "person_timeline.html",
        s,
        result,
        twin=f"/api/v1/persons/{quote(key, safe='')}/timeline",
        p=p,
        person_tab="timeline",
        timeline=timeline,
        group_labels=GROUP_LABELS,
        timeline_data={"items": [it.model_dump() for it in timeline.items], "groups": groups},
        assets=_assets(),
    )


@router.get("/persons/{key}/map", response_class=HTMLResponse)
def person_map(request: Request, s: Purposeful, key: str) -> HTMLResponse:
    result, p = _view(request, s, key)
    places = PlacesOut.of(p)
    tiles = map_tiles(request)
    response = render(
        request,
        "person_map.html",
        s,
        result,
        twin=f"/api/v1/persons/{quote(key, safe='')}/places",
        p=p,
        person_tab="map",
        places=places,
        map_data={
            "places": [x.model_dump() for x in places.places],
            "tiles": tiles,
            "outline": "/static/uk-outline.json",
        },
        tiles=tiles,
        assets=_assets(),
    )
    if tiles:  # let the browser load the configured tiles (and nothing else from elsewhere)
        parts = urlsplit(tiles)
        origin = f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"
        policy = SECURITY_HEADERS["Content-Security-Policy"]
        response.headers["Content-Security-Policy"] = policy.replace(
            "img-src 'self' data:", f"img-src 'self' data: {origin}"
        )
    return response
