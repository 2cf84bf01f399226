"""Person search (QUEST-like): candidate retrieval on indexed keys, then scoring.

Retrieval (never a scan): every query name token gives its ``V:`` (variant keys, which include
the token itself) and, unless the mode is ``exact``, ``M:`` (double metaphone) keys; a ``*``/
``?`` token gives a ``V:`` prefix range. With a date of birth, year or age range every lookup is
one index range on (key, year of birth). Without one, a surname and forename together use the
``P:`` pair keys. A postcode (``C:``) or sector (``S:``) and identifiers add candidates too.
The database sums, per record, the best weight per query field (each query token a field) and
returns the best :data:`CANDIDATES` records; only those are scored.

Scoring: per field a comparison level (exact / variant / phonetic / fuzzy / wildcard / none)
with a log2 Bayes-factor weight, summed (Fellegi-Sunter, like the linkage model). The weights
are the documented defaults in :data:`WEIGHTS` (chosen to match the order of the linkage
model's levels; the saved Splink model's m/u values are not read yet). Swapped surname and
forenames are tried too. ``probability`` = the posterior with a prior of 2^-12, bands
``high`` (>= 0.99), ``medium`` (>= 0.5) and ``low``.

Results are grouped by person id (the link index), else by the nominal record; aliases (PNC
alias records) count for their nominal. Order: score, then persons with markers before those
without at equal score; each hit lists its markers with warning signals first. ``sort="name"``
(surname, forenames) or ``"dob"`` (oldest first, unknown last) reorders the same set.

Facets (:data:`FACETS`: source, sex, age band, nationality, marker type) count persons; a
``filter_<facet>`` keeps the persons having that value, and the counts and ``total`` are then
those of the narrowed result (as in Datasette).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any, Literal

from jellyfish import jaro_winkler_similarity
from sqlalchemy import Connection, select

from leds.errors import InvalidIdentifier
from leds.link.names import metaphone_keys, variant_keys
from leds.model.identifiers import normalise_postcode
from leds.search.common import active_filters, chunks, load_records, records_by_subject
from leds.search.errors import BadQuery
from leds.search.identifiers import lookup_identifier
from leds.search.keys import name_tokens, pair_keys
from leds.search.linkage import group_key, persons_of, records_of_many
from leds.store.base import StoredRecord
from leds.store.schema import records
from leds.store.tables_search import search_person_rows

__all__ = [
    "CANDIDATES",
    "FACETS",
    "SORTS",
    "WEIGHTS",
    "PersonHit",
    "PersonQuery",
    "PersonResults",
    "search_persons",
]

Mode = Literal["exact", "phonetic", "fuzzy"]
Sort = Literal["score", "name", "dob"]
SORTS: tuple[str, ...] = ("score", "name", "dob")
# Facets a result can be narrowed by (PersonQuery.filter_<facet>), in the order shown.
FACETS: tuple[str, ...] = ("source", "sex", "age_band", "nationality", "marker")
CANDIDATES = 500
PRIOR_LOG2 = -12.0
# Warning-type markers shown first, then others (PNC marker types).
MARKER_ORDER = (
    "WS-FIREARMS",
    "WS-WEAPONS",
    "WS-VIOLENT",
    "WANTED",
    "MISSING",
    "ABSCONDER",
    "RECALL",
    "FTA",
    "LOCATE",
    "WS-ESCAPER",
    "WS-DRUGS",
    "WS-MENTAL",
    "WS-SELFHARM",
    "BAIL",
    "COURT-ORDER",
    "DISQ-DRIVER",
)

WEIGHTS: dict[str, dict[str, float]] = {
    "surname": {
        "exact": 9.0,
        "wildcard": 7.0,
        "variant": 7.0,
        "phonetic": 6.0,
        "fuzzy": 4.5,
        "none": -5.0,
    },
    "forenames": {
        "exact": 6.0,
        "wildcard": 5.0,
        "variant": 5.5,
        "phonetic": 4.0,
        "fuzzy": 3.0,
        "initial": 1.0,
        "none": -3.0,
    },
    "dob": {"exact": 10.0, "transposed": 5.0, "year": 3.5, "range": 3.0, "none": -8.0},
    "sex": {"exact": 1.0, "none": -4.0},
    "postcode": {"exact": 6.0, "sector": 3.0, "none": -1.0},
    "address": {"exact": 3.0},
    "identifier": {"exact": 15.0},
}
_SURNAME_W = 3  # retrieval weights per key type (pre-score only)
_META_W = 2
_WILD = re.compile(r"[*?]")


@dataclass(frozen=True, slots=True)
class PersonQuery:
    surname: str | None = None
    forenames: str | None = None
    dob: date | None = None
    dob_from: date | None = None
    dob_to: date | None = None
    year: int | None = None
    age_from: int | None = None
    age_to: int | None = None
    sex: str | None = None
    postcode: str | None = None  # full postcode or sector ("LS2 6")
    address: str | None = None  # fragment, case-insensitive
    height_from: int | None = None
    height_to: int | None = None
    build: str | None = None
    marks: str | None = None  # fragment of the description of scars, marks, tattoos
    identifier: str | None = None
    sources: frozenset[str] | None = None  # only these sources' records (None: all)
    mode: Mode = "fuzzy"
    limit: int = 20
    offset: int = 0
    today: date | None = None  # for age ranges (default: today)
    sort: Sort = "score"  # score (markers first at equal score), name (surname), dob (oldest)
    # facet filters: keep only the persons with this facet value (see FACETS); the facet
    # counts are then those of the narrowed result
    filter_source: str | None = None
    filter_sex: str | None = None
    filter_age_band: str | None = None
    filter_nationality: str | None = None
    filter_marker: str | None = None

    @property
    def filters(self) -> dict[str, str]:
        """The active facet filters, facet -> value."""
        return active_filters(self, FACETS)


@dataclass(slots=True)
class PersonHit:
    """One consolidated person in the results."""

    key: str  # person id, or R<record id> for a nominal not yet linked
    person_id: str | None
    score: float
    probability: float
    band: str
    matched: dict[str, str]  # field -> how (exact / variant / phonetic / fuzzy / ...)
    best_name: str
    dob: str | None
    identifiers: dict[str, list[str]]
    sources: dict[str, int]  # source -> number of nominal records
    markers: list[str]  # marker types, warning signals first
    matched_record_id: int  # the nominal or alias record that scored best
    records: list[StoredRecord] = field(default_factory=list)  # nominals (and alias) shown

    @property
    def record_ids(self) -> list[int]:
        return [r.id for r in self.records]


@dataclass(slots=True)
class PersonResults:
    query: PersonQuery
    total: int
    hits: list[PersonHit]
    facets: dict[str, dict[str, int]]
    candidates: int  # records scored
    # set by the service: the sources searched, and those the user may not search
    searched: list[str] = field(default_factory=list)
    not_permitted: list[str] = field(default_factory=list)
    may_export: bool = False  # whether the user may export this result (policy)

    @property
    def record_ids(self) -> list[int]:
        return [i for h in self.hits for i in h.record_ids]

    @property
    def person_ids(self) -> list[str]:
        return [h.person_id for h in self.hits if h.person_id]


# --------------------------------------------------------------------------------------------
# Query preparation
# --------------------------------------------------------------------------------------------


def _yob_range(q: PersonQuery) -> tuple[int, int] | None:
    today = q.today or date.today()
    if q.dob is not None:
        return q.dob.year, q.dob.year
    if q.dob_from is not None or q.dob_to is not None:
        lo = q.dob_from.year if q.dob_from else 1880
        hi = q.dob_to.year if q.dob_to else today.year
        return lo, hi
    if q.year is not None:
        return q.year, q.year
    if q.age_from is not None or q.age_to is not None:
        hi = today.year - (q.age_from or 0)
        lo = today.year - (q.age_to if q.age_to is not None else 120) - 1
        return lo, hi
    return None


def _dob_bounds(q: PersonQuery) -> tuple[date, date] | None:
    """Exact bounds of a date range or age range (None for exact date or year)."""
    today = q.today or date.today()
    if q.dob_from is not None or q.dob_to is not None:
        return q.dob_from or date(1880, 1, 1), q.dob_to or today
    if q.age_from is not None or q.age_to is not None:
        age_to = q.age_to if q.age_to is not None else 120
        latest = _years_before(today, q.age_from or 0)
        earliest = _years_before(today, age_to + 1)
        return date.fromordinal(earliest.toordinal() + 1), latest
    return None


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@dataclass(slots=True)
class _Field:
    slot: int
    role: str  # "surname" or "forenames"
    token: str
    pattern: re.Pattern[str] | None  # for wildcard tokens


def _fields(q: PersonQuery) -> list[_Field]:
    out: list[_Field] = []
    for role, text in (("surname", q.surname), ("forenames", q.forenames)):
        if not text:
            continue
        raw_tokens = [t for t in re.split(r"[\s\-]+", text.strip().upper()) if t]
        for raw in raw_tokens[: 3 if role == "forenames" else 2]:
            if _WILD.search(raw):
                literal = re.sub(r"[^A-Z*?]", "", raw)
                prefix = _WILD.split(literal, 1)[0]
                if not prefix:
                    raise BadQuery(
                        f"wildcard name {raw!r} starts with a wildcard",
                        hint="give at least the first letter before * or ?",
                    )
                regex = "".join(
                    "." if c == "?" else ".*" if c == "*" else re.escape(c) for c in literal
                )
                out.append(_Field(len(out), role, literal, re.compile(regex)))
            else:
                for token in name_tokens(raw):
                    out.append(_Field(len(out), role, token, None))
    return out


# --------------------------------------------------------------------------------------------
# Retrieval
# --------------------------------------------------------------------------------------------


def _retrieve(
    conn: Connection, q: PersonQuery, fields: list[_Field], years: tuple[int, int] | None
) -> dict[int, float]:
    """Candidate record ids (nominals and aliases) with their pre-scores."""
    parts: list[str] = []
    params: list[Any] = []
    m = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    year_sql = f" AND yob BETWEEN {m} AND {m}" if years else ""
    year_params: list[Any] = list(years) if years else []

    def lookup(slot: int, weight: int, key: bytes, *, prefix: bool = False) -> None:
        if prefix:
            parts.append(
                f"SELECT record_id, {slot} AS s, {weight} AS w FROM search_person_keys "
                f"WHERE key >= {m} AND key < {m}{year_sql}"
            )
            params.extend([key, key + b"\xff", *year_params])
        else:
            parts.append(
                f"SELECT record_id, {slot} AS s, {weight} AS w FROM search_person_keys "
                f"WHERE key = {m}{year_sql}"
            )
            params.extend([key, *year_params])

    surnames = [f for f in fields if f.role == "surname" and f.pattern is None]
    forenames = [f for f in fields if f.role == "forenames" and f.pattern is None]
    if years is None and surnames and forenames and q.mode != "exact":
        # No date of birth: the pair keys keep the lookups selective.
        slot = len(fields)
        for key in pair_keys([f.token for f in surnames], [f.token for f in forenames[:1]]):
            lookup(slot, 6, key)
        # and exact-variant lookups of the surname, in case the forename is badly misspelt
        for f in surnames:
            for k in variant_keys(f.token):
                lookup(f.slot, _SURNAME_W, b"V:" + k.encode())
    else:
        for f in fields:
            if f.pattern is not None:
                prefix = _WILD.split(f.token, 1)[0]
                lookup(f.slot, _SURNAME_W, b"V:" + prefix.encode(), prefix=True)
                continue
            for k in variant_keys(f.token):
                lookup(f.slot, _SURNAME_W, b"V:" + k.encode())
            if q.mode != "exact":
                for code in set(metaphone_keys(f.token)):
                    if code:
                        lookup(f.slot, _META_W, b"M:" + code.encode())
    if q.postcode:
        key = _postcode_key(q.postcode)
        lookup(len(fields) + 1, 2, key, prefix=key.startswith(b"S:"))
    out: dict[int, float] = {}
    if parts:
        union = " UNION ALL ".join(parts)
        sql = (
            "SELECT record_id, SUM(w) AS score FROM (SELECT record_id, s, MAX(w) AS w FROM ("
            f"{union}) u GROUP BY record_id, s) g GROUP BY record_id "
            f"ORDER BY score DESC, record_id LIMIT {CANDIDATES}"
        )
        out = {int(r): float(s) for r, s in conn.exec_driver_sql(sql, tuple(params))}
    if q.identifier:
        found = lookup_identifier(conn, q.identifier)
        for rec in found.records:
            if rec.kind == "person":
                out[rec.id] = out.get(rec.id, 0.0) + 10.0
    return out


def _postcode_key(text: str) -> bytes:
    clean = text.strip().upper()
    try:
        return b"C:" + normalise_postcode(clean).replace(" ", "").encode()
    except InvalidIdentifier:
        if re.fullmatch(r"[A-Z]{1,2}\d[A-Z\d]? \d", clean):
            return b"S:" + clean.encode()
        raise BadQuery(
            f"{text!r} is neither a postcode nor a postcode sector",
            hint="give a full postcode (LS2 6HU) or a sector (LS2 6)",
        ) from None


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=262_144)
def _token_level(q: str, r: str) -> tuple[str, float]:
    if q == r:
        return "exact", 1.0
    if set(variant_keys(q)) & set(variant_keys(r)):
        return "variant", 1.0
    qm, rm = set(metaphone_keys(q)) - {""}, set(metaphone_keys(r)) - {""}
    if qm & rm:
        return "phonetic", 1.0
    sim = jaro_winkler_similarity(q, r)
    if sim >= 0.88:
        return "fuzzy", sim
    if len(q) == 1 and r.startswith(q):
        return "initial", 1.0
    return "none", sim


_RANK = {"exact": 0, "wildcard": 1, "variant": 2, "phonetic": 3, "fuzzy": 4, "initial": 5}


def _compare_name(
    role: str, qfields: Sequence[_Field], rtokens: Sequence[str]
) -> tuple[str, float] | None:
    """Best level and weight of a query name field (its tokens) against a record's tokens."""
    if not qfields:
        return None
    if not rtokens:
        return "missing", 0.0
    table = WEIGHTS[role]
    total = 0.0
    worst = "exact"
    for i, f in enumerate(qfields):
        best_level, best_w = "none", table["none"]
        for r in rtokens:
            if f.pattern is not None:
                level = "wildcard" if f.pattern.fullmatch(r) else "none"
                sim = 1.0
            else:
                level, sim = _token_level(f.token, r)
            if level == "initial" and role != "forenames":
                level = "none"
            w = table.get(level, table["none"])
            if level == "fuzzy":
                w *= (sim - 0.8) / 0.2
            if w > best_w:
                best_level, best_w = level, w
        total += best_w if i == 0 else best_w / 2
        if _RANK.get(best_level, 9) > _RANK.get(worst, 9):
            worst = best_level
    return worst, total


