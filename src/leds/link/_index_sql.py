"""Bulk reads and writes for the person index (driver-level, chunked; COPY on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Table

CHUNK = 50_000
IN_CHUNK = 2_000


def mark(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _processors(conn: Connection, table: Table, columns: Sequence[str]) -> list[Any]:
    dialect = conn.dialect
    return [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]


def bind_value(conn: Connection, table: Table, column: str, value: Any) -> Any:
    """A value as the column type's bind processor stores it (for ``convert=False``)."""
    (proc,) = _processors(conn, table, (column,))
    return value if proc is None or value is None else proc(value)


def bulk_insert(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    convert: bool = True,
) -> int:
    """Insert rows (tuples in ``columns`` order) in chunks; values pass through each column
    type's bind processor, so they are stored exactly as Core would store them
    (``convert=False``: the caller did that already, see :func:`bind_value`)."""
    procs = _processors(conn, table, columns) if convert else []
    active = [(i, p) for i, p in enumerate(procs) if p is not None]

    def prepared() -> Iterator[tuple[Any, ...]]:
        # Runs repeat one timestamp: convert each distinct object once.
        seen: list[tuple[Any, Any]] = [(None, None)] * len(columns)
        for row in rows:
            if not active:
                yield tuple(row)
                continue
            values = list(row)
            for i, proc in active:
                value = values[i]
                if value is None:
                    continue
                if seen[i][0] is value:
                    values[i] = seen[i][1]
                else:
                    values[i] = proc(value)
                    seen[i] = (value, values[i])
            yield tuple(values)

    if conn.dialect.name == "postgresql":
        return _copy(conn, table, columns, prepared())
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join([mark(conn)] * len(columns))})"
    )
    total = 0
    for chunk in chunks(prepared(), CHUNK):
        conn.exec_driver_sql(sql, chunk)
        total += len(chunk)
    return total


def _copy(
    conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> int:
    raw: Any = conn.connection.driver_connection
    total = 0
    stmt = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cur, cur.copy(stmt) as copy:
        for row in rows:
            copy.write_row(row)
            total += 1
    return total


def chunks(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def delete_in(conn: Connection, table: str, column: str, values: Sequence[Any]) -> None:
    for chunk in chunks(values, IN_CHUNK):
        marks = ", ".join([mark(conn)] * len(chunk))
        conn.exec_driver_sql(f"DELETE FROM {table} WHERE {column} IN ({marks})", tuple(chunk))


def select_in(
    conn: Connection,
    sql: str,
    values: Sequence[Any],
    convert: Callable[[Any], Any] = lambda v: v,
) -> Iterator[Any]:
    """Run ``sql`` (with one ``{in}`` placeholder for the value list) over chunks of values."""
    for chunk in chunks(values, IN_CHUNK):
        marks = ", ".join([mark(conn)] * len(chunk))
        yield from conn.exec_driver_sql(sql.format(in_=marks), tuple(convert(v) for v in chunk))
