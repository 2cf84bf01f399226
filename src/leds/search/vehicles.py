"""Vehicle search (VODS-like): full or partial registration mark with ``?`` and ``*``,
confusable characters folded (0/O, 1/I, 5/S, 8/B, 2/Z); VIN; make, model, colour; keeper
postcode; markers from PNC vehicle-of-interest records (stolen, suspect, not-over-air).

A mark is answered from the permuterm rotations in ``search_keys`` (one range scan, then a
check of each hit's rotation), attributes from attribute keys; results are grouped by the
registration mark, markers first, then exact matches, then alphabetically (``sort="relevance"``);
``"vrm"`` (alphabetical), ``"make"`` (make, model, mark; unknown last) and ``"keeper_change"``
(the newest keeper start date first, unknown last) reorder the same set.

Facets (:data:`FACETS`: source, make, colour, marker, keeper postcode area of the current
keeper) count vehicles over every match; a ``filter_<facet>`` keeps the vehicles having that
value (compared without case), and the counts and ``total`` are then those of the narrowed
result, as for persons.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from leds.errors import InvalidIdentifier
from leds.model.identifiers import normalise_postcode
from leds.search.common import (
    active_filters,
    chunks,
    key_range,
    load_records,
    records_by_subject,
)
from leds.search.errors import BadQuery
from leds.search.keys import fold, pattern_plan, unrotate
from leds.store.base import StoredRecord
from leds.store.schema import records
from leds.store.tables_search import search_keys

__all__ = [
    "FACETS",
    "MARKERS",
    "SORTS",
    "VehicleHit",
    "VehicleQuery",
    "VehicleResults",
    "search_vehicles",
    "vehicle_records",
]

MARKERS = ("stolen", "suspect", "not-over-air")
MAX_CANDIDATES = 50_000
SORTS: tuple[str, ...] = ("relevance", "vrm", "make", "keeper_change")
# Facets a result can be narrowed by (VehicleQuery.filter_<facet>), in the order shown.
FACETS: tuple[str, ...] = ("source", "make", "colour", "marker", "keeper_area")
# The source, kind and payload key each facet (and sort) is drawn from: a user who may not see
# that field may not see its facet nor filter on it (the service checks).
FACET_FIELDS: dict[str, tuple[str, str, str]] = {
    "make": ("dvla", "vehicle", "MAKE"),
    "colour": ("dvla", "vehicle", "COLOUR"),
    "marker": ("pnc", "vehicle", "interest"),
    "keeper_area": ("dvla", "keeper", "KEEPER_POSTCODE"),
}
# A hit's own fields, and the payload field each is read from (the service leaves out those
# of a class the user may not see).
HIT_FIELDS: dict[str, tuple[str, str, str]] = {
    "make": ("dvla", "vehicle", "MAKE"),
    "model": ("dvla", "vehicle", "MODEL"),
    "colour": ("dvla", "vehicle", "COLOUR"),
    "vin": ("dvla", "vehicle", "VIN"),
}
_AREA = re.compile(r"[A-Z]{1,2}")


@dataclass(frozen=True, slots=True)
class VehicleQuery:
    vrm: str | None = None  # full or partial, with ? and *
    vin: str | None = None
    make: str | None = None
    model: str | None = None
    colour: str | None = None
    keeper_postcode: str | None = None  # full postcode or sector ("LS2 6")
    marker: str | None = None  # one of MARKERS
    sources: frozenset[str] | None = None  # only these sources' records (None: all)
    limit: int = 20
    offset: int = 0
    sort: str = "relevance"  # one of SORTS
    # facet filters: keep only the vehicles with this facet value (see FACETS)
    filter_source: str | None = None
    filter_make: str | None = None
    filter_colour: str | None = None
    filter_marker: str | None = None
    filter_keeper_area: str | None = None

    @property
    def filters(self) -> dict[str, str]:
        """The active facet filters, facet -> value."""
        return active_filters(self, FACETS)


@dataclass(slots=True)
class VehicleHit:
    vrm: str
    exact: bool  # the query mark matched without wildcards or folding
    markers: list[str]  # PNC interests, most serious first
    make: str | None
    model: str | None
    colour: str | None
    vin: str | None
    records: list[StoredRecord]  # DVLA vehicle, keepers, PNC vehicle records
    keeper_change: str | None = None  # the newest keeper's start date (ISO)

    @property
    def record_ids(self) -> list[int]:
        return [r.id for r in self.records]


@dataclass(slots=True)
class VehicleResults:
    query: VehicleQuery
    total: int
    hits: list[VehicleHit] = field(default_factory=list)
    truncated: bool = False  # more than MAX_CANDIDATES matched: narrow the search
    facets: dict[str, dict[str, int]] = field(default_factory=dict)  # of the filtered result
    # set by the service: the sources searched, and those the user may not search
    searched: list[str] = field(default_factory=list)
    not_permitted: list[str] = field(default_factory=list)
    may_export: bool = False  # whether the user may export this result (policy)

    @property
    def record_ids(self) -> list[int]:
        return [i for h in self.hits for i in h.record_ids]


def _attr_keys(q: VehicleQuery) -> list[tuple[str, list[bytes]]]:
    """(label, keys any of which must hold) for every attribute filter given."""
    out: list[tuple[str, list[bytes]]] = []
    if q.vin:
        out.append(("vin", [f"i:vin:{''.join(q.vin.split()).upper()}".encode()]))
    for label, name, value in (
        ("make", "mk", q.make),
        ("model", "mo", q.model),
        ("colour", "co", q.colour),
    ):
        if value:
            out.append((label, [f"a:{name}:{value.strip().upper()}".encode()]))
    if q.keeper_postcode:
        text = q.keeper_postcode.strip().upper()
        try:
            pc = normalise_postcode(text)
            out.append(("keeper_postcode", [f"a:kp:{pc.replace(' ', '')}".encode()]))
        except InvalidIdentifier:
            if " " not in text:
                raise BadQuery(
                    f"keeper postcode {q.keeper_postcode!r} is neither a postcode nor a sector",
                    hint="give a full postcode (LS2 6HU) or a sector (LS2 6)",
                ) from None
            out.append(("keeper_postcode", [f"a:ks:{text}".encode()]))
    if q.marker:
        if q.marker not in MARKERS:
            raise BadQuery(
                f"unknown vehicle marker {q.marker!r}", hint="one of " + ", ".join(MARKERS)
            )
        out.append(("marker", [f"a:mr:{q.marker.upper()}".encode()]))
    return out


def _with_key(conn: Connection, keys: list[bytes], among: list[int] | None) -> set[int]:
    query = select(search_keys.c.record_id).where(search_keys.c.key.in_(keys))
    if among is None:
        return {int(r[0]) for r in conn.execute(query.limit(MAX_CANDIDATES + 1))}
    out: set[int] = set()
    for part in chunks(among):
        out.update(int(r[0]) for r in conn.execute(query.where(search_keys.c.record_id.in_(part))))
    return out


def _vrm_of(
    conn: Connection, ids: list[int], sources: frozenset[str] | None = None
) -> dict[int, str]:
    out: dict[int, str] = {}
    for part in chunks(ids):
        for rid, source, key, subject in conn.execute(
            select(records.c.id, records.c.source, records.c.source_record_id, records.c.subject_id)
            .where(records.c.id.in_(part))
        ):  # fmt: skip
            if sources is None or source in sources:
                out[int(rid)] = key if source == "dvla" else (subject or key)
    return out


def search_vehicles(conn: Connection, q: VehicleQuery) -> VehicleResults:
    """Vehicles matching every criterion given (at least one is required)."""
    if q.limit < 1 or q.offset < 0:
        raise BadQuery("limit must be at least 1 and offset at least 0")
    if q.sort not in SORTS:
        raise BadQuery(f"unknown sort {q.sort!r}", hint="one of " + ", ".join(SORTS))
    attrs = _attr_keys(q)
    if not q.vrm and not attrs:
        raise BadQuery(
            "a vehicle search needs a registration mark, VIN, make, model, colour, "
            "keeper postcode or marker"
        )
    truncated = False
    candidates: set[int]
    typed = fold(q.vrm) if q.vrm else ""
    if q.vrm:
        plan = pattern_plan(q.vrm, min_literal=2)
        lo, hi = key_range(b"v" + plan.prefix.encode())
        rows = conn.execute(
            select(search_keys.c.key, search_keys.c.record_id)
            .where(search_keys.c.key >= lo, search_keys.c.key < hi)
            .limit(MAX_CANDIDATES + 1)
        ).all()
        truncated = len(rows) > MAX_CANDIDATES
        candidates = {
            int(rid) for key, rid in rows if plan.regex.fullmatch(unrotate(bytes(key)[1:].decode()))
        }
        remaining = list(attrs)
    else:
        keys = attrs[0][1]
        candidates = _with_key(conn, keys, None)
        truncated = len(candidates) > MAX_CANDIDATES
        remaining = attrs[1:]
    vrm_of = _vrm_of(conn, sorted(candidates), q.sources)
    groups: dict[str, set[int]] = defaultdict(set)
    for rid, vrm in vrm_of.items():
        groups[vrm].add(rid)
    for _label, keys in remaining:
        holding = _with_key(conn, keys, sorted(candidates))
        groups = {v: ids for v, ids in groups.items() if ids & holding}
    held = _records_of(conn, sorted(groups), q.sources)
    exact_text = "".join((q.vrm or "").split()).upper()
    every = [_hit(vrm, held.get(vrm, []), exact_text) for vrm in groups]
    values = {h.vrm: _facet_values(h, held.get(h.vrm, [])) for h in every}
    wanted = {f: v.casefold() for f, v in q.filters.items()}
    if wanted:
        every = [
            h
            for h in every
            if all(v in {x.casefold() for x in values[h.vrm][f]} for f, v in wanted.items())
        ]
    every.sort(key=lambda h: (not h.markers, fold(h.vrm) != typed, h.vrm))
    if q.sort == "vrm":
        every.sort(key=lambda h: h.vrm)
    elif q.sort == "make":
        every.sort(key=lambda h: (h.make is None, h.make or "", h.model or "", h.vrm))
    elif q.sort == "keeper_change":  # newest first, unknown last (a stable reverse sort)
        every.sort(key=lambda h: h.keeper_change or "", reverse=True)
    facets: dict[str, Counter[str]] = {f: Counter() for f in FACETS}
    for h in every:
        for facet, found in values[h.vrm].items():
            facets[facet].update(found)
    page = every[q.offset : q.offset + q.limit]
    full = load_records(conn, [r.id for h in page for r in held.get(h.vrm, [])])
    for h in page:  # the page's hits carry their whole records (minimised by the service)
        h.records = [full[r.id] for r in held.get(h.vrm, []) if r.id in full]
    return VehicleResults(
        q,
        len(every),
        page,
        truncated,
        {f: dict(c.most_common()) for f, c in facets.items()},
    )


@dataclass(frozen=True, slots=True)
class _Held:
    """What the facets and sorts read of a record (the page's hits load whole records)."""

    id: int
    source: str
    kind: str
    payload: dict[str, Any]


_MARKER_RANK = {m: i for i, m in enumerate(MARKERS)}


def _records_of(
    conn: Connection, vrms: list[str], sources: frozenset[str] | None
) -> dict[str, list[_Held]]:
    """The DVLA vehicle and keeper records and PNC vehicle records of each mark, in id
    order (only the columns the facets and sorts read)."""
    by_vrm: dict[str, list[_Held]] = defaultdict(list)
    for source, kinds in (("dvla", ["vehicle", "keeper"]), ("pnc", ["vehicle"])):
        if sources is not None and source not in sources:
            continue
        for part in chunks(vrms):
            query = select(
                records.c.id, records.c.kind, records.c.subject_id, records.c.payload
            ).where(
                records.c.source == source,
                records.c.subject_id.in_(part),
                # ``kind || ''``: as in records_by_subject, so the (source, subject_id) index
                # is used
                records.c.kind.concat("").in_(kinds),
            )
            for rid, kind, subject, payload in conn.execute(query):
                if subject is not None:
                    by_vrm[subject].append(_Held(int(rid), source, kind, json.loads(payload)))
    for held in by_vrm.values():
        held.sort(key=lambda r: r.id)
    return by_vrm


def _hit(vrm: str, held: list[_Held], exact_text: str) -> VehicleHit:
    dvla = next((r.payload for r in held if r.source == "dvla" and r.kind == "vehicle"), {})
    markers = sorted(
        {str(r.payload.get("interest")) for r in held if r.source == "pnc"},
        key=lambda m: _MARKER_RANK.get(m, 99),
    )
    starts = [
        str(r.payload["START_DATE"])
        for r in held
        if r.kind == "keeper" and r.payload.get("START_DATE")
    ]
    return VehicleHit(
        vrm=vrm,
        exact=vrm == exact_text,
        markers=markers,
        make=dvla.get("MAKE"),
        model=dvla.get("MODEL"),
        colour=dvla.get("COLOUR"),
        vin=dvla.get("VIN"),
        records=[],
        keeper_change=max(starts) if starts else None,
    )


def keeper_area(postcode: object) -> str | None:
    """The postcode area (the leading letters: ``LS`` of ``LS2 6HU``), None if there is none."""
    found = _AREA.match(str(postcode or "").strip().upper())
    return found.group(0) if found else None


def _facet_values(hit: VehicleHit, held: list[_Held]) -> dict[str, set[str]]:
    """The facet values of one vehicle (the keeper area is the current keeper's)."""
    areas = {
        area
        for r in held
        if r.kind == "keeper" and not r.payload.get("END_DATE")
        if (area := keeper_area(r.payload.get("KEEPER_POSTCODE")))
    }
    return {
        "source": {r.source for r in held},
        "make": {hit.make} if hit.make else set(),
        "colour": {hit.colour} if hit.colour else set(),
        "marker": set(hit.markers),
        "keeper_area": areas,
    }


def vehicle_records(conn: Connection, vrm: str) -> list[StoredRecord]:
    """Every DVLA and PNC record of one registration mark (for the vehicle view)."""
    out: list[StoredRecord] = []
    for source in ("dvla", "pnc"):
        out.extend(records_by_subject(conn, source, [vrm]))
    return out