def _mode_allows(mode: Mode, how: str | None) -> bool:
    if how is None or how == "missing":
        return True
    if mode == "exact":
        return how in ("exact", "wildcard", "initial")
    if mode == "phonetic":
        return how in ("exact", "wildcard", "variant", "phonetic", "initial")
    return True


@dataclass(slots=True)
class _Scored:
    row: Any
    score: float
    matched: dict[str, str]


def _score_row(
    row: Any,
    q: PersonQuery,
    fields: list[_Field],
    bounds: tuple[date, date] | None,
    weights: Mapping[str, Mapping[str, float]],
) -> _Scored | None:
    matched: dict[str, str] = {}
    score = 0.0
    sur = [f for f in fields if f.role == "surname"]
    fore = [f for f in fields if f.role == "forenames"]
    r_sur = name_tokens(row.surname)
    r_fore = name_tokens(row.forenames)
    straight = [_compare_name("surname", sur, r_sur), _compare_name("forenames", fore, r_fore)]
    swapped = [_compare_name("surname", sur, r_fore), _compare_name("forenames", fore, r_sur)]

    def total(pair: list[tuple[str, float] | None]) -> float:
        return sum(p[1] for p in pair if p is not None)

    use, swap = straight, False
    if q.mode != "exact" and sur and fore and total(swapped) - 1.0 > total(straight):
        use, swap = swapped, True
    for role, res in zip(("surname", "forenames"), use, strict=True):
        if res is None:
            continue
        how, w = res
        if not _mode_allows(q.mode, how):
            return None
        if q.mode != "fuzzy" and how == "none":
            return None
        if any(f.pattern is not None for f in (sur if role == "surname" else fore)) and (
            how == "none"
        ):
            return None
        matched[role] = f"{how} (swapped)" if swap else how
        score += w - (1.0 if swap else 0.0)
    # date of birth
    dob: date | None = row.dob
    if q.dob is not None:
        if dob is None:
            matched["dob"] = "missing"
        elif dob == q.dob:
            matched["dob"], score = "exact", score + weights["dob"]["exact"]
        elif dob.year == q.dob.year and (dob.month, dob.day) == (q.dob.day, q.dob.month):
            matched["dob"], score = "transposed", score + weights["dob"]["transposed"]
        elif dob.year == q.dob.year:
            matched["dob"], score = "year", score + weights["dob"]["year"]
        else:
            return None
    elif bounds is not None:
        if dob is None or not bounds[0] <= dob <= bounds[1]:
            return None
        matched["dob"], score = "range", score + weights["dob"]["range"]
    elif q.year is not None:
        if dob is None or dob.year != q.year:
            return None
        matched["dob"], score = "year", score + weights["dob"]["year"]
    # sex and description: contradictions are vetoed per person (see _describe)
    if q.sex and row.sex:
        matched["sex"], score = "exact", score + weights["sex"]["exact"]
    if (q.height_from is not None or q.height_to is not None) and row.height_cm is not None:
        matched["height"] = "range"
    if q.build and row.build:
        matched["build"] = "exact"
    if q.marks and row.marks:
        matched["marks"] = "exact"
    if q.postcode:
        key = _postcode_key(q.postcode).decode()
        pcs = (row.postcodes or "").split(" ")
        compact = {a + b for a, b in zip(pcs[::2], pcs[1::2], strict=False)}
        sectors = {f"{a} {b[:1]}" for a, b in zip(pcs[::2], pcs[1::2], strict=False)}
        if key.startswith("C:") and key[2:] in compact:
            matched["postcode"], score = "exact", score + weights["postcode"]["exact"]
        elif (
            key.startswith("C:") and any(key[2:].startswith(s.replace(" ", "")) for s in sectors)
        ) or (key.startswith("S:") and key[2:] in sectors):
            matched["postcode"], score = "sector", score + weights["postcode"]["sector"]
        elif not fields:
            return None
        else:
            score += weights["postcode"]["none"]
    if q.address:
        if q.address.strip().upper() not in (row.addresses or ""):
            return None
        matched["address"], score = "exact", score + weights["address"]["exact"]
    return _Scored(row, score, matched)


