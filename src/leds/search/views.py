"""Consolidated views: the person (golden record with provenance and conflicts) and the vehicle.

Best name rule: the (forenames, surname) held by most nominal records; ties go to the source
in :data:`SOURCE_PRIORITY` order (PNC, PND, IABS, DVLA, generic), then the lowest record id.
Every other name (and every PNC alias record) is an alias. A conflict is a field that two
nominal records of the person give differently (DOB, sex, nationality).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from leds.errors import NotFound
from leds.search.common import load_records, records_by_key, records_by_subject
from leds.search.linkage import persons_of, records_of
from leds.search.persons import MARKER_ORDER
from leds.search.vehicles import MARKERS, vehicle_records
from leds.store.base import StoredRecord
from leds.store.tables_search import search_keys

__all__ = [
    "SOURCE_PRIORITY",
    "Conflict",
    "PersonView",
    "VehicleView",
    "person_view",
    "vehicle_view",
]

SOURCE_PRIORITY = ("pnc", "pnd", "iabs", "dvla", "generic")
_EVENT_KINDS = ("arrest", "charge", "disposal", "custody", "encounter")


@dataclass(slots=True)
class Conflict:
    field: str
    values: dict[str, list[int]]  # value -> record ids giving it


@dataclass(slots=True)
class PersonView:
    key: str
    person_id: str | None
    best_name: str
    aliases: list[dict[str, Any]]
    dobs: dict[str, list[int]]  # dob -> record ids
    identifiers: dict[str, list[str]]
    markers: list[StoredRecord]  # warning signals first
    addresses: list[dict[str, Any]]  # over time, newest first
    vehicles: list[dict[str, Any]]  # keeper periods
    events: list[StoredRecord]  # arrests, charges, disposals, custody, encounters by date
    intelligence: list[StoredRecord]
    custody: dict[str, Any]
    immigration: dict[str, Any]
    conflicts: list[Conflict]
    nominals: list[StoredRecord]
    records: list[StoredRecord] = field(default_factory=list)  # every contributing record
    # related people: other keepers of this person's vehicles (DVLA), each with the vehicle
    associates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def record_ids(self) -> list[int]:
        return [r.id for r in self.records]


def _priority(rec: StoredRecord) -> int:
    return SOURCE_PRIORITY.index(rec.source) if rec.source in SOURCE_PRIORITY else 99


def _nominal_ids(conn: Connection, key: str | int) -> tuple[str | None, list[int]]:
    if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
        rid = int(key)
        pid = persons_of(conn, [rid]).get(rid)
        return pid, (records_of(conn, pid) if pid else [rid])
    if key.startswith("R") and key[1:].isdigit():
        rid = int(key[1:])
        pid = persons_of(conn, [rid]).get(rid)
        return pid, (records_of(conn, pid) if pid else [rid])
    return key, records_of(conn, key)


def _date_of(rec: StoredRecord) -> str:
    p = rec.payload
    for k in ("date", "arrived", "created", "start", "from", "START_DATE"):
        if p.get(k):
            return str(p[k])
    return ""


def person_view(conn: Connection, key: str | int) -> PersonView:
    """The consolidated person for a person id (``L...``), ``R<record id>`` or a record id."""
    pid, ids = _nominal_ids(conn, key)
    loaded = load_records(conn, ids)
    nominals = sorted(
        (r for r in loaded.values() if r.kind == "person"), key=lambda r: (_priority(r), r.id)
    )
    if not nominals:
        raise NotFound(f"no person {key!r}", hint="use a person id or a record id from a search")
    related: list[StoredRecord] = []
    for source in {n.source for n in nominals}:
        subjects = [n.source_record_id for n in nominals if n.source == source]
        related.extend(records_by_subject(conn, source, subjects))
    drivers = [n.source_record_id for n in nominals if n.source == "dvla"]
    if drivers:
        keeper_ids = [
            int(r[0])
            for r in conn.execute(
                select(search_keys.c.record_id).where(
                    search_keys.c.key.in_([f"k:{d}".encode() for d in drivers])
                )
            )
        ]
        related.extend(load_records(conn, keeper_ids).values())
    related = [r for r in related if r.kind != "person"]
    names = Counter(
        (n.person.get("forenames") or "", n.person.get("surname") or "") for n in nominals
    )
    top = max(names.values())
    best = next(
        n
        for n in nominals
        if names[(n.person.get("forenames") or "", n.person.get("surname") or "")] == top
    )
    best_pair = (best.person.get("forenames") or "", best.person.get("surname") or "")
    aliases: list[dict[str, Any]] = []
    seen = {best_pair}
    for n in nominals:
        pair = (n.person.get("forenames") or "", n.person.get("surname") or "")
        if pair not in seen:
            seen.add(pair)
            aliases.append({"forenames": pair[0], "surname": pair[1], "record_id": n.id})
    for r in related:
        if r.kind == "alias":
            aliases.append(
                {
                    "forenames": r.payload.get("forenames"),
                    "surname": r.payload.get("surname"),
                    "dob": r.payload.get("dob"),
                    "record_id": r.id,
                }
            )
    dobs: dict[str, list[int]] = defaultdict(list)
    identifiers: dict[str, list[str]] = defaultdict(list)
    for n in nominals:
        if n.person.get("dob"):
            dobs[n.person["dob"]].append(n.id)
        for k in ("pnc_id", "cro", "driver_number", "nino", "passport", "immigration_ref"):
            v = n.person.get(k)
            if v and v not in identifiers[k]:
                identifiers[k].append(v)
    conflicts = []
    for fname in ("dob", "sex", "nationality"):
        values: dict[str, list[int]] = defaultdict(list)
        for n in nominals:
            if n.person.get(fname):
                values[str(n.person[fname])].append(n.id)
        if len(values) > 1:
            conflicts.append(Conflict(fname, dict(values)))
    markers = sorted(
        (r for r in related if r.kind == "marker"),
        key=lambda r: (
            MARKER_ORDER.index(r.payload.get("marker_type"))
            if r.payload.get("marker_type") in MARKER_ORDER
            else 99,
            r.id,
        ),
    )
    addresses: list[dict[str, Any]] = []
    for n in nominals:
        for a in n.payload.get("addresses") or ():
            if isinstance(a, dict):
                addresses.append({**a, "source": n.source, "record_id": n.id})
        if n.source == "dvla" and n.person.get("address"):
            addresses.append(
                {
                    "text": n.person.get("address"),
                    "postcode": n.person.get("postcode"),
                    "source": "dvla",
                    "record_id": n.id,
                }
            )
    for r in related:
        if r.kind == "address":
            addresses.append(
                {
                    "text": ", ".join(
                        str(r.payload[k]) for k in ("line1", "town") if r.payload.get(k)
                    ),
                    "postcode": r.payload.get("postcode"),
                    "from": r.payload.get("from"),
                    "to": r.payload.get("to"),
                    "source": r.source,
                    "record_id": r.id,
                }
            )
    addresses.sort(key=lambda a: str(a.get("from") or ""), reverse=True)
    vehicles = [
        {
            "vrm": r.payload.get("VRM") or r.subject_id,
            "from": r.payload.get("START_DATE"),
            "to": r.payload.get("END_DATE"),
            "record_id": r.id,
        }
        for r in related
        if r.kind == "keeper"
    ]
    events = sorted((r for r in related if r.kind in _EVENT_KINDS), key=_date_of)
    intel = sorted((r for r in related if r.kind == "intel"), key=_date_of, reverse=True)
    custody = [r for r in related if r.kind == "custody"]
    encounters = [r for r in related if r.kind == "encounter"]
    everything = {r.id: r for r in (*nominals, *related)}
    associates = _co_keepers(conn, vehicles, {n.id for n in nominals}, pid)
    return PersonView(
        key=pid or f"R{nominals[0].id}",
        person_id=pid,
        best_name=" ".join(x for x in best_pair if x),
        aliases=aliases,
        dobs=dict(dobs),
        identifiers=dict(identifiers),
        markers=markers,
        addresses=addresses,
        vehicles=vehicles,
        events=events,
        intelligence=intel,
        custody={
            "count": len(custody),
            "last": max((_date_of(r) for r in custody), default=None),
        },
        immigration={
            "encounters": len(encounters),
            "last": max((_date_of(r) for r in encounters), default=None),
            "types": dict(Counter(str(r.payload.get("type")) for r in encounters)),
        },
        conflicts=conflicts,
        nominals=nominals,
        records=[everything[i] for i in sorted(everything)],
        associates=associates,
    )


def _co_keepers(
    conn: Connection, vehicles: list[dict[str, Any]], own: set[int], pid: str | None
) -> list[dict[str, Any]]:
    """Other keepers (DVLA) of the person's vehicles: who, which vehicle, when."""
    vrms = sorted({str(v["vrm"]) for v in vehicles if v.get("vrm")})[:50]
    out: list[dict[str, Any]] = []
    for vrm in vrms:
        keepers = [r for r in records_by_subject(conn, "dvla", [vrm]) if r.kind == "keeper"]
        drivers = [str(r.payload.get("DRIVER_NUMBER")) for r in keepers]
        people = {r.source_record_id: r for r in records_by_key(conn, "dvla", "person", drivers)}
        pids = persons_of(conn, [r.id for r in people.values()])
        for r in keepers:
            person = people.get(str(r.payload.get("DRIVER_NUMBER")))
            if person is None or person.id in own:
                continue
            other = pids.get(person.id)
            if pid is not None and other == pid:
                continue
            out.append(
                {
                    "key": other or f"R{person.id}",
                    "person_id": other,
                    "name": r.payload.get("KEEPER_NAME"),
                    "via": "vehicle",
                    "vrm": vrm,
                    "from": r.payload.get("START_DATE"),
                    "to": r.payload.get("END_DATE"),
                    "record_id": r.id,
                }
            )
    return out


