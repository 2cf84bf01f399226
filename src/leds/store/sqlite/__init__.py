"""The embedded store: SQLite in WAL mode, ``synchronous=FULL`` (the audit log is in it).

Write transactions start with ``BEGIN IMMEDIATE``, so concurrent writers (several processes
appending to the audit log) queue on the database lock instead of failing on a lock upgrade;
reads start a deferred transaction and never block writers (WAL).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event

from leds.store.base import WRITE_OPTION, Store

# Pooled connections: as many as the server's worker threads use at once, so a busy server
# reuses them instead of opening (and setting up) a connection per request.
POOL_SIZE = 32


class SQLiteStore(Store):
    backend = "sqlite"

    def _create_engine(self, url: str) -> Engine:
        engine = create_engine(url, pool_size=POOL_SIZE, max_overflow=POOL_SIZE)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.close()
            # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own is deferred).
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            write = conn.get_execution_options().get(WRITE_OPTION, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
