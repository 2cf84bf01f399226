"""The embedded store: SQLite in WAL mode, ``synchronous=FULL`` (the audit log is in it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event

from leds.store.base import Store


class SQLiteStore(Store):
    backend = "sqlite"

    def _create_engine(self, url: str) -> Engine:
        engine = create_engine(url)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
