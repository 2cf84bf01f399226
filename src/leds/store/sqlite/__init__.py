"""The embedded store: SQLite in WAL mode, ``synchronous=FULL`` (the audit log is in it).

Write transactions start with ``BEGIN IMMEDIATE``, so concurrent writers (several processes
appending to the audit log) queue on the database lock instead of failing on a lock upgrade;
reads start a deferred transaction and never block writers (WAL).

Before that, each write transaction takes an exclusive ``flock`` on ``<database>.writer``: SQLite
makes a waiting writer poll with sleeps that grow to 100 ms, so under steady writes from
several server processes one of them can miss the lock again and again (seconds at p99); the
kernel hands a released ``flock`` to a waiter at once. The file holds nothing; SQLite's own
lock stays the guarantee (writers that do not use ``Store.transaction`` still queue on it).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url

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

    def _writer(self) -> AbstractContextManager[None]:
        database = make_url(self.url).database
        if not database or database == ":memory:" or database.startswith("file:"):
            return nullcontext()
        return _flocked(f"{database}.writer")


@contextmanager
def _flocked(path: str) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if missing) for the block."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # released when the descriptor is closed
        yield
    finally:
        os.close(fd)
