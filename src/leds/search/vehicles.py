"""Vehicle search (VODS-like): full or partial registration mark with ``?`` and ``*``,
confusable characters folded (0/O, 1/I, 5/S, 8/B, 2/Z); VIN; make, model, colour; keeper
postcode; markers from PNC vehicle-of-interest records (stolen, suspect, not-over-air).

A mark is answered from the permuterm rotations in ``search_keys`` (one range scan, then a
check of each hit's rotation), attributes from attribute keys; results are grouped by the
registration mark, markers first, then exact matches, then alphabetically.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from leds.errors import InvalidIdentifier
from leds.model.identifiers import normalise_postcode
from leds.search.common import chunks, key_range, records_by_subject
from leds.search.errors import BadQuery
from leds.search.keys import fold, pattern_plan, unrotate
from leds.store.base import StoredRecord
from leds.store.schema import records
from leds.store.tables_search import search_keys

__all__ = [
    "MARKERS",
    "VehicleHit",
    "VehicleQuery",
    "VehicleResults",
    "search_vehicles",
    "vehicle_records",
]

MARKERS = ("stolen", "suspect", "not-over-air")
MAX_CANDIDATES = 50_000


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

    @property
    def record_ids(self) -> list[int]:
        return [r.id for r in self.records]


@dataclass(slots=True)
class VehicleResults:
    query: VehicleQuery
    total: int
    hits: list[VehicleHit] = field(default_factory=list)
    truncated: bool = False  # more than MAX_CANDIDATES matched: narrow the search

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
    marker_ids = _with_key(
        conn, [f"a:mr:{m.upper()}".encode() for m in MARKERS], sorted(candidates)
    )
    order = sorted(
        groups,
        key=lambda v: (not (groups[v] & marker_ids), fold(v) != typed, v),
    )
    page = order[q.offset : q.offset + q.limit]
    hits = _hits(conn, page, typed, q.vrm, q.sources)
    return VehicleResults(q, len(groups), hits, truncated)


_MARKER_RANK = {m: i for i, m in enumerate(MARKERS)}


def _hits(
    conn: Connection,
    vrms: list[str],
    typed: str,
    raw: str | None,
    sources: frozenset[str] | None = None,
) -> list[VehicleHit]:
    if not vrms:
        return []
    by_vrm: dict[str, list[StoredRecord]] = defaultdict(list)
    for source, kinds in (("dvla", ("vehicle", "keeper")), ("pnc", ("vehicle",))):
        if sources is not None and source not in sources:
            continue
        for rec in records_by_subject(conn, source, vrms, kinds):
            if rec.subject_id is not None:
                by_vrm[rec.subject_id].append(rec)
    exact_text = "".join((raw or "").split()).upper()
    hits = []
    for vrm in vrms:
        recs = by_vrm.get(vrm, [])
        dvla = next((r.payload for r in recs if r.source == "dvla" and r.kind == "vehicle"), {})
        markers = sorted(
            {str(r.payload.get("interest")) for r in recs if r.source == "pnc"},
            key=lambda m: _MARKER_RANK.get(m, 99),
        )
        hits.append(
            VehicleHit(
                vrm=vrm,
                exact=vrm == exact_text,
                markers=markers,
                make=dvla.get("MAKE"),
                model=dvla.get("MODEL"),
                colour=dvla.get("COLOUR"),
                vin=dvla.get("VIN"),
                records=recs,
            )
        )
    return hits


def vehicle_records(conn: Connection, vrm: str) -> list[StoredRecord]:
    """Every DVLA and PNC record of one registration mark (for the vehicle view)."""
    out: list[StoredRecord] = []
    for source in ("dvla", "pnc"):
        out.extend(records_by_subject(conn, source, [vrm]))
    return out
