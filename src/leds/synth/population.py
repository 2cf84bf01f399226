"""True persons of one part of the world (ground truth), sampled column-wise with numpy.

A part is ``n`` consecutive persons with global indices ``first_idx .. first_idx + n - 1``.
Columns (sex, age, origin, names, ethnicity, nationality, membership, counts) are sampled
for the whole part at once; the per-person loop only assembles entities and draws the few
scalar values of life events with a ``random.Random`` (cheap), seeded from the part's seed.

Membership rates (``MEMBERSHIP``): DVLA ~72% of persons aged 17+ (45% of foreign
nationals), PNC ~50% of persons aged 10+ (60% of men, 40% of women), PND 70% of PNC
persons and 4% of others, IABS 85% of foreign nationals, 8% of British nationals of
migrant-origin name groups, 2% of others. A person in none of them is put on DVLA (aged
17+) or PNC.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from leds.model.entities import Address, Person, Vehicle
from leds.synth import events, idgen
from leds.synth.names import ORIGIN_GROUPS, sample_ethnicity, sample_names, sample_origins
from leds.synth.places import make_address, make_phones, places, sample_towns

REF_DATE = date(2025, 12, 31)  # "today" of every synthetic world
MEMBERSHIP = {
    "dvla_adult": 0.72,
    "dvla_foreign": 0.45,
    "pnc_male": 0.6,
    "pnc_female": 0.4,
    "pnd_given_pnc": 0.7,
    "pnd_other": 0.04,
    "iabs_foreign": 0.85,
    "iabs_migrant_origin": 0.08,
    "iabs_other": 0.02,
}
# Age bands (lower, upper, weight): adult-heavy, 10-90.
AGE_BANDS = (
    (10, 18, 8.0),
    (18, 25, 14.0),
    (25, 35, 22.0),
    (35, 45, 19.0),
    (45, 55, 15.0),
    (55, 65, 11.0),
    (65, 91, 11.0),
)
BUILDS = ("slim", "medium", "stocky", "heavy", "athletic")
MARKS = (
    "tattoo left forearm",
    "tattoo right forearm",
    "scar left cheek",
    "scar above right eye",
    "tattoo neck",
    "pierced eyebrow",
    "birthmark right hand",
    "tattoo back of hand",
    "scar on chin",
    "missing front tooth",
    "tattoo both arms (sleeves)",
    "mole left cheek",
)
NINO_RATE = 0.92  # adults (16+) with a National Insurance number, British nationals
NINO_RATE_FOREIGN = 0.6


@dataclass(slots=True)
class Membership:
    pnc: bool
    pnd: bool
    dvla: bool
    iabs: bool


@dataclass
class PartWorld:
    """Everything one part generated: persons, their memberships, the part's vehicles."""

    part_no: int
    first_idx: int
    seed: int
    persons: list[Person] = field(default_factory=list)
    members: list[Membership] = field(default_factory=list)
    vehicles: list[Vehicle] = field(default_factory=list)
    vehicle_owner: dict[str, int] = field(default_factory=dict)  # vehicle id -> person idx
    vehicle_by_id: dict[str, Vehicle] = field(default_factory=dict)

    def local(self, person_id: str) -> int:
        return int(person_id[1:]) - 1 - self.first_idx


def person_id(idx: int) -> str:
    return f"P{idx + 1:09d}"


def _ages(rng: np.random.Generator, n: int) -> npt.NDArray[np.float64]:
    w = np.array([b[2] for b in AGE_BANDS])
    band = rng.choice(len(AGE_BANDS), size=n, p=w / w.sum())
    lo = np.array([b[0] for b in AGE_BANDS])[band]
    hi = np.array([b[1] for b in AGE_BANDS])[band]
    ages: npt.NDArray[np.float64] = lo + rng.random(n) * (hi - lo)
    return ages


