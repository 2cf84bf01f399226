"""The person page's tabs as data: the link chart (nodes and edges), the timeline (dated
items) and the map (places). Each is derived from the consolidated person *as the user may
see it* (:class:`PersonViewOut`, built from the service's minimised view), so it shows
nothing the person page would not.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from leds.api.schemas_search import PersonViewOut, RecordShown
from leds.model.geo import POSTCODE_AREAS, approximate_position, postcode_area

# Where a record's date is, by kind (the first present wins).
_DATE_KEYS = ("date", "arrived", "created", "encounter_date", "start", "from", "START_DATE")
_EVENT_LABELS = {
    "arrest": "Arrest",
    "charge": "Charge",
    "disposal": "Disposal",
    "custody": "Custody",
    "encounter": "Immigration encounter",
    "intel": "Intelligence report",
}


class NodeOut(BaseModel):
    id: str
    kind: str = Field(description="person, record, vehicle, address or associate")
    label: str
    href: str | None = Field(default=None, description="Page of this node, if it has one")
    expand: str | None = Field(
        default=None, description="Graph of this node (one hop further), for a related person"
    )


class EdgeOut(BaseModel):
    source: str
    target: str
    label: str


class GraphOut(BaseModel):
    """The person's link chart: the person, its source records, vehicles, addresses and
    related people (other keepers of its vehicles)."""

    key: str
    nodes: list[NodeOut]
    edges: list[EdgeOut]

    @classmethod
    def of(cls, p: PersonViewOut) -> GraphOut:
        me = f"person:{p.key}"
        nodes = [
            NodeOut(id=me, kind="person", label=p.best_name or p.key, href=f"/persons/{p.key}")
        ]
        edges: list[EdgeOut] = []
        for r in p.nominals:
            rid = f"record:{r.record_id}"
            nodes.append(
                NodeOut(id=rid, kind="record", label=f"{r.source.upper()} {r.kind} {r.record_id}")
            )
            edges.append(EdgeOut(source=me, target=rid, label="source record"))
        seen: set[str] = set()
        for v in p.vehicles:
            vid = f"vehicle:{v.get('vrm')}"
            if vid not in seen:
                seen.add(vid)
                nodes.append(
                    NodeOut(
                        id=vid,
                        kind="vehicle",
                        label=str(v.get("vrm")),
                        href=f"/vehicles/{v['vrm']}",
                    )
                )
            period = f"{v.get('from') or '?'} – {v.get('to') or 'now'}"
            edges.append(EdgeOut(source=me, target=vid, label=f"keeper {period}"))
        for a in p.addresses:
            text = a.get("text") or a.get("line1") or a.get("postcode") or "address"
            aid = f"address:{(a.get('postcode') or '').replace(' ', '')}:{str(text).upper()}"
            if aid not in seen:
                seen.add(aid)
                label = f"{text}, {a['postcode']}" if a.get("postcode") else str(text)
                nodes.append(NodeOut(id=aid, kind="address", label=label))
                edges.append(EdgeOut(source=me, target=aid, label="address"))
        for x in p.associates:
            xid = f"person:{x['key']}"
            if xid not in seen and xid != me:
                seen.add(xid)
                nodes.append(
                    NodeOut(
                        id=xid,
                        kind="associate",
                        label=str(x.get("name") or x["key"]),
                        href=f"/persons/{x['key']}",
                        expand=f"/api/v1/persons/{x['key']}/graph",
                    )
                )
            vid = f"vehicle:{x.get('vrm')}"
            period = f"{x.get('from') or '?'} – {x.get('to') or 'now'}"
            edges.append(EdgeOut(source=xid, target=vid, label=f"keeper {period}"))
        return cls(key=p.key, nodes=nodes, edges=edges)


class TimelineItemOut(BaseModel):
    id: str
    group: str = Field(description="events, custody, immigration, vehicles, addresses, intel")
    kind: str
    label: str
    start: str = Field(description="ISO date (or date-time)")
    end: str | None = Field(default=None, description="End of a period (None: a moment)")
    source: str
    record_id: int | None = None


def _record_date(r: RecordShown) -> str | None:
    for key in _DATE_KEYS:
        value = r.payload.get(key)
        if value:
            return str(value)
    return None


def _event_label(r: RecordShown) -> str:
    p = r.payload
    detail = p.get("reason") or p.get("offence") or p.get("outcome") or p.get("type") or ""
    if r.kind == "custody" and p.get("station"):
        detail = f"{detail} at {p['station']}" if detail else str(p["station"])
    base = _EVENT_LABELS.get(r.kind, r.kind)
    return f"{base}: {detail}" if detail and detail != r.kind else base


class TimelineOut(BaseModel):
    """Dated items of the person: arrests, charges, disposals, custody, immigration
    encounters and intelligence reports (moments), keeper periods and addresses (periods).
    Items whose date the user may not see are counted in ``undated``."""

    key: str
    items: list[TimelineItemOut]
    undated: int = Field(description="Items without a date the user may see")

    @classmethod
    def of(cls, p: PersonViewOut) -> TimelineOut:
        items: list[TimelineItemOut] = []
        undated = 0
        groups = {"custody": "custody", "encounter": "immigration"}
        for r in [*p.events, *p.intelligence]:
            start = _record_date(r)
            if start is None:
                undated += 1
                continue
            items.append(
                TimelineItemOut(
                    id=f"record:{r.record_id}",
                    group="intel" if r.kind == "intel" else groups.get(r.kind, "events"),
                    kind=r.kind,
                    label=_event_label(r),
                    start=start,
                    source=r.source,
                    record_id=r.record_id,
                )
            )
        for i, v in enumerate(p.vehicles):
            if not v.get("from"):
                undated += 1
                continue
            items.append(
                TimelineItemOut(
                    id=f"keeper:{v.get('record_id', i)}",
                    group="vehicles",
                    kind="keeper",
                    label=f"Keeper of {v.get('vrm')}",
                    start=str(v["from"]),
                    end=str(v["to"]) if v.get("to") else None,
                    source="dvla",
                    record_id=v.get("record_id"),
                )
            )
        seen: set[tuple[str, str]] = set()
        for i, a in enumerate(p.addresses):
            text = str(a.get("text") or a.get("postcode") or "address")
            if not a.get("from"):
                continue  # an address without dates is on the map, not the timeline
            mark = (text.upper(), str(a["from"]))
            if mark in seen:
                continue
            seen.add(mark)
            items.append(
                TimelineItemOut(
                    id=f"address:{a.get('record_id', i)}:{i}",
                    group="addresses",
                    kind="address",
                    label=f"Lived at {text}",
                    start=str(a["from"]),
                    end=str(a["to"]) if a.get("to") else None,
                    source=str(a.get("source") or ""),
                    record_id=a.get("record_id"),
                )
            )
        items.sort(key=lambda it: (it.start, it.id))
        return cls(key=p.key, items=items, undated=undated)


class PlaceOut(BaseModel):
    label: str
    postcode: str | None
    area: str | None = Field(description="Postcode area the position is taken from")
    lat: float | None
    lon: float | None
    approximate: bool = Field(description="True: placed by postcode area, not surveyed")
    start: str | None = None
    end: str | None = None
    source: str
    kind: str = Field(description="address (person's) or keeper (vehicle keeper's postcode)")


class PlacesOut(BaseModel):
    """The person's addresses placed on a map. The sources hold no coordinates, so each is
    placed approximately by its postcode area (see :mod:`leds.model.geo`)."""

    key: str
    places: list[PlaceOut]
    unplaced: int = Field(description="Addresses without a postcode leds can place")
    method: str

    @classmethod
    def of(cls, p: PersonViewOut) -> PlacesOut:
        places: list[PlaceOut] = []
        unplaced = 0
        seen: set[tuple[str, str]] = set()
        for a in p.addresses:
            pc = a.get("postcode")
            text = str(a.get("text") or a.get("line1") or pc or "address")
            mark = (text.upper(), str(pc or ""))
            if mark in seen:
                continue
            seen.add(mark)
            pos = approximate_position(pc)
            if pos is None:
                unplaced += 1
            area = postcode_area(pc)
            places.append(
                PlaceOut(
                    label=text,
                    postcode=pc,
                    area=f"{area} ({POSTCODE_AREAS[area][2]})" if area else None,
                    lat=pos[0] if pos else None,
                    lon=pos[1] if pos else None,
                    approximate=True,
                    start=str(a["from"]) if a.get("from") else None,
                    end=str(a["to"]) if a.get("to") else None,
                    source=str(a.get("source") or ""),
                    kind="address",
                )
            )
        return cls(key=p.key, places=places, unplaced=unplaced, method=PLACEMENT)


PLACEMENT = (
    "The sources hold postcodes but no coordinates, and leds ships no postcode directory: "
    "each address is placed near the centre of its postcode area (the main post town), "
    "spread a little by district. Positions are approximate, for orientation only."
)


def graph_payload(g: GraphOut) -> dict[str, Any]:
    """Cytoscape's element list for a graph (what the page's script draws)."""
    return {
        "nodes": [{"data": n.model_dump()} for n in g.nodes],
        "edges": [{"data": {"id": f"e{i}", **e.model_dump()}} for i, e in enumerate(g.edges)],
    }
