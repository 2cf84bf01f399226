"""The workforce: officers and staff of police forces and partner organisations (demo users).

Size: one member per ``PERSONS_PER_MEMBER`` persons of the world, at least ``MIN_SIZE``.
Some members are tied to persons of part 1 of the world (the ground for misuse detection):
``RELATIVE_RATE`` share a surname and a household with a person (``relative``),
``NEIGHBOUR_RATE`` live in the same street and postcode (``neighbour``) and
``SAME_SURNAME_RATE`` only share a surname (``same-surname``).
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date
from pathlib import Path

import numpy as np

from leds.model.entities import Address, Person, WorkforceMember
from leds.synth.names import sample_names, sample_origins
from leds.synth.places import make_address, sample_towns

PERSONS_PER_MEMBER = 500
MIN_SIZE = 30
RELATIVE_RATE = 0.08
NEIGHBOUR_RATE = 0.05
SAME_SURNAME_RATE = 0.05
COLUMNS = (
    "user_id",
    "surname",
    "forenames",
    "role",
    "organisation",
    "unit",
    "shift_pattern",
    "home_line1",
    "home_town",
    "home_postcode",
    "related_person_id",
    "relation",
)
POLICE_FORCES = (
    "MPS",
    "WMP",
    "GMP",
    "WYP",
    "MERSEYSIDE",
    "SYP",
    "ASP",
    "SWP",
    "PSNI",
    "NORTHUMBRIA",
    "TVP",
    "HANTS",
)
# organisation -> ((role, weight), ...)
POLICE_ROLES = (
    ("constable", 40),
    ("investigator", 20),
    ("analyst", 10),
    ("facial-search-operator", 6),
    ("data-steward", 6),
    ("administrator", 5),
    ("auditor", 5),
)
PARTNERS: dict[str, tuple[tuple[str, float], ...]] = {
    "HOMEOFFICE-BF": (("immigration-officer", 8), ("analyst", 1)),
    "DVLA": (("dvla-enquiry", 8), ("data-steward", 1)),
    "NCA": (("investigator", 3), ("analyst", 2), ("facial-search-operator", 1)),
    "IOPC": (("auditor", 1),),
    "LEDS-OPS": (("administrator", 2), ("data-steward", 2), ("auditor", 1)),
}
UNITS: dict[str, tuple[str, ...]] = {
    "constable": (
        "Response Team 1",
        "Response Team 2",
        "Response Team 3",
        "Neighbourhood Policing",
        "Roads Policing Unit",
    ),
    "investigator": ("CID", "Major Investigation Team", "Serious Organised Crime Unit"),
    "analyst": ("Force Intelligence Bureau", "Analysis Unit"),
    "facial-search-operator": ("Facial Search Unit",),
    "data-steward": ("Data Quality Team", "Records Management"),
    "administrator": ("Systems Administration",),
    "auditor": ("Professional Standards", "Audit and Assurance"),
    "immigration-officer": (
        "Border Force Heathrow",
        "Border Force Dover",
        "Immigration Enforcement",
    ),
    "dvla-enquiry": ("Police Enquiries Team",),
}
SHIFTS = {
    "constable": ("4 on 4 off days/nights", "earlies/lates/nights 5-2"),
    "immigration-officer": ("4 on 4 off days/nights", "earlies/lates"),
}
OFFICE_SHIFT = "office hours Mon-Fri"
WORKFORCE_TAG = 0x5747


def workforce_size(persons: int) -> int:
    return max(MIN_SIZE, persons // PERSONS_PER_MEMBER)


def build_workforce(seed: int, size: int, persons: list[Person]) -> list[WorkforceMember]:
    rng = np.random.default_rng([seed, 0, WORKFORCE_TAG])
    rnd = random.Random(seed * 7919 + WORKFORCE_TAG)
    female = rng.random(size) < 0.45
    fore, sur = sample_names(rng, sample_origins(rng, size), female)
    towns = sample_towns(rng, size)
    adults = [p for p in persons if p.dob.year <= 2005 and p.addresses]
    out: list[WorkforceMember] = []
    for i in range(size):
        if rnd.random() < 0.75:
            org = POLICE_FORCES[rnd.randrange(len(POLICE_FORCES))]
            roles: tuple[tuple[str, float], ...] = POLICE_ROLES
        else:
            org = rnd.choice(sorted(PARTNERS))
            roles = PARTNERS[org]
        role = rnd.choices([r for r, _ in roles], weights=[w for _, w in roles])[0]
        line1, town, postcode, lat, lon = make_address(rnd, int(towns[i]))
        home = Address(line1, town, postcode, _start(rnd), None, lat, lon)
        member = WorkforceMember(
            user_id=f"U{i + 1:06d}",
            surname=str(sur[i]),
            forenames=str(fore[i]),
            role=role,
            organisation=org,
            unit=rnd.choice(UNITS[role]),
            shift_pattern=rnd.choice(SHIFTS.get(role, (OFFICE_SHIFT,))),
            home=home,
        )
        r = rnd.random()
        if adults and r < RELATIVE_RATE + NEIGHBOUR_RATE + SAME_SURNAME_RATE:
            p = adults[rnd.randrange(len(adults))]
            member.related_person_id = p.person_id
            cur = p.addresses[-1]
            if r < RELATIVE_RATE:
                member.relation = "relative"
                member.surname = p.surname
                member.home = Address(
                    cur.line1, cur.town, cur.postcode, cur.from_date, None, cur.lat, cur.lon
                )
            elif r < RELATIVE_RATE + NEIGHBOUR_RATE:
                member.relation = "neighbour"
                number, _, street = cur.line1.partition(" ")
                other = int(number) + rnd.choice((-2, 2, 4)) if number.isdigit() else 1
                member.home = Address(
                    f"{max(1, other)} {street}",
                    cur.town,
                    cur.postcode,
                    home.from_date,
                    None,
                    cur.lat,
                    cur.lon,
                )
            else:
                member.relation = "same-surname"
                member.surname = p.surname
        out.append(member)
    return out


def _start(rnd: random.Random) -> date:
    return date(2005 + rnd.randrange(20), 1 + rnd.randrange(12), 1)


def write_workforce(out: Path, members: list[WorkforceMember]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for m in members:
        w.writerow(
            (
                m.user_id,
                m.surname,
                m.forenames,
                m.role,
                m.organisation,
                m.unit,
                m.shift_pattern,
                m.home.line1,
                m.home.town,
                m.home.postcode,
                m.related_person_id or "",
                m.relation or "",
            )
        )
    d = out / "workforce"
    d.mkdir(parents=True, exist_ok=True)
    (d / "workforce.csv").write_text(buf.getvalue(), encoding="utf-8")
