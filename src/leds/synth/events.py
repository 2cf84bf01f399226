"""Life events of a true person, as entities: licence, offending, property, vehicles, intel.

Ids are positional in the global person index ``idx`` (see :mod:`leds.synth.idgen`): at most
16 arrests, 48 charges, 8 markers, 8 property items, 8 intel reports, 8 encounters and 16
biometric samples per person, and 4 vehicles generated per person (more can be kept through
transfers). Rates are module constants below.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import TYPE_CHECKING

from leds.model.entities import (
    Alias,
    Arrest,
    BiometricSample,
    Charge,
    CustodyRecord,
    Disposal,
    DriverLicence,
    Endorsement,
    ImmigrationEncounter,
    IntelReport,
    KeeperPeriod,
    Marker,
    Person,
    PropertyItem,
    Vehicle,
)
from leds.synth import idgen, noise
from leds.synth.catalogue import (
    ENDORSEMENTS,
    ENTITLEMENTS,
    INTEL_TEMPLATES,
    MARKER_WEIGHTS,
    OFFENCES,
    PORTS,
    PROPERTY,
    SENTENCES,
    VEHICLE_COLOURS,
    VEHICLE_MODELS,
    force_for,
    property_serial,
    station_for,
)

if TYPE_CHECKING:
    from leds.synth.population import PartWorld

REF_DATE = date(2025, 12, 31)
ENDORSED_RATE = 0.18
ALIAS_RATE = 0.15
MARKER_RATE = 0.2
CHARGE_RATE = 0.75  # arrests leading to at least one charge
CUSTODY_RATE = 0.8
CUSTODY_IMAGE_RATE = 0.9
INTEL_RATE_PNC = 0.45
INTEL_RATE_OTHER = 0.6
PROPERTY_RATE_PNC = 0.12
PROPERTY_RATE_OTHER = 0.03
PREVIOUS_KEEPER_RATE = 0.3  # vehicles bought from another person of the same part
VEHICLE_COUNTS = (0.2, 0.55, 0.2, 0.05)  # probability of keeping 0..3 vehicles


def _years(d: date, years: float) -> date:
    return d + timedelta(days=int(years * 365.25))


def _between(rnd: random.Random, lo: date, hi: date) -> date:
    span = (hi - lo).days
    return lo + timedelta(days=rnd.randrange(span + 1)) if span > 0 else lo


def _weighted(rnd: random.Random, items: tuple[tuple[str, float], ...]) -> str:
    return rnd.choices([k for k, _ in items], weights=[w for _, w in items])[0]


def licence(rnd: random.Random, idx: int, p: Person, taken: set[str]) -> DriverLicence:
    first = _years(p.dob, 17)
    latest = min(REF_DATE, _years(first, 15))
    issued = _between(rnd, first, latest)
    ents = ["B"] + [e for e, rate in ENTITLEMENTS if rnd.random() < rate]
    lic = DriverLicence(
        idgen.driver_number(idx, p.surname, p.forenames, p.dob, p.sex, taken), issued, ents
    )
    if rnd.random() < ENDORSED_RATE:
        for _ in range(1 + (rnd.random() < 0.35) + (rnd.random() < 0.1)):
            code, lo, hi, disq = ENDORSEMENTS[rnd.randrange(len(ENDORSEMENTS))]
            when = _between(rnd, max(issued, _years(REF_DATE, -6)), REF_DATE)
            until = _years(when, rnd.choice((1, 1.5, 2, 3))) if disq else None
            lic.endorsements.append(Endorsement(code, when, rnd.randint(lo, hi), until))
        lic.endorsements.sort(key=lambda e: e.offence_date)
    return lic


def criminal_history(rnd: random.Random, idx: int, p: Person, blocks: int) -> None:
    """Arrests, charges, disposals, cautions, markers, aliases, PNC ID and CRO number."""
    earliest = max(_years(p.dob, 10), date(1976, 1, 1))
    n_arrests = 1
    while n_arrests < 12 and rnd.random() < 0.45:
        n_arrests += 1
    dates = sorted(_between(rnd, earliest, REF_DATE) for _ in range(n_arrests))
    town = p.addresses[-1].town if p.addresses else "London"
    k = 0
    convicted = False
    for j, when in enumerate(dates):
        off_code, off_text, _ = OFFENCES[
            rnd.choices(range(len(OFFENCES)), weights=[o[2] for o in OFFENCES])[0]
        ]
        arrest = Arrest(
            f"AR{idx * 16 + j:09d}", when, force_for(town), f"Suspicion of {off_text.lower()}"
        )
        if rnd.random() < CHARGE_RATE:
            n_ch = 1 + (rnd.random() < 0.35) + (rnd.random() < 0.12)
            for c in range(n_ch):
                if c:
                    off_code, off_text, _ = OFFENCES[rnd.randrange(len(OFFENCES))]
                charge = Charge(f"CH{idx * 48 + k:09d}", off_code, off_text, when)
                charge.disposal = _disposal(rnd, idx * 48 + k, when, town, arrest.force)
                if charge.disposal and charge.disposal.outcome == "convicted":
                    convicted = True
                arrest.charges.append(charge)
                k += 1
        p.arrests.append(arrest)
    p.pnc_id = idgen.pnc_id(idx, dates[0].year, max(p.dob.year + 10, 1975), blocks)
    if convicted or rnd.random() < 0.1:
        p.cro = idgen.cro_number(idx, p.dob.year + 10)
    if rnd.random() < MARKER_RATE:
        for j in range(1 + (rnd.random() < 0.3)):
            mtype = _weighted(rnd, MARKER_WEIGHTS)
            start = _between(rnd, dates[-1], REF_DATE)
            end = None if rnd.random() < 0.6 else _between(rnd, start, REF_DATE)
            p.markers.append(
                Marker(f"MK{idx * 8 + j:09d}", mtype, start, end, noise.marker_detail(rnd, mtype))
            )
    if p.licence is not None and any(
        e.disqualified_until and e.disqualified_until > REF_DATE for e in p.licence.endorsements
    ):
        until = max(e.disqualified_until or REF_DATE for e in p.licence.endorsements)
        p.markers.append(
            Marker(
                f"MK{idx * 8 + 7:09d}",
                "DISQ-DRIVER",
                REF_DATE - timedelta(days=30),
                until,
                "Disqualified from driving",
            )
        )
    if rnd.random() < ALIAS_RATE:
        for _ in range(1 + (rnd.random() < 0.25)):
            surname, forenames = noise.alias_name(rnd, p)
            dob = p.dob if rnd.random() < 0.7 else _years(p.dob, rnd.choice((-1, 1)))
            p.aliases.append(Alias(surname, forenames, dob))


def _disposal(rnd: random.Random, n: int, when: date, town: str, force: str) -> Disposal | None:
    r = rnd.random()
    if r < 0.1:
        return None  # pending
    day = min(REF_DATE, when + timedelta(days=rnd.randrange(10, 300)))
    if r < 0.25:
        return Disposal(f"DS{n:09d}", force, when, "caution", "Simple caution")
    court = f"{town} Crown Court" if rnd.random() < 0.15 else f"{town} Magistrates' Court"
    if r < 0.35:
        return Disposal(f"DS{n:09d}", court, day, "acquitted")
    if r < 0.45:
        return Disposal(f"DS{n:09d}", court, day, "dismissed")
    return Disposal(f"DS{n:09d}", court, day, "convicted", rnd.choice(SENTENCES))


def encounters(rnd: random.Random, idx: int, p: Person) -> None:
    lo = max(_years(p.dob, 1), date(2008, 1, 1))
    n = 1 + (rnd.random() < 0.5) + (rnd.random() < 0.2)
    asylum_rate = 0.35 if p.nationality in ("SDN", "IRQ") else 0.08
    s = 0
    for j, when in enumerate(sorted(_between(rnd, lo, REF_DATE) for _ in range(n))):
        if p.nationality == "GBR":
            kind = "border"
        else:
            r = rnd.random()
            kind = "asylum" if r < asylum_rate else ("visa" if r < 0.6 else "border")
        outcome = {
            "visa": "granted" if rnd.random() < 0.85 else "refused",
            "asylum": rnd.choice(("claim lodged", "granted", "refused")),
            "border": "admitted" if rnd.random() < 0.97 else "refused entry",
        }[kind]
        enc = ImmigrationEncounter(
            f"IABSE{idx * 8 + j:09d}",
            kind,
            when,
            rnd.choice(PORTS),
            idgen.passport(idx, p.nationality, serial=min(2, j // 2)),
            p.nationality,
            idgen.home_office_ref(idx),
            outcome,
        )
        if rnd.random() < 0.95:
            enc.samples.append(
                BiometricSample(f"IABSS{idx * 16 + s:09d}", "face", when, rnd.randint(35, 99))
            )
            s += 1
        if rnd.random() < (0.85 if kind != "border" else 0.3):
            enc.samples.append(
                BiometricSample(
                    f"IABSS{idx * 16 + s:09d}", "fingerprint", when, rnd.randint(30, 99)
                )
            )
            s += 1
        p.encounters.append(enc)


def vehicles(rnd: random.Random, idx: int, p: Person, world: PartWorld, *, keeper: bool) -> None:
    if not keeper:
        return
    n = rnd.choices(range(4), weights=VEHICLE_COUNTS)[0]
    adult = _years(p.dob, 17)
    for j in range(n):
        v = idx * idgen.VEHICLES_PER_PERSON + j
        display, earliest = idgen.vrm(v)
        first = _between(rnd, earliest, min(REF_DATE, earliest + timedelta(days=330)))
        make, model, wmi = VEHICLE_MODELS[rnd.randrange(len(VEHICLE_MODELS))]
        veh = Vehicle(
            f"V{v:09d}", display, idgen.vin(v, wmi), make, model, rnd.choice(VEHICLE_COLOURS), first
        )
        start = max(first, adult)
        if start >= REF_DATE:
            continue
        start = _between(rnd, start, min(REF_DATE, start + timedelta(days=3650)))
        if len(world.persons) > 1 and rnd.random() < PREVIOUS_KEEPER_RATE:
            prev = world.persons[rnd.randrange(len(world.persons) - 1)]
            prev_from = max(first, _years(prev.dob, 17))
            if prev_from < start:
                veh.keepers.append(KeeperPeriod(prev.person_id, prev_from, start))
                prev.vehicle_ids.append(veh.vehicle_id)
        veh.keepers.append(KeeperPeriod(p.person_id, start, None))
        r = rnd.random()
        if r < 0.01:
            veh.interest = "stolen"
        elif r < 0.02 and p.pnc_id:
            veh.interest = "suspect"
        elif r < 0.022:
            veh.interest = "not-over-air"
        p.vehicle_ids.append(veh.vehicle_id)
        world.vehicles.append(veh)
        world.vehicle_by_id[veh.vehicle_id] = veh


def property_items(rnd: random.Random, idx: int, p: Person, pnc: bool) -> None:
    if rnd.random() >= (PROPERTY_RATE_PNC if pnc else PROPERTY_RATE_OTHER):
        return
    for j in range(1 + (rnd.random() < 0.25)):
        category, makes, descr = PROPERTY[rnd.randrange(len(PROPERTY))]
        make, model = rnd.choice(makes)
        if pnc:
            status = rnd.choices(("seized", "stolen", "found", "lost"), (4, 3, 1, 2))[0]
        else:
            status = rnd.choice(("lost", "stolen"))
        reported = _between(rnd, max(_years(p.dob, 12), date(2005, 1, 1)), REF_DATE)
        event = p.arrests[-1].arrest_id if status == "seized" and p.arrests else None
        p.property.append(
            PropertyItem(
                f"PR{idx * 8 + j:09d}",
                category,
                make,
                model,
                property_serial(rnd, category),
                status,
                reported,
                descr,
                event,
            )
        )


def intel_and_custody(rnd: random.Random, idx: int, p: Person, world: PartWorld) -> None:
    town = p.addresses[-1].town if p.addresses else "London"
    for j, arrest in enumerate(p.arrests):
        if arrest.date.year < 2000 or rnd.random() >= CUSTODY_RATE:
            continue
        image = None
        if rnd.random() < CUSTODY_IMAGE_RATE:
            image = BiometricSample(
                f"CI{idx * 16 + j:09d}", "face", arrest.date, rnd.randint(30, 99)
            )
        p.custody.append(
            CustodyRecord(
                f"PNDC{idx * 16 + j:09d}",
                arrest.date,
                station_for(town),
                arrest.reason[14:].capitalize(),
                image,
            )
        )
    if rnd.random() >= (INTEL_RATE_PNC if p.pnc_id else INTEL_RATE_OTHER):
        return
    persons = world.persons
    for j in range(1 + (rnd.random() < 0.4) + (rnd.random() < 0.15)):
        template = rnd.choice(INTEL_TEMPLATES)
        assocs = [persons[rnd.randrange(len(persons))]]
        assocs = [a for a in assocs if a.person_id != p.person_id]
        vrms = [
            world.vehicle_by_id[v].vrm
            for v in (p.vehicle_ids + [v for a in assocs for v in a.vehicle_ids])
            if v in world.vehicle_by_id
        ][:1]
        if ("{vrm}" in template and not vrms) or ("{assoc}" in template and not assocs):
            template = INTEL_TEMPLATES[0]
        if "{assoc}" not in template:
            assocs = []
        if "{vrm}" not in template:
            vrms = []
        place = rnd.choice(p.addresses).town if p.addresses else town
        street = p.addresses[-1].line1.split(" ", 1)[-1] if p.addresses else "the High Street"
        text = template.format(
            subj=noise.spoken_name(rnd, p),
            assoc=noise.spoken_name(rnd, assocs[0]) if assocs else "",
            vrm=vrms[0] if vrms else "",
            place=place,
            street=street,
            item=rnd.choice(("phones", "bicycles", "power tools", "jewellery", "laptops")),
            drug=rnd.choice(("cocaine", "heroin", "cannabis", "crack cocaine", "ketamine")),
        )
        p.intel.append(
            IntelReport(
                f"PNDI{idx * 8 + j:09d}",
                _between(rnd, date(2016, 1, 1), REF_DATE),
                text,
                rnd.choice("123"),
                rnd.choice("ABCDE"),
                "P" if rnd.random() < 0.8 else "C",
                [a.person_id for a in assocs],
                vrms,
                [place],
            )
        )
