"""Name tables for the synthetic world: real frequency distributions, UK-like diversity.

Data and credit
---------------
* Forenames and surnames per country come from the ``nominate`` package (MIT), whose bundled
  tables are derived from the Onomaverse names dataset (benjamin-paine/names-bucket,
  **CC BY 4.0**, https://onomaverse.com/datasets), the Kaggle "forenames and surnames with
  gender and country" set (Apache 2.0) and sigpwned/popular-names-by-country-dataset (CC0).
* The long tail of British surnames comes from the frequency-ranked list bundled with the
  ``fusuk`` package (MIT). The data file is read directly (the ``fusuk`` module itself loads
  ~415 MB at import, so it is never imported).
* Where a nominate table is tiny (Pakistan, Romania) a small hand-written supplement of
  common names is added (weights are rough ranks, not census counts).

See ``NOTICE.md`` in this package. No generated name belongs to a real person on purpose: names
are drawn independently (forename, surname, date of birth) from frequency tables.

Origin groups and shares
------------------------
``ORIGIN_GROUPS`` mixes the tables by approximate shares of the population of England and
Wales (ONS Census 2021, ethnic group and country of birth, rounded): White British ~74% plus
people of other backgrounds carrying British names (~4%), Indian 3.1%, Pakistani 2.7%,
Bangladeshi 1.1%, Chinese 0.7%, Black African 2.5% (Nigeria, Ghana, Sudan-as-stand-in for
the Horn of Africa, since nominate has no Somali table), Black Caribbean 1.0%, White Irish
0.9%, other White 6.2% (Poland, Romania, Italy, Portugal, Lithuania), Turkish and Arab ~1%.
Each group also carries the probability of a non-British nationality and a distribution of
self-defined ethnicity codes (``codes.ETHNICITY_CODES``).
"""

from __future__ import annotations

import importlib.util
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

StrArray = npt.NDArray[np.object_]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class OriginGroup:
    code: str  # nominate country code of the name table (name_origin)
    share: float  # share of the population, percent
    nationality: str  # ISO 3166-1 alpha-3 of a foreign national of this group
    foreign_rate: float  # probability the person is not a British national
    ethnicity: tuple[tuple[str, float], ...]  # self-defined ethnicity codes and weights


ORIGIN_GROUPS: tuple[OriginGroup, ...] = (
    OriginGroup(
        "GB",
        78.0,
        "GBR",
        0.0,
        (
            ("W1", 0.93),
            ("M1", 0.02),
            ("M3", 0.015),
            ("M9", 0.01),
            ("B1", 0.01),
            ("W3", 0.005),
            ("NS", 0.01),
        ),
    ),
    OriginGroup("IN", 3.1, "IND", 0.35, (("A1", 0.95), ("M3", 0.03), ("NS", 0.02))),
    OriginGroup("PK", 2.7, "PAK", 0.25, (("A2", 0.96), ("M3", 0.02), ("NS", 0.02))),
    OriginGroup("BD", 1.1, "BGD", 0.25, (("A3", 0.97), ("NS", 0.03))),
    OriginGroup("CN", 0.7, "CHN", 0.5, (("A4", 0.95), ("NS", 0.05))),
    OriginGroup("NG", 1.5, "NGA", 0.45, (("B2", 0.93), ("M2", 0.04), ("NS", 0.03))),
    OriginGroup("GH", 0.6, "GHA", 0.45, (("B2", 0.94), ("M2", 0.03), ("NS", 0.03))),
    OriginGroup("SD", 0.4, "SDN", 0.6, (("B2", 0.7), ("O1", 0.25), ("NS", 0.05))),
    OriginGroup("JM", 1.0, "JAM", 0.25, (("B1", 0.9), ("M1", 0.07), ("NS", 0.03))),
    OriginGroup("IE", 0.9, "IRL", 0.4, (("W2", 0.95), ("W3", 0.02), ("NS", 0.03))),
    OriginGroup("PL", 1.6, "POL", 0.75, (("W9", 0.97), ("NS", 0.03))),
    OriginGroup("RO", 1.0, "ROU", 0.85, (("W9", 0.85), ("W4", 0.12), ("NS", 0.03))),
    OriginGroup("IT", 0.7, "ITA", 0.6, (("W9", 0.97), ("NS", 0.03))),
    OriginGroup("PT", 0.6, "PRT", 0.6, (("W9", 0.95), ("NS", 0.05))),
    OriginGroup("LT", 0.4, "LTU", 0.8, (("W9", 0.97), ("NS", 0.03))),
    OriginGroup("TR", 0.5, "TUR", 0.5, (("W9", 0.5), ("O9", 0.45), ("NS", 0.05))),
    OriginGroup("IQ", 0.5, "IRQ", 0.6, (("O1", 0.8), ("O9", 0.15), ("NS", 0.05))),
)

