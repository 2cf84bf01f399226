"""Building and maintaining the search indexes from the stored records.

The indexes are derived data: :func:`build_indexes` rebuilds them from ``records`` in chunks,
:func:`index_records` (re)indexes what a set of new or changed records touches, and
:func:`unindex_record` removes a record before it is erased. Records are grouped into *units*
that are indexed together:

* a person unit is a nominal (``kind = 'person'``) record with, for PNC, its alias and address
  records (an alias or address record reindexes its nominal);
* a vehicle unit is a DVLA vehicle with its keepers' postcodes (a keeper reindexes its
  vehicle), or a PNC vehicle-of-interest record;
* a property record and an intelligence report are units of their own.

Nothing here writes audit events: the caller (the service) does, with the record ids.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, select

from leds.errors import InvalidIdentifier
from leds.model.identifiers import normalise_postcode
from leds.search.keys import fold, name_keys, postcode_keys, rotations
from leds.store.schema import imports, records
from leds.store.tables_search import (
    search_keys,
    search_person_keys,
    search_person_rows,
    search_text,
)

__all__ = [
    "IndexStats",
    "build_indexes",
    "index_import",
    "index_records",
    "unindex_record",
]

CHUNK = 5_000
BUILD_CACHE_KIB = 262_144  # SQLite page cache during build_indexes (256 MiB)
_IN_CHUNK = 900  # ids per IN (...) list (under SQLite's 999 host parameter floor)
FTS_TABLE = "search_text_fts"
IDENTIFIER_KINDS = ("pnc_id", "cro", "driver_number", "nino", "passport", "immigration_ref")


@dataclass(slots=True)
class IndexStats:
    """What an index call did: units indexed per kind, and the record ids read."""

    units: dict[str, int] = field(default_factory=dict)
    records_read: int = 0
    keys_written: int = 0

    def add(self, kind: str, n: int) -> None:
        self.units[kind] = self.units.get(kind, 0) + n


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _mark(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _chunks(ids: Sequence[Any], size: int = _IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _is_pg(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def ensure_fts(conn: Connection) -> None:
    """Create SQLite's FTS5 table over ``search_text`` if it is missing (no-op elsewhere)."""
    if _is_pg(conn):
        return
    conn.exec_driver_sql(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(body, content='search_text', "
        "content_rowid='record_id', tokenize='porter unicode61')"
    )


def _canon_postcode(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return normalise_postcode(value)
    except InvalidIdentifier:
        return None


def _yob(dob: Any) -> int:
    if isinstance(dob, date):
        return dob.year
    if isinstance(dob, str) and len(dob) >= 4 and dob[:4].isdigit():
        return int(dob[:4])
    return 0


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


_COLS = (
    records.c.id,
    records.c.source,
    records.c.kind,
    records.c.source_record_id,
    records.c.subject_id,
    records.c.payload,
    records.c.surname,
    records.c.forenames,
    records.c.dob,
    records.c.sex,
    records.c.postcode,
    records.c.address,
    records.c.nationality,
    records.c.pnc_id,
    records.c.cro,
    records.c.driver_number,
    records.c.nino,
    records.c.passport,
    records.c.immigration_ref,
)


def _rows_by_id(conn: Connection, ids: Sequence[int]) -> list[Any]:
    out: list[Any] = []
    for part in _chunks(list(ids)):
        out.extend(conn.execute(select(*_COLS).where(records.c.id.in_(part))))
    return out


def _rows_by_subject(
    conn: Connection, source: str, kinds: Sequence[str], subjects: Sequence[str]
) -> list[Any]:
    out: list[Any] = []
    for part in _chunks(sorted(set(subjects))):
        # ``kind || ''``: a plain ``kind IN`` makes SQLite scan the (source, kind) key instead
        # of using the (source, subject_id) index
        rows = conn.execute(
            select(*_COLS).where(
                records.c.source == source,
                records.c.subject_id.in_(part),
                records.c.kind.concat("").in_(list(kinds)),
            )
        )
        out.extend(rows)
    return out


def _owner_ids(conn: Connection, source: str, kind: str, keys: Sequence[str]) -> dict[str, int]:
    """source_record_id -> record id of records of (source, kind)."""
    out: dict[str, int] = {}
    for part in _chunks(sorted(set(keys))):
        for rid, key in conn.execute(
            select(records.c.id, records.c.source_record_id).where(
                records.c.source == source,
                records.c.kind == kind,
                records.c.source_record_id.in_(part),
            )
        ):
            out[key] = int(rid)
    return out


def _insert(
    conn: Connection, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    if not rows:
        return
    mark = _mark(conn)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    rows = sorted(rows)  # in key order: B-tree inserts stay on the same pages
    for start in range(0, len(rows), 20_000):
        conn.exec_driver_sql(sql, rows[start : start + 20_000])


def _delete_in(conn: Connection, table: Any, column: Any, ids: Sequence[int]) -> None:
    for part in _chunks(list(ids)):
        conn.execute(delete(table).where(column.in_(part)))


# --------------------------------------------------------------------------------------------
# Units
# --------------------------------------------------------------------------------------------


def _identifier_values(row: Any, payload: dict[str, Any]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for kind in IDENTIFIER_KINDS:
        value = getattr(row, kind)
        if value:
            out.add((kind, str(value).upper()))
    for number in payload.get("passports") or ():
        if isinstance(number, str) and number:
            out.add(("passport", number.replace(" ", "").upper()))
    return out


def _index_persons(
    conn: Connection,
    person_ids: Sequence[int],
    stats: IndexStats,
    exclude: int | None = None,
    *,
    rows: Sequence[Any] | None = None,
) -> None:
    """(Re)index person units: nominal records plus PNC aliases and addresses.

    ``rows`` (the nominal rows, already read) means a fresh build: nothing to delete first.
    """
    if not person_ids:
        return
    fresh = rows is not None
    source_rows = rows if rows is not None else _rows_by_id(conn, person_ids)
    people = [r for r in source_rows if r.kind == "person"]
    old_rows: list[int] = []
    for part in [] if fresh else _chunks(list(person_ids)):
        old_rows.extend(
            int(r[0])
            for r in conn.execute(
                select(search_person_rows.c.record_id).where(
                    search_person_rows.c.owner_id.in_(part)
                )
            )
        )
    if not fresh:
        _delete_in(
            conn, search_person_keys, search_person_keys.c.record_id, old_rows + list(person_ids)
        )
        _delete_in(conn, search_person_rows, search_person_rows.c.owner_id, person_ids)
        _delete_in(conn, search_keys, search_keys.c.record_id, person_ids)
    pnc_ids = [r.source_record_id for r in people if r.source == "pnc"]
    extras: dict[str, list[Any]] = defaultdict(list)
    for extra in _rows_by_subject(conn, "pnc", ("alias", "address"), pnc_ids):
        if extra.id == exclude:
            continue
        extras[extra.subject_id].append(extra)
    row_values: list[tuple[Any, ...]] = []
    key_values: list[tuple[Any, ...]] = []
    ident_values: list[tuple[Any, ...]] = []
    for person in people:
        payload = json.loads(person.payload)
        postcodes: list[str] = []
        addresses: list[str] = []
        if person.postcode:
            postcodes.append(person.postcode)
        if person.address:
            addresses.append(str(person.address).upper())
        for addr in payload.get("addresses") or ():  # PND nominal: addresses over time
            if isinstance(addr, dict):
                pc = _canon_postcode(addr.get("postcode"))
                if pc:
                    postcodes.append(pc)
                if addr.get("text"):
                    addresses.append(str(addr["text"]).upper())
        aliases = []
        for extra in extras.get(person.source_record_id, ()) if person.source == "pnc" else ():
            body = json.loads(extra.payload)
            if extra.kind == "address":
                pc = _canon_postcode(body.get("postcode"))
                if pc:
                    postcodes.append(pc)
                line = ", ".join(str(body[k]) for k in ("line1", "town") if body.get(k))
                if line:
                    addresses.append(line.upper())
            else:
                aliases.append((extra.id, body))
        postcodes = list(dict.fromkeys(postcodes))
        addresses = list(dict.fromkeys(addresses))
        dob = _as_date(person.dob)
        yob = _yob(dob)
        height = payload.get("height_cm")
        build = payload.get("build")
        common = (
            person.sex,
            int(height) if isinstance(height, int | float) else None,
            str(build).upper() if build else None,
            person.nationality,
            " ".join(postcodes) or None,
            " | ".join(addresses) or None,
            str(payload["marks"]).upper() if payload.get("marks") else None,
        )
        row_values.append(
            (person.id, person.id, "primary", person.surname, person.forenames, dob, yob or None,
             *common)
        )  # fmt: skip
        keys = name_keys(person.surname, person.forenames) | postcode_keys(postcodes)
        key_values.extend((k, yob, person.id) for k in keys)
        for alias_id, body in aliases:
            a_dob = _as_date(body.get("dob")) or dob
            a_yob = _yob(a_dob)
            row_values.append(
                (alias_id, person.id, "alias", body.get("surname"), body.get("forenames"), a_dob,
                 a_yob or None, *common)
            )  # fmt: skip
            a_keys = name_keys(body.get("surname"), body.get("forenames"))
            key_values.extend((k, a_yob, alias_id) for k in a_keys)
        for kind, value in _identifier_values(person, payload):
            ident_values.append((f"i:{kind}:{value}".encode(), person.id))
    _insert(
        conn,
        "search_person_rows",
        [c.name for c in search_person_rows.columns],
        row_values,
    )
    _insert(conn, "search_person_keys", ["key", "yob", "record_id"], key_values)
    _insert(conn, "search_keys", ["key", "record_id"], list(set(ident_values)))
    stats.add("person", len(people))
    stats.keys_written += len(key_values) + len(ident_values)


def _plate_keys(vrm: str) -> list[bytes]:
    return [b"v" + r.encode() for r in rotations(fold(vrm))]


def _attr(name: str, value: Any) -> bytes | None:
    if value is None or value == "":
        return None
    return f"a:{name}:{str(value).strip().upper()}".encode()


def _index_vehicles(
    conn: Connection,
    vehicle_ids: Sequence[int],
    stats: IndexStats,
    exclude: int | None = None,
    *,
    rows: Sequence[Any] | None = None,
) -> None:
    """(Re)index DVLA vehicles (with keeper postcodes) and PNC vehicles of interest.

    ``rows`` (the vehicle rows, already read) means a fresh build: nothing to delete first.
    """
    if not vehicle_ids:
        return
    fresh = rows is not None
    source_rows = rows if rows is not None else _rows_by_id(conn, vehicle_ids)
    rows = [r for r in source_rows if r.kind == "vehicle"]
    if not fresh:
        _delete_in(conn, search_keys, search_keys.c.record_id, [r.id for r in rows])
    dvla_vrms = [r.source_record_id for r in rows if r.source == "dvla"]
    keeper_pcs: dict[str, set[str]] = defaultdict(set)
    keepers = _rows_by_subject(conn, "dvla", ("keeper",), dvla_vrms)
    if not fresh:
        _delete_in(conn, search_keys, search_keys.c.record_id, [k.id for k in keepers])
    values: set[tuple[bytes, int]] = set()
    for keeper in keepers:
        if keeper.id == exclude:
            continue
        body = json.loads(keeper.payload)
        pc = _canon_postcode(body.get("KEEPER_POSTCODE"))
        if pc:
            keeper_pcs[keeper.subject_id].add(pc)
        if body.get("DRIVER_NUMBER"):  # keeper -> the driver's vehicles (person view)
            values.add((f"k:{str(body['DRIVER_NUMBER']).upper()}".encode(), int(keeper.id)))
    for row in rows:
        body = json.loads(row.payload)
        vrm = body.get("VRM") or body.get("vrm") or row.subject_id or row.source_record_id
        keys: list[bytes | None] = list(_plate_keys(str(vrm)))
        if row.source == "dvla":
            keys += [
                _attr("mk", body.get("MAKE")),
                _attr("mo", body.get("MODEL")),
                _attr("co", body.get("COLOUR")),
            ]
            if body.get("VIN"):
                keys.append(f"i:vin:{str(body['VIN']).upper()}".encode())
            for pc in keeper_pcs.get(row.source_record_id, ()):
                keys += [_attr("kp", pc.replace(" ", "")), _attr("ks", pc[:-2])]
        else:
            keys.append(_attr("mr", body.get("interest")))
        values.update((k, row.id) for k in keys if k is not None)
    _insert(conn, "search_keys", ["key", "record_id"], sorted(values))
    stats.add("vehicle", len(rows))
    stats.keys_written += len(values)


def _index_property(
    conn: Connection, rows: Sequence[Any], stats: IndexStats, *, fresh: bool = False
) -> None:
    if not fresh:
        _delete_in(conn, search_keys, search_keys.c.record_id, [r.id for r in rows])
    values: set[tuple[bytes, int]] = set()
    for row in rows:
        body = json.loads(row.payload)
        keys: list[bytes | None] = []
        if body.get("serial"):
            keys += [b"s" + r.encode() for r in rotations(fold(str(body["serial"])))]
        keys += [
            _attr("pc", body.get("category")),
            _attr("pm", body.get("make")),
            _attr("po", body.get("model")),
            _attr("ps", body.get("status")),
        ]
        values.update((k, row.id) for k in keys if k is not None)
    _insert(conn, "search_keys", ["key", "record_id"], sorted(values))
    stats.add("property", len(rows))
    stats.keys_written += len(values)


def _remove_text(conn: Connection, ids: Sequence[int]) -> None:
    if not ids:
        return
    if not _is_pg(conn):
        ensure_fts(conn)
        mark = _mark(conn)
        for part in _chunks(list(ids)):
            marks = ", ".join([mark] * len(part))
            conn.exec_driver_sql(
                f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, body) SELECT 'delete', record_id, "
                f"body FROM search_text WHERE record_id IN ({marks})",
                tuple(part),
            )
    _delete_in(conn, search_text, search_text.c.record_id, ids)


def _index_text(
    conn: Connection, rows: Sequence[Any], stats: IndexStats, *, fresh: bool = False
) -> None:
    if not fresh:
        _remove_text(conn, [r.id for r in rows])
    values: list[tuple[Any, ...]] = []
    for row in rows:
        body = json.loads(row.payload)
        grading = body.get("grading") or {}
        values.append(
            (
                row.id,
                str(body.get("text") or ""),
                grading.get("source"),
                grading.get("intelligence"),
                grading.get("handling"),
                body.get("created"),
            )
        )
    if not values:
        return
    mark = _mark(conn)
    cols = "record_id, body, source_grade, intel_grade, handling, created"
    if _is_pg(conn):
        sql = (
            f"INSERT INTO search_text ({cols}, tsv) VALUES ({', '.join([mark] * 6)}, "
            f"to_tsvector('english', {mark}))"
        )
        conn.exec_driver_sql(sql, [(*v, v[1]) for v in values])
    else:
        ensure_fts(conn)
        conn.exec_driver_sql(
            f"INSERT INTO search_text ({cols}) VALUES ({', '.join([mark] * 6)})", values
        )
        conn.exec_driver_sql(
            f"INSERT INTO {FTS_TABLE}(rowid, body) VALUES ({mark}, {mark})",
            [(v[0], v[1]) for v in values],
        )
    stats.add("intel", len(values))


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------


def _units(conn: Connection, rows: Sequence[Any]) -> dict[str, list[Any]]:
    """Sort records into index units: person ids, vehicle ids, property rows, intel rows."""
    persons: set[int] = set()
    vehicles: set[int] = set()
    prop: list[Any] = []
    intel: list[Any] = []
    pnc_subjects: list[str] = []
    keeper_vrms: list[str] = []
    for row in rows:
        if row.kind == "person":
            persons.add(int(row.id))
        elif row.source == "pnc" and row.kind in ("alias", "address") and row.subject_id:
            pnc_subjects.append(row.subject_id)
        elif row.kind == "vehicle":
            vehicles.add(int(row.id))
        elif row.source == "dvla" and row.kind == "keeper" and row.subject_id:
            keeper_vrms.append(row.subject_id)
        elif row.kind == "property":
            prop.append(row)
        elif row.kind == "intel":
            intel.append(row)
    persons.update(_owner_ids(conn, "pnc", "person", pnc_subjects).values())
    vehicles.update(_owner_ids(conn, "dvla", "vehicle", keeper_vrms).values())
    return {
        "person": sorted(persons),
        "vehicle": sorted(vehicles),
        "property": prop,
        "intel": intel,
    }


def index_records(conn: Connection, record_ids: Sequence[int]) -> IndexStats:
    """(Re)index everything the given new or changed records touch (call after an import).

    Idempotent: indexing a record twice leaves the same keys. Ids of records that no longer
    exist are ignored.
    """
    stats = IndexStats()
    ids = sorted({int(i) for i in record_ids})
    for part in _chunks(ids, CHUNK):
        rows = _rows_by_id(conn, part)
        stats.records_read += len(rows)
        units = _units(conn, rows)
        _index_persons(conn, units["person"], stats)
        _index_vehicles(conn, units["vehicle"], stats)
        _index_property(conn, units["property"], stats)
        _index_text(conn, units["intel"], stats)
    return stats


def index_import(conn: Connection, import_id: int) -> IndexStats:
    """:func:`index_records` for the records an import inserted or changed.

    Those are the records carrying the import's id with ``imported_at`` at or after the
    import's start (records it only re-confirmed keep their earlier ``imported_at``).
    """
    started = conn.execute(
        select(imports.c.started_at).where(imports.c.id == import_id)
    ).scalar_one_or_none()
    if started is None:
        return IndexStats()
    ids = [
        int(r[0])
        for r in conn.execute(
            select(records.c.id).where(
                records.c.import_id == import_id, records.c.imported_at >= started
            )
        )
    ]
    return index_records(conn, ids)


def unindex_record(conn: Connection, record_id: int) -> IndexStats:
    """Remove a record from every search index (call in the erasure's transaction, before
    the record itself is deleted). A PNC alias or address, or a DVLA keeper, also reindexes
    its nominal or vehicle without it."""
    stats = IndexStats()
    rows = _rows_by_id(conn, [record_id])
    _delete_in(conn, search_keys, search_keys.c.record_id, [record_id])
    _delete_in(conn, search_person_keys, search_person_keys.c.record_id, [record_id])
    _delete_in(conn, search_person_rows, search_person_rows.c.record_id, [record_id])
    _delete_in(conn, search_person_rows, search_person_rows.c.owner_id, [record_id])
    _remove_text(conn, [record_id])
    if not rows:
        return stats
    row = rows[0]
    stats.records_read = 1
    if row.kind == "person":
        aliases = [
            int(r[0])
            for r in conn.execute(
                select(search_person_rows.c.record_id).where(
                    search_person_rows.c.owner_id == record_id
                )
            )
        ]
        _delete_in(conn, search_person_keys, search_person_keys.c.record_id, aliases)
        return stats
    units = _units(conn, rows)
    # Reindex the owning unit as it will be once this record is gone.
    _index_persons(conn, units["person"], stats, exclude=record_id)
    _index_vehicles(conn, units["vehicle"], stats, exclude=record_id)
    return stats


def build_indexes(
    conn: Connection, progress: Callable[[int], None] | None = None, *, chunk: int = CHUNK
) -> IndexStats:
    """Rebuild every search index from all stored records, in chunks of ``chunk`` records.

    ``progress(n)`` is called with the number of records read after each chunk.
    """
    stats = IndexStats()
    if not _is_pg(conn):  # a bigger page cache for the bulk build (restored at the end)
        cache = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
        conn.exec_driver_sql(f"PRAGMA cache_size = {-BUILD_CACHE_KIB}")
    for table in (search_keys, search_person_keys, search_person_rows):
        conn.execute(delete(table))
    if _is_pg(conn):
        conn.execute(delete(search_text))
    else:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {FTS_TABLE}")
        conn.execute(delete(search_text))
        ensure_fts(conn)
    last = 0
    kinds = ("person", "vehicle", "property", "intel")
    while True:
        rows = list(
            conn.execute(
                select(*_COLS)
                .where(records.c.id > last, records.c.kind.in_(kinds))
                .order_by(records.c.id)
                .limit(chunk)
            )
        )
        if not rows:
            break
        last = int(rows[-1].id)
        stats.records_read += len(rows)
        people = [r for r in rows if r.kind == "person"]
        vehicles = [r for r in rows if r.kind == "vehicle"]
        _index_persons(conn, [int(r.id) for r in people], stats, rows=people)
        _index_vehicles(conn, [int(r.id) for r in vehicles], stats, rows=vehicles)
        _index_property(conn, [r for r in rows if r.kind == "property"], stats, fresh=True)
        _index_text(conn, [r for r in rows if r.kind == "intel"], stats, fresh=True)
        if progress is not None:
            progress(len(rows))
    if not _is_pg(conn):
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(cache)}")
    return stats
