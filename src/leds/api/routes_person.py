"""The person page's tabs in the REST API: link chart, timeline and map data.

Each is one ``show_person`` call through the service (authorised, minimised and recorded like
the person view itself: a view of the person is a consultation whichever way it is drawn), then
reshaped by :mod:`leds.api.schemas_person`.
"""

from __future__ import annotations

from fastapi import APIRouter

from leds.api.errors import ERROR_RESPONSES
from leds.api.routes import PREFIX, ApiCall, PersonKey
from leds.api.schemas import Item
from leds.api.schemas_person import GraphOut, PlacesOut, TimelineOut
from leds.api.schemas_search import PersonViewOut

router = APIRouter(prefix=PREFIX, responses=ERROR_RESPONSES)


def _view(call: ApiCall, key: str) -> tuple[PersonViewOut, int]:
    result = call.service.show_person(call.user, call.purpose(), key)
    return PersonViewOut.of(result.value), result.audit_seq


@router.get("/persons/{key}/graph", tags=["search"], summary="The person's link chart")
def person_graph(call: ApiCall, key: PersonKey) -> Item[GraphOut]:
    """Nodes (the person, its source records, vehicles, addresses, related people) and
    edges; a related person's ``expand`` is the path of its own graph (one hop further)."""
    view, seq = _view(call, key)
    return Item[GraphOut](data=GraphOut.of(view), audit_seq=seq)


@router.get("/persons/{key}/timeline", tags=["search"], summary="The person's timeline")
def person_timeline(call: ApiCall, key: PersonKey) -> Item[TimelineOut]:
    view, seq = _view(call, key)
    return Item[TimelineOut](data=TimelineOut.of(view), audit_seq=seq)


@router.get("/persons/{key}/places", tags=["search"], summary="The person's places (map)")
def person_places(call: ApiCall, key: PersonKey) -> Item[PlacesOut]:
    """Addresses placed approximately by postcode area (the sources hold no coordinates)."""
    view, seq = _view(call, key)
    return Item[PlacesOut](data=PlacesOut.of(view), audit_seq=seq)