# Probability a person has a second (middle) forename, by broad tradition.
MIDDLE_NAME_RATE: dict[str, float] = {"GB": 0.6, "IE": 0.5, "JM": 0.5, "NG": 0.5, "GH": 0.5}
DEFAULT_MIDDLE_NAME_RATE = 0.25
# Share of GB surnames drawn from the fusuk frequency-ranked tail rather than nominate's head.
GB_SURNAME_TAIL_RATE = 0.3
FUSUK_TAIL_SIZE = 150_000  # ranks of the fusuk list kept (weights ~ 1/(rank+50))

# Supplements for thin nominate tables (rough popularity weights).
_SUPPLEMENT: dict[tuple[str, str], tuple[tuple[str, float], ...]] = {
    ("PK", "surname"): (
        ("Khan", 100),
        ("Hussain", 80),
        ("Ali", 70),
        ("Ahmed", 60),
        ("Shah", 40),
        ("Iqbal", 35),
        ("Butt", 30),
        ("Malik", 30),
        ("Mahmood", 30),
        ("Akhtar", 25),
        ("Mirza", 15),
        ("Rehman", 20),
        ("Bibi", 25),
        ("Begum", 20),
        ("Raja", 15),
        ("Chaudhry", 20),
        ("Aslam", 15),
        ("Javed", 12),
        ("Rashid", 15),
        ("Saleem", 10),
        ("Qureshi", 15),
        ("Sheikh", 12),
        ("Anwar", 10),
        ("Yousaf", 10),
    ),
    ("PK", "M"): (
        ("Muhammad", 120),
        ("Mohammed", 80),
        ("Ali", 40),
        ("Imran", 30),
        ("Asif", 25),
        ("Tariq", 25),
        ("Zahid", 20),
        ("Usman", 25),
        ("Bilal", 25),
        ("Hamza", 25),
        ("Adnan", 20),
        ("Kashif", 15),
        ("Nadeem", 15),
        ("Shahid", 15),
        ("Abdul", 30),
        ("Yusuf", 15),
        ("Ahmed", 20),
    ),
    ("PK", "F"): (
        ("Ayesha", 30),
        ("Sana", 25),
        ("Nadia", 20),
        ("Saima", 20),
        ("Shazia", 20),
        ("Rubina", 15),
        ("Nasreen", 15),
        ("Amina", 20),
        ("Maryam", 25),
        ("Hina", 15),
        ("Samina", 15),
        ("Farah", 15),
    ),
    ("RO", "surname"): (
        ("Popescu", 60),
        ("Ionescu", 40),
        ("Popa", 45),
        ("Constantin", 30),
        ("Stan", 25),
        ("Dumitru", 30),
        ("Stoica", 20),
        ("Gheorghe", 25),
        ("Matei", 15),
        ("Ciobanu", 15),
        ("Munteanu", 15),
        ("Moldovan", 15),
        ("Lungu", 10),
        ("Marin", 20),
        ("Tudor", 15),
        ("Florea", 15),
    ),
    ("RO", "M"): (
        ("Andrei", 30),
        ("Alexandru", 30),
        ("Mihai", 30),
        ("Ionut", 25),
        ("Florin", 20),
        ("Marius", 20),
        ("Adrian", 25),
        ("Cristian", 25),
        ("Gheorghe", 15),
        ("Vasile", 15),
        ("Constantin", 15),
        ("Stefan", 15),
    ),
    ("RO", "F"): (
        ("Maria", 40),
        ("Elena", 35),
        ("Ioana", 30),
        ("Andreea", 25),
        ("Mihaela", 20),
        ("Alexandra", 20),
        ("Cristina", 20),
        ("Gabriela", 15),
        ("Ana", 20),
        ("Daniela", 15),
        ("Georgiana", 10),
    ),
}