def build_part(part_no: int, first_idx: int, n: int, seed: int, total_persons: int) -> PartWorld:
    """Generate the true persons (and their life events) of one part."""
    rng = np.random.default_rng([seed, part_no])
    rnd = random.Random(seed * 1_000_003 + part_no)
    world = PartWorld(part_no, first_idx, seed)
    female = rng.random(n) < 0.5
    origins = sample_origins(rng, n)
    fore, sur = sample_names(rng, origins, female)
    eth = sample_ethnicity(rng, origins)
    foreign_rate = np.array([g.foreign_rate for g in ORIGIN_GROUPS])[origins]
    foreign = rng.random(n) < foreign_rate
    ages = _ages(rng, n)
    dob_days = np.floor(ages * 365.25).astype(np.int64)
    height = np.where(female, rng.normal(163, 6.5, n), rng.normal(176, 7.0, n))
    towns = sample_towns(rng, n)
    phones = make_phones(rng, n)
    u = rng.random((6, n))
    adult = ages >= 17
    m = MEMBERSHIP
    dvla = adult & (u[0] < np.where(foreign, m["dvla_foreign"], m["dvla_adult"]))
    pnc = (ages >= 10) & (u[1] < np.where(female, m["pnc_female"], m["pnc_male"]))
    pnd = u[2] < np.where(pnc, m["pnd_given_pnc"], m["pnd_other"])
    gb_origin = origins == 0
    iabs_rate = np.where(
        foreign, m["iabs_foreign"], np.where(gb_origin, m["iabs_other"], m["iabs_migrant_origin"])
    )
    iabs = u[3] < iabs_rate
    none = ~(dvla | pnc | pnd | iabs)
    dvla |= none & adult
    pnc |= none & ~adult
    has_nino = (ages >= 16) & (u[4] < np.where(foreign, NINO_RATE_FOREIGN, NINO_RATE))
    n_moves = rng.poisson(1.3, n)
    blocks = idgen.pnc_blocks(total_persons)
    ref_ord = REF_DATE.toordinal()
    origin_codes = [g.code for g in ORIGIN_GROUPS]
    nat_codes = [g.nationality for g in ORIGIN_GROUPS]
    taken_driver: set[str] = set()
    for i in range(n):
        idx = first_idx + i
        dob = date.fromordinal(ref_ord - int(dob_days[i]))
        og = int(origins[i])
        nationality = nat_codes[og] if foreign[i] else "GBR"
        p = Person(
            person_id=person_id(idx),
            surname=str(sur[i]),
            forenames=str(fore[i]),
            sex="F" if female[i] else "M",
            dob=dob,
            nationality=nationality,
            ethnicity=str(eth[i]),
            name_origin=origin_codes[og],
            phone=phones[i],
            height_cm=int(height[i]),
            build=BUILDS[rnd.randrange(len(BUILDS))],
            marks=rnd.choice(MARKS) if rnd.random() < 0.2 else "",
            nino=idgen.nino(idx) if has_nino[i] else None,
        )
        p.addresses = _addresses(rnd, dob, int(towns[i]), int(n_moves[i]))
        mem = Membership(bool(pnc[i]), bool(pnd[i]), bool(dvla[i]), bool(iabs[i]))
        world.persons.append(p)
        world.members.append(mem)
        if mem.dvla:
            p.licence = events.licence(rnd, idx, p, taken_driver)
        if mem.pnc:
            events.criminal_history(rnd, idx, p, blocks)
        if mem.iabs:
            events.encounters(rnd, idx, p)
        events.vehicles(rnd, idx, p, world, keeper=mem.dvla or (adult[i] and rnd.random() < 0.1))
        events.property_items(rnd, idx, p, mem.pnc)
    for i, p in enumerate(world.persons):
        if world.members[i].pnd:
            events.intel_and_custody(rnd, first_idx + i, p, world)
    return world


def _addresses(rnd: random.Random, dob: date, town: int, moves: int) -> list[Address]:
    """Address history: moves spread between age 18 (or birth) and today."""
    start = dob + timedelta(days=int(18 * 365.25)) if REF_DATE.year - dob.year > 20 else dob
    span = max(1, (REF_DATE - start).days)
    cuts = sorted(rnd.randrange(span) for _ in range(moves))
    dates = [start, *(start + timedelta(days=c) for c in cuts)]
    out: list[Address] = []
    cum = places().town_cum
    for k, d in enumerate(dates):
        if k and rnd.random() < 0.15:  # most moves stay in the same town
            town = min(bisect.bisect_right(cum, rnd.random()), len(cum) - 1)
        line1, town_name, postcode, lat, lon = make_address(rnd, town)
        if out:
            out[-1].to_date = d
        out.append(Address(line1, town_name, postcode, d, None, lat, lon))
    return out