def _describe(row: Any, q: PersonQuery) -> bool | None:
    """Whether a record's sex and description agree with the query (None: nothing to say).

    A person is dropped when one of its records contradicts the query and none agrees, so a
    record without a description (most sources have none) never vetoes on its own.
    """
    verdict: bool | None = None
    if q.sex and row.sex:
        if row.sex != q.sex.strip().upper()[:1]:
            return False
        verdict = True
    if (q.height_from is not None or q.height_to is not None) and row.height_cm is not None:
        if not (q.height_from or 0) <= row.height_cm <= (q.height_to or 999):
            return False
        verdict = True
    if q.build and row.build:
        if row.build != q.build.strip().upper():
            return False
        verdict = True
    if q.marks and row.marks:
        if q.marks.strip().upper() not in row.marks:
            return False
        verdict = True
    return verdict


def _probability(score: float) -> float:
    x = score + PRIOR_LOG2
    return float(1.0 / (1.0 + 2.0 ** (-x)))


def _band(p: float) -> str:
    return "high" if p >= 0.99 else "medium" if p >= 0.5 else "low"


def _age_band(dob: date | None, today: date) -> str:
    if dob is None:
        return "unknown"
    age = today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))
    if age < 18:
        return "under 18"
    for lo, hi in ((18, 24), (25, 34), (35, 44), (45, 54), (55, 64)):
        if age <= hi:
            return f"{lo}-{hi}"
    return "65+"