_FOLD = str.maketrans(
    {
        "ł": "l",
        "Ł": "L",
        "ø": "o",
        "Ø": "O",
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "đ": "d",
        "Đ": "D",
        "ı": "i",
        "œ": "oe",
    }
)


def ascii_fold(text: str) -> str:
    """Latin letters without diacritics (for MRZ and driver numbers)."""
    if text.isascii():
        return text
    text = text.translate(_FOLD)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c) and ord(c) < 128)


def _clean(name: str) -> str | None:
    name = name.strip()
    if len(name) < 2 or len(name) > 24:
        return None
    if not name.replace(" ", "").replace("-", "").replace("'", "").isalpha():
        return None
    if not name.isascii() and any(not ascii_fold(c) for c in name if c not in " -'"):
        return None  # not Latin script: folding drops the letter
    if name.isupper() or name.islower():
        name = name.title()
    return name


@dataclass(frozen=True)
class Table:
    """A weighted name list: ``names[searchsorted(cum, u)]`` samples it."""

    names: StrArray
    cum: FloatArray

    def sample(self, u: FloatArray) -> StrArray:
        idx = np.searchsorted(self.cum, u * self.cum[-1], side="right")
        out: StrArray = self.names[np.minimum(idx, len(self.names) - 1)]
        return out


def _table(pairs: dict[str, float]) -> Table:
    items = sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
    names = np.array([k for k, _ in items], dtype=object)
    weights = np.array([w for _, w in items], dtype=np.float64)
    return Table(names, np.cumsum(weights))


def _nominate_rows(kind: str, country: str) -> list[tuple[str, str, float]]:
    import pyarrow.parquet as pq  # local: only when tables are built

    spec = importlib.util.find_spec("nominate")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the nominate package is not installed")
    base = Path(next(iter(spec.submodule_search_locations))) / "_bundled" / kind
    table = pq.read_table(base / f"{country}.parquet", columns=["latin", "gender", "count"])
    data = table.to_pydict()
    return list(zip(data["latin"], data["gender"], data["count"], strict=True))


def _fusuk_tail() -> Table:
    spec = importlib.util.find_spec("fusuk")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the fusuk package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "uk_last_names.txt"
    names: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            cleaned = _clean(line)
            if cleaned is None:
                continue
            if cleaned.startswith("Mc") and len(cleaned) > 3:
                cleaned = "Mc" + cleaned[2:].capitalize()
            if "-" in cleaned:
                cleaned = "-".join(p.capitalize() for p in cleaned.split("-"))
            names.append(cleaned)
            if len(names) >= FUSUK_TAIL_SIZE:
                break
    weights = 1.0 / (np.arange(len(names), dtype=np.float64) + 50.0)
    return Table(np.array(names, dtype=object), np.cumsum(weights))


@dataclass(frozen=True)
class NameTables:
    """Per origin group: male forenames, female forenames, surnames (built once per process)."""

    male: dict[str, Table]
    female: dict[str, Table]
    surname: dict[str, Table]
    gb_tail: Table
    origin_codes: tuple[str, ...]
    origin_cum: FloatArray
    family_first: frozenset[str]


_TABLES: NameTables | None = None


def name_tables() -> NameTables:
    """The process-wide name tables (built on first use, then cached)."""
    global _TABLES
    if _TABLES is None:
        _TABLES = _build_tables()
    return _TABLES


