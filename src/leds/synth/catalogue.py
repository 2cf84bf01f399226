"""Fixed catalogues of the synthetic world: offences, forces, vehicles, property, templates."""

from __future__ import annotations

import random

# CJS-style offence codes (illustrative), description, relative frequency.
OFFENCES: tuple[tuple[str, str, float], ...] = (
    ("TH68010", "Theft from a shop", 12),
    ("TH68001", "Theft", 6),
    ("BG61016", "Burglary dwelling", 4),
    ("OF61131", "Assault occasioning actual bodily harm", 6),
    ("OF61166", "Common assault", 10),
    ("MD71230", "Possession of a controlled drug Class B", 8),
    ("MD71210", "Possession with intent to supply Class A", 3),
    ("PU86001", "Using threatening behaviour", 5),
    ("CD71001", "Criminal damage", 6),
    ("RT88007", "Driving with excess alcohol", 5),
    ("RT88191", "Driving while disqualified", 2),
    ("RT88333", "Using a vehicle without insurance", 4),
    ("FI68190", "Possession of a firearm", 1),
    ("CJ97010", "Possession of a bladed article", 3),
    ("FR06001", "Fraud by false representation", 3),
    ("TH68046", "Handling stolen goods", 2),
    ("TH68023", "Robbery", 2),
    ("HA04001", "Harassment", 2),
    ("OF61091", "Wounding with intent", 1),
    ("TH68036", "Taking a vehicle without consent", 2),
)
SENTENCES: tuple[str, ...] = (
    "Fine 200 GBP",
    "Fine 450 GBP",
    "Community order 12 months",
    "Imprisonment 6 months",
    "Imprisonment 2 years",
    "Suspended sentence 4 months",
    "Conditional discharge 12 months",
    "Absolute discharge",
    "Community order 18 months unpaid work 120 hours",
)
MARKER_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("WS-VIOLENT", 20),
    ("WS-DRUGS", 15),
    ("WS-WEAPONS", 8),
    ("WS-FIREARMS", 2),
    ("WS-MENTAL", 6),
    ("WS-SELFHARM", 5),
    ("WS-ESCAPER", 1),
    ("BAIL", 12),
    ("FTA", 8),
    ("WANTED", 6),
    ("MISSING", 4),
    ("LOCATE", 4),
    ("ABSCONDER", 2),
    ("RECALL", 2),
    ("COURT-ORDER", 5),
)
MARKER_DETAILS: dict[str, tuple[str, ...]] = {
    "BAIL": (
        "Not to enter {town} city centre",
        "Curfew 19:00-07:00 at home address",
        "Not to contact the complainant",
        "Reside at {town} address",
    ),
    "COURT-ORDER": ("Criminal behaviour order", "Restraining order", "Stalking protection order"),
    "WANTED": ("Wanted for failing to appear", "Wanted on warrant", "Wanted for questioning"),
    "MISSING": ("Missing from home address", "Missing from care placement"),
}
# code, min points, max points, disqualification
ENDORSEMENTS: tuple[tuple[str, int, int, bool], ...] = (
    ("SP30", 3, 3, False),
    ("SP30", 3, 6, False),
    ("SP50", 3, 6, False),
    ("CU80", 3, 6, False),
    ("IN10", 6, 8, False),
    ("TS10", 3, 3, False),
    ("MS90", 6, 6, False),
    ("CD10", 3, 9, False),
    ("LC20", 3, 6, False),
    ("DR10", 3, 11, True),
    ("DR30", 4, 4, True),
    ("BA10", 6, 6, True),
)
ENTITLEMENTS: tuple[tuple[str, float], ...] = (
    ("AM", 0.6),
    ("A", 0.12),
    ("BE", 0.2),
    ("C1", 0.1),
    ("C", 0.04),
    ("D1", 0.05),
    ("D", 0.02),
    ("F", 0.5),
    ("K", 0.5),
)
VEHICLE_MODELS: tuple[tuple[str, str, str], ...] = (
    ("FORD", "FIESTA", "WF0"),
    ("FORD", "FOCUS", "WF0"),
    ("VAUXHALL", "CORSA", "W0L"),
    ("VAUXHALL", "ASTRA", "W0L"),
    ("VOLKSWAGEN", "GOLF", "WVW"),
    ("VOLKSWAGEN", "POLO", "WVW"),
    ("BMW", "3 SERIES", "WBA"),
    ("AUDI", "A3", "WAU"),
    ("MERCEDES-BENZ", "C CLASS", "WDD"),
    ("NISSAN", "QASHQAI", "SJN"),
    ("TOYOTA", "YARIS", "SB1"),
    ("KIA", "SPORTAGE", "U5Y"),
    ("HYUNDAI", "TUCSON", "TMA"),
    ("PEUGEOT", "208", "VF3"),
    ("RENAULT", "CLIO", "VF1"),
    ("MINI", "COOPER", "WMW"),
    ("SKODA", "OCTAVIA", "TMB"),
    ("HONDA", "CIVIC", "SHH"),
    ("FORD", "TRANSIT", "WF0"),
    ("LAND ROVER", "RANGE ROVER SPORT", "SAL"),
)
VEHICLE_COLOURS: tuple[str, ...] = (
    "BLACK",
    "WHITE",
    "SILVER",
    "GREY",
    "BLUE",
    "RED",
    "GREEN",
    "ORANGE",
    "YELLOW",
    "BROWN",
)
PORTS: tuple[str, ...] = (
    "LHR",
    "LGW",
    "MAN",
    "STN",
    "LTN",
    "BHX",
    "EDI",
    "GLA",
    "BRS",
    "DVR",
    "STP",
    "HUL",
    "NCL",
    "LCY",
    "BFS",
)
# category, (make, model) choices, description
PROPERTY: tuple[tuple[str, tuple[tuple[str, str], ...], str], ...] = (
    (
        "phone",
        (
            ("Apple", "iPhone 13"),
            ("Apple", "iPhone 15"),
            ("Samsung", "Galaxy S23"),
            ("Google", "Pixel 8"),
        ),
        "mobile phone",
    ),
    (
        "bicycle",
        (
            ("Carrera", "Vengeance"),
            ("Boardman", "MTB 8.6"),
            ("Brompton", "C Line"),
            ("Trek", "Marlin 5"),
        ),
        "pedal cycle",
    ),
    (
        "tool",
        (
            ("DeWalt", "DCD796 drill"),
            ("Makita", "DHP482 drill"),
            ("Bosch", "GSB 18V"),
            ("Stihl", "MS 170 chainsaw"),
        ),
        "power tool",
    ),
    (
        "firearm",
        (("Beretta", "A300 shotgun"), ("Baikal", "IJ-27 shotgun"), ("Webley", "air pistol")),
        "firearm",
    ),
    (
        "jewellery",
        (("", "gold necklace"), ("", "diamond ring"), ("", "gold bracelet")),
        "jewellery",
    ),
    (
        "laptop",
        (("Apple", "MacBook Air"), ("Dell", "XPS 13"), ("Lenovo", "ThinkPad T14")),
        "laptop computer",
    ),
    (
        "watch",
        (("Rolex", "Submariner"), ("Omega", "Seamaster"), ("Casio", "G-Shock")),
        "wrist watch",
    ),
    ("camera", (("Canon", "EOS R6"), ("Nikon", "Z6"), ("Sony", "A7 III")), "camera"),
)
# Intel text templates: {subj}, {assoc}, {vrm}, {place}, {street}, {item}, {drug}.
# Template 0 needs neither an associate nor a vehicle.
INTEL_TEMPLATES: tuple[str, ...] = (
    "{subj} is reported to be carrying a knife when in {place} town centre.",
    "{subj} is believed to be supplying {drug} in the {place} area together with {assoc}. "
    "They are using a vehicle {vrm}.",
    "{subj} was seen meeting {assoc} outside an address on {street}, {place}.",
    "Information suggests {subj} is storing stolen {item} at an address on {street}, {place}.",
    "{subj} has been using vehicle {vrm} to travel to {place}, often with {assoc}.",
    "{subj} is associating with {assoc} and is involved in the supply of {drug} in {place}.",
)
FORCES: dict[str, str] = {
    "London": "MPS",
    "Croydon": "MPS",
    "Ilford": "MPS",
    "Harrow": "MPS",
    "Romford": "MPS",
    "Birmingham": "WMP",
    "Coventry": "WMP",
    "Wolverhampton": "WMP",
    "Manchester": "GMP",
    "Oldham": "GMP",
    "Bolton": "GMP",
    "Leeds": "WYP",
    "Bradford": "WYP",
    "Huddersfield": "WYP",
    "Liverpool": "MERSEYSIDE",
    "Sheffield": "SYP",
    "Bristol": "ASP",
    "Cardiff": "SWP",
    "Swansea": "SWP",
    "Glasgow": "PSOS",
    "Edinburgh": "PSOS",
    "Aberdeen": "PSOS",
    "Dundee": "PSOS",
    "Belfast": "PSNI",
    "Leicester": "LEICS",
    "Nottingham": "NOTTS",
    "Derby": "DERBYS",
    "Newcastle upon Tyne": "NORTHUMBRIA",
    "Middlesbrough": "CLEVELAND",
    "Luton": "BEDS",
    "Slough": "TVP",
    "Reading": "TVP",
    "Oxford": "TVP",
    "Milton Keynes": "TVP",
    "Blackburn": "LANCS",
    "Preston": "LANCS",
    "Southampton": "HANTS",
    "Portsmouth": "HANTS",
    "Norwich": "NORFOLK",
    "Peterborough": "CAMBS",
    "Cambridge": "CAMBS",
    "Plymouth": "DC",
    "Exeter": "DC",
    "Hull": "HUMBERSIDE",
    "Stoke-on-Trent": "STAFFS",
    "Ipswich": "SUFFOLK",
    "Carlisle": "CUMBRIA",
    "Watford": "HERTS",
    "Brighton": "SUSSEX",
    "York": "NYP",
}
STATIONS: dict[str, str] = {
    "London": "Brixton",
    "Birmingham": "Perry Barr",
    "Manchester": "Longsight",
    "Leeds": "Elland Road",
    "Bradford": "Trafalgar House",
    "Liverpool": "St Anne Street",
    "Sheffield": "Shepcote Lane",
    "Bristol": "Patchway",
    "Cardiff": "Cardiff Bay",
    "Glasgow": "London Road",
    "Belfast": "Musgrave",
}


def force_for(town: str) -> str:
    return FORCES.get(town, "MPS")


def station_for(town: str) -> str:
    return f"{town} {STATIONS.get(town, 'Central')}"


def _luhn_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return str((10 - total % 10) % 10)


def property_serial(rnd: random.Random, category: str) -> str:
    """A serial of the usual shape: IMEI (15 digits, Luhn) for phones, frame numbers..."""
    if category == "phone":
        body = f"35{rnd.randrange(10**12):012d}"
        return body + _luhn_digit(body)
    if category == "bicycle":
        return f"WTU{rnd.randrange(10**6):06d}{rnd.choice('ABCDEFGH')}"
    if category == "jewellery":
        return ""
    if category == "firearm":
        return f"{rnd.choice('ABCDEFGHJK')}{rnd.randrange(10**6):06d}"
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    return "".join(rnd.choice(letters) for _ in range(3)) + f"{rnd.randrange(10**7):07d}"