def _name_key(row: Any) -> tuple[str, str, int]:
    """Surname, then forenames (names missing last)."""
    return (row.surname or "\uffff", row.forenames or "\uffff", int(row.owner_id))


def _dob_key(row: Any) -> tuple[bool, date, int]:
    """Oldest first; unknown dates of birth last."""
    return (row.dob is None, row.dob or date.max, int(row.owner_id))


def _marker_key(m: str) -> int:
    return MARKER_ORDER.index(m) if m in MARKER_ORDER else len(MARKER_ORDER)


def search_persons(
    conn: Connection,
    q: PersonQuery,
    *,
    weights: Mapping[str, Mapping[str, float]] | None = None,
) -> PersonResults:
    """Persons matching the query, grouped, scored, markers first; with facets and paging.

    ``weights`` overrides :data:`WEIGHTS` per field and level (e.g. the second element of
    :func:`leds.search.weights.model_weights`, the saved linkage model's log2(m/u)).
    """
    table: dict[str, dict[str, float]] = {k: dict(v) for k, v in WEIGHTS.items()}
    for fname, levels in (weights or {}).items():
        table.setdefault(fname, {}).update(levels)
    if q.mode not in ("exact", "phonetic", "fuzzy"):
        raise BadQuery(f"unknown match mode {q.mode!r}", hint="one of exact, phonetic, fuzzy")
    if q.sort not in SORTS:
        raise BadQuery(f"unknown sort {q.sort!r}", hint="one of score, name, dob")
    if q.limit < 1 or q.offset < 0:
        raise BadQuery("limit must be at least 1 and offset at least 0")
    fields = _fields(q)
    if not fields and not q.postcode and not q.identifier:
        raise BadQuery(
            "a person search needs a surname or forename, a postcode or an identifier",
            hint="add a name (wildcards * and ? allowed) or a postcode",
        )
    today = q.today or date.today()
    years = _yob_range(q)
    bounds = _dob_bounds(q)
    candidates = _retrieve(conn, q, fields, years)
    rows: list[Any] = []
    for part in chunks(sorted(candidates)):
        rows.extend(
            conn.execute(select(search_person_rows).where(search_person_rows.c.record_id.in_(part)))
        )
    best: dict[int, _Scored] = {}  # owner -> best scoring row
    vetoed: set[int] = set()
    affirmed: set[int] = set()
    for row in rows:
        verdict = _describe(row, q)
        if verdict is False:
            vetoed.add(row.owner_id)
            continue
        if verdict:
            affirmed.add(row.owner_id)
        scored = _score_row(row, q, fields, bounds, table)
        if scored is None:
            continue
        if q.identifier and row.owner_id in candidates and candidates[row.owner_id] >= 10:
            scored.score += table["identifier"]["exact"]
            scored.matched["identifier"] = "exact"
        held = best.get(row.owner_id)
        if held is None or scored.score > held.score:
            best[row.owner_id] = scored
    owners = sorted(best)
    source_of: dict[int, tuple[str, str]] = {}
    for part in chunks(owners):
        for rid, source, key in conn.execute(
            select(records.c.id, records.c.source, records.c.source_record_id).where(
                records.c.id.in_(part)
            )
        ):
            source_of[int(rid)] = (source, key)
    if q.sources is not None:
        owners = [o for o in owners if source_of.get(o, ("", ""))[0] in q.sources]
    pid_of = persons_of(conn, sorted(set(owners) | vetoed))
    groups: dict[str, list[int]] = defaultdict(list)
    for owner in owners:
        groups[group_key(pid_of.get(owner), owner)].append(owner)
    for owner in vetoed - affirmed:
        key = group_key(pid_of.get(owner), owner)
        if key in groups and not affirmed & set(groups[key]):
            del groups[key]
    # markers of every candidate group (PNC nominals)
    pnc_keys = [key for s, key in source_of.values() if s == "pnc"]
    markers_by_pnc: dict[str, set[str]] = defaultdict(set)
    for rec in records_by_subject(conn, "pnc", pnc_keys, ["marker"]):
        markers_by_pnc[rec.subject_id or ""].add(str(rec.payload.get("marker_type")))
    nominal_row = {row.owner_id: row for row in rows if row.record_id == row.owner_id}
    summaries = []
    for key, members in groups.items():
        top = max(members, key=lambda o: best[o].score)
        marks: set[str] = set()
        for o in members:
            src, skey = source_of.get(o, ("", ""))
            if src == "pnc":
                marks |= markers_by_pnc.get(skey, set())
        summaries.append((key, members, top, sorted(marks, key=_marker_key)))

    def facet_values(summary: tuple[str, list[int], int, list[str]]) -> dict[str, set[str]]:
        _key, members, top, group_marks = summary
        row = best[top].row
        return {
            "source": {source_of.get(o, ("?", ""))[0] for o in members},
            "sex": {row.sex or "unknown"},
            "age_band": {_age_band(row.dob, today)},
            "nationality": {row.nationality or "unknown"},
            "marker": set(group_marks),
        }

    values = {s[0]: facet_values(s) for s in summaries}
    wanted = q.filters
    if wanted:
        summaries = [s for s in summaries if all(v in values[s[0]][f] for f, v in wanted.items())]
    # Best score first; among equal scores a person with warning markers comes first (and
    # every hit lists its markers, warning signals first). Sorting by name or date of birth
    # is stable, so equal names keep that order.
    summaries.sort(key=lambda s: (-round(best[s[2]].score, 2), not s[3], s[0]))
    if q.sort == "name":
        summaries.sort(key=lambda s: _name_key(nominal_row.get(s[2], best[s[2]].row)))
    elif q.sort == "dob":
        summaries.sort(key=lambda s: _dob_key(nominal_row.get(s[2], best[s[2]].row)))
    facets: dict[str, Counter[str]] = {k: Counter() for k in FACETS}
    for summary in summaries:
        for fname, found_values in values[summary[0]].items():
            for v in found_values:
                facets[fname][v] += 1
    page = summaries[q.offset : q.offset + q.limit]
    hits = _page_hits(conn, page, best, pid_of, q.sources)
    return PersonResults(
        q,
        len(summaries),
        hits,
        {k: dict(v.most_common()) for k, v in facets.items()},
        len(rows),
    )


