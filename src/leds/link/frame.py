"""The linkage frame: person records read from the store, in chunks, as an Arrow table with the
derived columns the comparisons and blocking rules use.

Derived values are computed once per distinct raw value (names, dates and postcodes repeat a
lot), so preparing a frame is linear in the records and cheap per record.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date
from functools import lru_cache
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, and_, select

from leds.link.names import metaphone_keys, normalise_name, variant_keys
from leds.store.schema import records

CHUNK = 50_000
ID_COLUMNS: tuple[str, ...] = ("pnc_id", "cro", "driver_number", "nino", "passport")
RAW_COLUMNS: tuple[str, ...] = (
    "id",
    "source",
    "source_record_id",
    "surname",
    "forenames",
    "dob",
    "dob_text",
    "sex",
    "postcode",
    "nationality",
    *ID_COLUMNS,
)

SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("source", pa.string()),
        ("surname", pa.string()),
        ("forename1", pa.string()),
        ("forename2", pa.string()),
        ("surname_keys", pa.list_(pa.string())),
        ("forename_keys", pa.list_(pa.string())),
        ("surname_dm", pa.string()),
        ("forename_dm", pa.string()),
        ("dob", pa.string()),
        ("dob_y", pa.int32()),
        ("dob_m", pa.int32()),
        ("dob_d", pa.int32()),
        ("sex", pa.string()),
        ("postcode", pa.string()),
        ("postcodes", pa.list_(pa.string())),
        ("pc_sector", pa.string()),
        ("pc_district", pa.string()),
        ("nationality", pa.string()),
        *((c, pa.string()) for c in ID_COLUMNS),
        ("dob_bucket", pa.int32()),
        ("name_bucket", pa.int32()),
    ]
)
COLUMNS: tuple[str, ...] = tuple(SCHEMA.names)
_YEAR = re.compile(r"(1[89]\d\d|20\d\d)")
_POSTCODE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?) ?(\d)([A-Z]{2})$")


def bucket(value: str) -> int:
    """A stable hash bucket 0..999 (used to sample blocks for training)."""
    return zlib.crc32(value.encode()) % 1000


@lru_cache(maxsize=65_536)
def parse_partial_dob(text: str | None) -> tuple[int | None, int | None, int | None]:
    """(year, month, day) from a source's date text; unknown parts are None.

    Understands ``DDMMYYYY`` with ``00`` for unknown parts (PNC), ``YYYY``, ``YYYY-MM``,
    ``YYYY-MM-DD``, ``YYYYMMDD`` and ``DD/MM/YYYY`` with ``XX`` for unknown parts.
    """
    if not text:
        return (None, None, None)
    t = text.strip().upper()
    digits = re.sub(r"[^0-9X]", "", t)
    y = m = d = None
    if re.fullmatch(r"\d{4}(-\d{2}){0,2}", t):
        parts = t.split("-")
        y = int(parts[0])
        m = int(parts[1]) if len(parts) > 1 else None
        d = int(parts[2]) if len(parts) > 2 else None
    elif "/" in t and len(digits) == 8:
        d = int(digits[0:2]) if digits[0:2].isdigit() else None
        m = int(digits[2:4]) if digits[2:4].isdigit() else None
        y = int(digits[4:8]) if digits[4:8].isdigit() else None
    elif len(digits) == 8 and digits.isdigit():
        if _YEAR.fullmatch(digits[4:8]) and not _YEAR.fullmatch(digits[0:4]):
            d, m, y = int(digits[0:2]), int(digits[2:4]), int(digits[4:8])
        else:
            y, m, d = int(digits[0:4]), int(digits[4:6]), int(digits[6:8])
    else:
        found = _YEAR.search(t)
        y = int(found.group(1)) if found else None
    m = m if m and 1 <= m <= 12 else None
    d = d if d and 1 <= d <= 31 else None
    return (y, m, d)


@lru_cache(maxsize=262_144)
def _name_parts(surname: str | None, forenames: str | None) -> tuple[Any, ...]:
    sur = normalise_name(surname)
    fores = normalise_name(forenames).split()
    f1 = fores[0] if fores else ""
    f2 = fores[1] if len(fores) > 1 else ""
    sur_keys = list(variant_keys(sur.replace(" ", ""))) if sur else []
    if sur and " " in sur:  # double-barrelled: each part is a key too
        sur_keys = sorted(set(sur_keys) | set(sur.split()))
    return (
        sur or None,
        f1 or None,
        f2 or None,
        sur_keys or None,
        list(variant_keys(f1)) or None,
        metaphone_keys(sur)[0] or None,
        metaphone_keys(f1)[0] or None,
        bucket(sur + "|" + f1),
    )


@lru_cache(maxsize=262_144)
def normalise_postcode(postcode: str | None) -> str | None:
    """``"sl12ur"`` -> ``"SL1 2UR"``; None for something that is not a UK postcode."""
    if not postcode:
        return None
    pc = re.sub(r"[^A-Z0-9]", "", postcode.upper())
    found = _POSTCODE.match(pc)
    return f"{found.group(1)} {found.group(2)}{found.group(3)}" if found else None


def prepare(
    rows: Iterable[Mapping[str, Any]], history: Mapping[int, list[str]] | None = None
) -> pa.Table:
    """Turn store rows (``records`` columns) into a linkage frame.

    ``history`` maps a record id to the postcodes of its earlier addresses (PNC keeps them as
    separate address records); the current postcode is the row's own, or the last in history.
    """
    cols: dict[str, list[Any]] = {c: [] for c in COLUMNS}
    history = history or {}
    for r in rows:
        rid = int(r["id"])
        sur, f1, f2, sur_keys, f_keys, sur_dm, f_dm, nb = _name_parts(
            r.get("surname"), r.get("forenames")
        )
        dob = r.get("dob")
        if isinstance(dob, str) and dob:
            dob = date.fromisoformat(dob[:10])
        y: int | None
        m: int | None
        d: int | None
        if isinstance(dob, date):
            y, m, d = dob.year, dob.month, dob.day
            dob_s: str | None = dob.isoformat()
        else:
            y, m, d = parse_partial_dob(r.get("dob_text"))
            dob_s = None
        past = [p for p in (normalise_postcode(x) for x in history.get(rid, ())) if p]
        pc = normalise_postcode(r.get("postcode")) or (past[-1] if past else None)
        pcs = sorted(set(past) | ({pc} if pc else set()))
        cols["id"].append(rid)
        cols["source"].append(r.get("source"))
        cols["surname"].append(sur)
        cols["forename1"].append(f1)
        cols["forename2"].append(f2)
        cols["surname_keys"].append(sur_keys)
        cols["forename_keys"].append(f_keys)
        cols["surname_dm"].append(sur_dm)
        cols["forename_dm"].append(f_dm)
        cols["dob"].append(dob_s)
        cols["dob_y"].append(y)
        cols["dob_m"].append(m)
        cols["dob_d"].append(d)
        cols["sex"].append(r.get("sex") if r.get("sex") in ("M", "F") else None)
        cols["postcode"].append(pc)
        cols["postcodes"].append(pcs or None)
        cols["pc_sector"].append(pc[:-2] if pc else None)
        cols["pc_district"].append(pc.split(" ")[0] if pc else None)
        cols["nationality"].append(r.get("nationality") or None)
        for c in ID_COLUMNS:
            v = r.get(c)
            cols[c].append(str(v).strip().upper() if v else None)
        cols["dob_bucket"].append(bucket(dob_s) if dob_s else None)
        cols["name_bucket"].append(nb)
    return pa.table(cols, schema=SCHEMA)


def _person_chunks(
    conn: Connection, record_ids: Sequence[int] | None, chunk: int
) -> Iterator[list[dict[str, Any]]]:
    cols = [records.c[c] for c in RAW_COLUMNS]
    if record_ids is not None:
        ids = sorted({int(i) for i in record_ids})
        step = min(chunk, 5_000)  # bound the parameters of one statement
        for k in range(0, len(ids), step):
            part = ids[k : k + step]
            q = select(*cols).where(records.c.kind == "person", records.c.id.in_(part))
            yield [dict(r._mapping) for r in conn.execute(q.order_by(records.c.id))]
        return
    last = 0
    while True:
        q = (
            select(*cols)
            .where(records.c.kind == "person", records.c.id > last)
            .order_by(records.c.id)
            .limit(chunk)
        )
        rows = [dict(r._mapping) for r in conn.execute(q)]
        if not rows:
            return
        yield rows
        last = int(rows[-1]["id"])


def _address_history(conn: Connection, rows: list[dict[str, Any]]) -> dict[int, list[str]]:
    """Postcodes of the address records that belong to these person records (by subject)."""
    out: dict[int, list[str]] = {}
    by_key = {(r["source"], r["source_record_id"]): int(r["id"]) for r in rows}
    sources = {s for s, _ in by_key}
    lo, hi = min(int(r["id"]) for r in rows), max(int(r["id"]) for r in rows)
    person = records.alias("p")
    addr = records.alias("a")
    q = (
        select(person.c.id, addr.c.payload)
        .join(
            addr,
            and_(
                addr.c.source == person.c.source,
                addr.c.subject_id == person.c.source_record_id,
                addr.c.kind == "address",
            ),
        )
        .where(person.c.kind == "person", person.c.id.between(lo, hi))
        .where(person.c.source.in_(sorted(sources)))
    )
    wanted = set(by_key.values())
    for rid, payload in conn.execute(q):
        if int(rid) not in wanted:
            continue
        try:
            body = json.loads(payload)
        except ValueError:
            continue
        pc = body.get("postcode") if isinstance(body, dict) else None
        if pc:
            seq = body.get("seq") or 0
            out.setdefault(int(rid), []).append(f"{int(seq):06d}{pc}")
    return {k: [p[6:] for p in sorted(v)] for k, v in out.items()}


def read_person_frame(
    conn: Connection,
    record_ids: Sequence[int] | None = None,
    *,
    chunk: int = CHUNK,
    progress: Callable[[int], None] | None = None,
) -> pa.Table:
    """The linkage frame of all person records (or of ``record_ids``), read in chunks.

    ``progress(n)`` is called with the number of records of each finished chunk.
    """
    parts: list[pa.Table] = []
    for rows in _person_chunks(conn, record_ids, chunk):
        parts.append(prepare(rows, _address_history(conn, rows)))
        if progress:
            progress(len(rows))
    if not parts:
        return SCHEMA.empty_table()
    return pa.concat_tables(parts)