def _build_tables() -> NameTables:
    male: dict[str, Table] = {}
    female: dict[str, Table] = {}
    surname: dict[str, Table] = {}
    for group in ORIGIN_GROUPS:
        code = group.code
        by_sex: dict[str, dict[str, float]] = {"M": {}, "F": {}}
        rows = _nominate_rows("given", code)
        total = sum(c for _, _, c in rows) or 1.0
        for latin, gender, count in rows:
            name = _clean(latin)
            if name is None or gender not in by_sex or count < 2 or name == "Md":
                continue
            by_sex[gender][name] = by_sex[gender].get(name, 0.0) + count
        for sex in ("M", "F"):
            sup = _SUPPLEMENT.get((code, sex), ())
            scale = total / max(1.0, sum(w for _, w in sup)) if sup else 0.0
            for name, w in sup:
                by_sex[sex][name] = by_sex[sex].get(name, 0.0) + w * scale
        # A name listed far more often for the other sex is dropped (table noise).
        for sex, other in (("M", "F"), ("F", "M")):
            for name in list(by_sex[sex]):
                if by_sex[other].get(name, 0.0) > 5 * by_sex[sex][name]:
                    del by_sex[sex][name]
        male[code] = _table(by_sex["M"])
        female[code] = _table(by_sex["F"])
        sur: dict[str, float] = {}
        srows = _nominate_rows("surname", code)
        stotal = sum(c for _, _, c in srows) or 1.0
        for latin, _, count in srows:
            name = _clean(latin)
            if name is not None and count >= 2:
                sur[name] = sur.get(name, 0.0) + count
        sup = _SUPPLEMENT.get((code, "surname"), ())
        if sup:
            scale = stotal / sum(w for _, w in sup)
            for name, w in sup:
                sur[name] = sur.get(name, 0.0) + w * scale
        surname[code] = _table(sur)
    shares = np.array([g.share for g in ORIGIN_GROUPS], dtype=np.float64)
    return NameTables(
        male=male,
        female=female,
        surname=surname,
        gb_tail=_fusuk_tail(),
        origin_codes=tuple(g.code for g in ORIGIN_GROUPS),
        origin_cum=np.cumsum(shares / shares.sum()),
        family_first=frozenset({"CN"}),
    )


def sample_origins(rng: np.random.Generator, n: int) -> npt.NDArray[np.int64]:
    """Index into ``ORIGIN_GROUPS`` for ``n`` persons."""
    cum = name_tables().origin_cum
    return np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(cum) - 1)


def sample_names(
    rng: np.random.Generator, origins: npt.NDArray[np.int64], female: npt.NDArray[np.bool_]
) -> tuple[StrArray, StrArray]:
    """Vectorised (forenames, surnames) for a column of persons."""
    t = name_tables()
    n = len(origins)
    first = np.empty(n, dtype=object)
    middle = np.empty(n, dtype=object)
    sur = np.empty(n, dtype=object)
    u1, u2, u3, u4, u5 = rng.random((5, n))
    for gi, group in enumerate(ORIGIN_GROUPS):
        mask = origins == gi
        if not mask.any():
            continue
        for is_f, tab in ((False, t.male[group.code]), (True, t.female[group.code])):
            m = mask & (female == is_f)
            first[m] = tab.sample(u1[m])
            middle[m] = tab.sample(u2[m])
        sur[mask] = t.surname[group.code].sample(u3[mask])
        if group.code == "GB":
            tail = mask & (u4 < GB_SURNAME_TAIL_RATE)
            sur[tail] = t.gb_tail.sample(u5[tail])
    rate = np.array(
        [MIDDLE_NAME_RATE.get(g.code, DEFAULT_MIDDLE_NAME_RATE) for g in ORIGIN_GROUPS]
    )[origins]
    has_middle = (rng.random(n) < rate) & (middle != first)
    fore = np.where(has_middle, first + " " + middle, first)
    return fore.astype(object), sur


def sample_ethnicity(rng: np.random.Generator, origins: npt.NDArray[np.int64]) -> StrArray:
    out = np.empty(len(origins), dtype=object)
    u = rng.random(len(origins))
    for gi, group in enumerate(ORIGIN_GROUPS):
        mask = origins == gi
        codes = np.array([c for c, _ in group.ethnicity], dtype=object)
        cum = np.cumsum([w for _, w in group.ethnicity])
        idx = np.searchsorted(cum / cum[-1], u[mask], side="right")
        out[mask] = codes[np.minimum(idx, len(codes) - 1)]
    return out
