"""Addresses and phone numbers of the synthetic world.

Towns are real post towns with a handful of their real outward codes (so postcodes look
plausible and cluster geographically); the inward code (``9AA``) is random, using only the
letters BS 7666 allows (not C, I, K, M, O, V), so a postcode may or may not exist in reality.
Street names come from a pool generated once per process by Faker ``en_GB`` with a fixed seed
(deterministic across processes). Phone numbers are UK mobile numbers ``07xxx xxxxxx``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# town, (lat, lon), outward codes, weight (rough relative population)
TOWNS: tuple[tuple[str, tuple[float, float], tuple[str, ...], float], ...] = (
    (
        "London",
        (51.51, -0.12),
        (
            "E1",
            "E2",
            "E3",
            "E6",
            "E8",
            "E14",
            "E15",
            "E17",
            "N1",
            "N7",
            "N15",
            "N17",
            "NW1",
            "NW10",
            "SE1",
            "SE5",
            "SE15",
            "SE18",
            "SW2",
            "SW9",
            "SW11",
            "SW16",
            "W2",
            "W10",
            "W12",
            "EC1A",
            "WC1N",
            "W1D",
        ),
        9.0,
    ),
    (
        "Birmingham",
        (52.48, -1.90),
        ("B1", "B5", "B8", "B10", "B11", "B12", "B19", "B20", "B23", "B36", "B44"),
        2.4,
    ),
    (
        "Manchester",
        (53.48, -2.24),
        ("M1", "M4", "M8", "M9", "M11", "M13", "M14", "M16", "M19", "M22", "M40"),
        1.8,
    ),
    (
        "Leeds",
        (53.80, -1.55),
        ("LS1", "LS2", "LS4", "LS6", "LS7", "LS8", "LS9", "LS11", "LS12", "LS14", "LS28"),
        1.6,
    ),
    ("Bradford", (53.79, -1.75), ("BD1", "BD3", "BD5", "BD7", "BD8", "BD9"), 1.0),
    ("Liverpool", (53.41, -2.98), ("L1", "L4", "L6", "L8", "L11", "L15", "L17", "L36"), 1.0),
    ("Sheffield", (53.38, -1.47), ("S1", "S2", "S3", "S5", "S7", "S9", "S11"), 1.1),
    ("Bristol", (51.45, -2.59), ("BS1", "BS2", "BS3", "BS5", "BS7", "BS13", "BS16"), 1.0),
    ("Leicester", (52.64, -1.13), ("LE1", "LE2", "LE3", "LE4", "LE5"), 0.8),
    ("Nottingham", (52.95, -1.15), ("NG1", "NG2", "NG3", "NG5", "NG7", "NG8"), 0.8),
    ("Newcastle upon Tyne", (54.97, -1.61), ("NE1", "NE4", "NE6", "NE15"), 0.7),
    ("Cardiff", (51.48, -3.18), ("CF5", "CF10", "CF11", "CF14", "CF24"), 0.8),
    ("Swansea", (51.62, -3.94), ("SA1", "SA2", "SA5"), 0.4),
    ("Glasgow", (55.86, -4.25), ("G1", "G3", "G4", "G11", "G20", "G31", "G42"), 1.0),
    ("Edinburgh", (55.95, -3.19), ("EH1", "EH3", "EH6", "EH7", "EH11"), 0.8),
    ("Belfast", (54.60, -5.93), ("BT1", "BT5", "BT7", "BT9", "BT12", "BT14"), 0.6),
    ("Coventry", (52.41, -1.51), ("CV1", "CV2", "CV3", "CV6"), 0.6),
    ("Luton", (51.88, -0.42), ("LU1", "LU2", "LU3", "LU4"), 0.4),
    ("Slough", (51.51, -0.59), ("SL1", "SL2", "SL3"), 0.3),
    ("Oldham", (53.54, -2.12), ("OL1", "OL4", "OL8", "OL9"), 0.4),
    ("Blackburn", (53.75, -2.48), ("BB1", "BB2"), 0.3),
    ("Southampton", (50.90, -1.40), ("SO14", "SO15", "SO16", "SO17"), 0.5),
    ("Portsmouth", (50.80, -1.09), ("PO1", "PO2", "PO4", "PO5"), 0.4),
    ("Norwich", (52.63, 1.30), ("NR1", "NR2", "NR3", "NR5"), 0.3),
    ("Peterborough", (52.57, -0.24), ("PE1", "PE2", "PE3", "PE4"), 0.4),
    ("Reading", (51.45, -0.97), ("RG1", "RG2", "RG4", "RG30"), 0.4),
    ("Plymouth", (50.37, -4.14), ("PL1", "PL4", "PL5", "PL6"), 0.5),
    ("Hull", (53.74, -0.33), ("HU1", "HU3", "HU5", "HU8", "HU9"), 0.5),
    ("Stoke-on-Trent", (53.00, -2.18), ("ST1", "ST3", "ST4", "ST6"), 0.5),
    ("Wolverhampton", (52.59, -2.13), ("WV1", "WV2", "WV3", "WV10"), 0.5),
    ("Middlesbrough", (54.57, -1.23), ("TS1", "TS3", "TS4", "TS5"), 0.3),
    ("Preston", (53.76, -2.70), ("PR1", "PR2"), 0.3),
    ("Derby", (52.92, -1.48), ("DE1", "DE21", "DE22", "DE23", "DE24"), 0.5),
    ("Ipswich", (52.06, 1.16), ("IP1", "IP2", "IP3", "IP4"), 0.3),
    ("Exeter", (50.72, -3.53), ("EX1", "EX2", "EX4"), 0.3),
    ("Carlisle", (54.89, -2.93), ("CA1", "CA2", "CA3"), 0.2),
    ("Aberdeen", (57.15, -2.09), ("AB10", "AB11", "AB24", "AB25"), 0.4),
    ("Dundee", (56.46, -2.97), ("DD1", "DD2", "DD3", "DD4"), 0.3),
    ("Croydon", (51.37, -0.10), ("CR0", "CR2", "CR7"), 0.6),
    ("Ilford", (51.56, 0.07), ("IG1", "IG2", "IG3"), 0.4),
    ("Harrow", (51.58, -0.33), ("HA1", "HA2", "HA3"), 0.4),
    ("Romford", (51.58, 0.18), ("RM1", "RM3", "RM7"), 0.4),
    ("Watford", (51.66, -0.40), ("WD17", "WD18", "WD24"), 0.3),
    ("Milton Keynes", (52.04, -0.76), ("MK1", "MK6", "MK9", "MK13"), 0.4),
    ("Cambridge", (52.21, 0.12), ("CB1", "CB2", "CB4"), 0.3),
    ("Oxford", (51.75, -1.26), ("OX1", "OX2", "OX3", "OX4"), 0.3),
    ("Brighton", (50.82, -0.14), ("BN1", "BN2", "BN3"), 0.4),
    ("York", (53.96, -1.08), ("YO1", "YO10", "YO24", "YO31"), 0.3),
    ("Huddersfield", (53.65, -1.78), ("HD1", "HD2", "HD3", "HD5"), 0.3),
    ("Bolton", (53.58, -2.43), ("BL1", "BL2", "BL3"), 0.4),
)

INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # BS 7666: not C I K M O V


@dataclass(frozen=True)
class Places:
    towns: npt.NDArray[np.object_]
    town_cum: npt.NDArray[np.float64]
    latlon: npt.NDArray[np.float64]
    outward: tuple[tuple[str, ...], ...]
    streets: npt.NDArray[np.object_]


_PLACES: Places | None = None
STREET_SUFFIXES = (
    "Road",
    "Street",
    "Lane",
    "Avenue",
    "Close",
    "Drive",
    "Way",
    "Crescent",
    "Gardens",
    "Grove",
    "Place",
    "Terrace",
    "Walk",
    "Court",
    "Hill",
    "Row",
    "Mews",
    "Green",
    "Rise",
    "View",
)
COMMON_STREETS = (
    "High Street",
    "Station Road",
    "Church Road",
    "Church Street",
    "Park Road",
    "Victoria Road",
    "Green Lane",
    "Manor Road",
    "Church Lane",
    "Park Avenue",
    "Queens Road",
    "New Road",
    "Grange Road",
    "Kings Road",
    "London Road",
)
STREET_POOL_SIZE = 4000


def places() -> Places:
    """Process-wide town and street pools (built once, deterministic)."""
    global _PLACES
    if _PLACES is None:
        from faker import Faker  # local: only when a world is generated

        fake = Faker("en_GB")
        fake.seed_instance(20260101)
        streets = sorted(
            {
                f"{fake.last_name()} {fake.random_element(STREET_SUFFIXES)}"
                for _ in range(STREET_POOL_SIZE)
            }
            | set(COMMON_STREETS)
        )
        weights = np.array([w for _, _, _, w in TOWNS], dtype=np.float64)
        _PLACES = Places(
            towns=np.array([t for t, _, _, _ in TOWNS], dtype=object),
            town_cum=np.cumsum(weights / weights.sum()),
            latlon=np.array([ll for _, ll, _, _ in TOWNS], dtype=np.float64),
            outward=tuple(o for _, _, o, _ in TOWNS),
            streets=np.array(streets, dtype=object),
        )
    return _PLACES


def sample_towns(rng: np.random.Generator, n: int) -> npt.NDArray[np.int64]:
    cum = places().town_cum
    return np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(cum) - 1)


def make_address(rnd: random.Random, town_idx: int) -> tuple[str, str, str, float, float]:
    """(line1, town, postcode, lat, lon) of a random address in a town."""
    p = places()
    out = rnd.choice(p.outward[town_idx])
    postcode = f"{out} {rnd.randrange(10)}{rnd.choice(INWARD_LETTERS)}{rnd.choice(INWARD_LETTERS)}"
    street = p.streets[rnd.randrange(len(p.streets))]
    lat, lon = p.latlon[town_idx]
    return (
        f"{rnd.randrange(1, 240)} {street}",
        str(p.towns[town_idx]),
        postcode,
        round(float(lat) + rnd.gauss(0.0, 0.02), 5),
        round(float(lon) + rnd.gauss(0.0, 0.02), 5),
    )


def make_phones(rng: np.random.Generator, n: int) -> list[str]:
    """UK mobile numbers in the usual written form ``07xxx xxxxxx``."""
    second = rng.choice(np.array([4, 5, 7, 8, 9]), size=n)
    a = rng.integers(0, 1000, size=n)
    b = rng.integers(0, 1_000_000, size=n)
    return [
        f"07{s}{x:02d} {y:06d}"
        for s, x, y in zip(second.tolist(), (a % 100).tolist(), b.tolist(), strict=True)
    ]