def _page_hits(
    conn: Connection,
    page: list[tuple[str, list[int], int, list[str]]],
    best: dict[int, _Scored],
    pid_of: dict[int, str],
    allowed: frozenset[str] | None,
) -> list[PersonHit]:
    # every nominal of each shown person (not only those the query retrieved)
    everyone: dict[str, list[int]] = {}
    linked = records_of_many(conn, [p for _k, _mm, t, _m in page if (p := pid_of.get(t))])
    for key, members, top, _m in page:
        pid = pid_of.get(top)
        everyone[key] = sorted(set(members) | set(linked.get(pid, []) if pid else []))
    ids = [o for members in everyone.values() for o in members]
    ids += [best[t].row.record_id for _k, _mm, t, _m in page]
    loaded = load_records(conn, ids)
    hits = []
    for key, _members, top, marks in page:
        scored = best[top]
        recs = [
            loaded[o]
            for o in everyone[key]
            if o in loaded and (allowed is None or loaded[o].source in allowed)
        ]
        alias_id = int(scored.row.record_id)
        if alias_id != top and alias_id in loaded:
            recs.append(loaded[alias_id])
        identifiers: dict[str, list[str]] = defaultdict(list)
        sources: Counter[str] = Counter()
        for rec in recs:
            if rec.kind != "person":
                continue
            sources[rec.source] += 1
            for kind in ("pnc_id", "cro", "driver_number", "nino", "passport", "immigration_ref"):
                value = rec.person.get(kind)
                if value and value not in identifiers[kind]:
                    identifiers[kind].append(value)
        nominal = loaded.get(top)
        name_src = nominal.person if nominal else {}
        best_name = " ".join(
            x for x in (name_src.get("forenames"), name_src.get("surname")) if x
        ).strip()
        prob = _probability(scored.score)
        hits.append(
            PersonHit(
                key=key,
                person_id=pid_of.get(top),
                score=round(scored.score, 2),
                probability=round(prob, 4),
                band=_band(prob),
                matched=dict(scored.matched),
                best_name=best_name,
                dob=name_src.get("dob"),
                identifiers=dict(identifiers),
                sources=dict(sources),
                markers=marks,
                matched_record_id=alias_id,
                records=recs,
            )
        )
    return hits
