"""Stores of source records: SQLite (embedded default) and PostgreSQL, behind one base class."""

from __future__ import annotations

from pathlib import Path

from leds.errors import StoreError
from leds.store.base import Store, StoredRecord, WriteCounts

__all__ = ["Store", "StoredRecord", "WriteCounts", "open_store"]

DB_FILE = "leds.db"


def open_store(target: str | Path) -> Store:
    """Open (and migrate) a store: a PostgreSQL URL, an SQLite URL, or a data directory."""
    text = str(target)
    if text.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        from leds.store.postgres import PostgresStore

        url = text.replace("postgres://", "postgresql://", 1)
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        return PostgresStore(url)
    from leds.store.sqlite import SQLiteStore

    if text.startswith("sqlite:"):
        return SQLiteStore(text)
    directory = Path(text)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the data directory {directory}: {exc}") from exc
    return SQLiteStore(f"sqlite:///{directory / DB_FILE}")