@dataclass(slots=True)
class VehicleView:
    vrm: str
    vehicle: StoredRecord | None  # the DVLA record
    markers: list[StoredRecord]  # PNC vehicle-of-interest records, most serious first
    keepers: list[dict[str, Any]]  # keeper history, newest first, with the linked person
    records: list[StoredRecord] = field(default_factory=list)

    @property
    def record_ids(self) -> list[int]:
        return [r.id for r in self.records]

    @property
    def person_ids(self) -> list[str]:
        return [k["person_id"] for k in self.keepers if k.get("person_id")]


def vehicle_view(conn: Connection, vrm: str) -> VehicleView:
    """The consolidated vehicle: DVLA record, keeper history with people, PNC markers."""
    compact = "".join(vrm.split()).upper()
    recs = vehicle_records(conn, compact)
    if not recs:
        raise NotFound(f"no vehicle {vrm!r}", hint="search with a partial mark to find it")
    vehicle = next((r for r in recs if r.source == "dvla" and r.kind == "vehicle"), None)
    markers = sorted(
        (r for r in recs if r.source == "pnc" and r.kind == "vehicle"),
        key=lambda r: (
            MARKERS.index(r.payload["interest"]) if r.payload.get("interest") in MARKERS else 99
        ),
    )
    keeper_recs = [r for r in recs if r.kind == "keeper"]
    drivers = [
        str(r.payload.get("DRIVER_NUMBER")) for r in keeper_recs if r.payload.get("DRIVER_NUMBER")
    ]
    people = {r.source_record_id: r for r in records_by_key(conn, "dvla", "person", drivers)}
    pids = persons_of(conn, [r.id for r in people.values()])
    keepers = []
    for r in sorted(
        keeper_recs, key=lambda r: str(r.payload.get("START_DATE") or ""), reverse=True
    ):
        person = people.get(str(r.payload.get("DRIVER_NUMBER")))
        keepers.append(
            {
                "role": "keeper" if r.payload.get("END_DATE") is None else "former keeper",
                "name": r.payload.get("KEEPER_NAME"),
                "postcode": r.payload.get("KEEPER_POSTCODE"),
                "from": r.payload.get("START_DATE"),
                "to": r.payload.get("END_DATE"),
                "record_id": r.id,
                "person_record_id": person.id if person else None,
                "person_id": pids.get(person.id) if person else None,
            }
        )
    everything = {r.id: r for r in (*recs, *people.values())}
    return VehicleView(
        compact, vehicle, markers, keepers, [everything[i] for i in sorted(everything)]
    )
