"""SQLite writers queue on a ``flock`` (``<database>.writer``) before SQLite's own lock, so a
waiting writer is woken when the lock is released instead of polling with growing sleeps
(``bench/store_writers.py`` measures the difference)."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

from sqlalchemy import text

from leds.store import open_store


def _free(path: Path) -> bool:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def test_a_write_transaction_holds_the_writers_lock_and_a_second_writer_waits(
    tmp_path: Path,
) -> None:
    store = open_store(tmp_path)
    lock = Path(f"{store.engine.url.database}.writer")
    try:
        with store.transaction() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            assert not _free(lock)  # held for the whole transaction
        assert _free(lock)  # and released with it

        order: list[str] = []
        with store.transaction() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))

            def second() -> None:
                with store.transaction() as other:
                    order.append("second")
                    other.execute(text("INSERT INTO t VALUES (2)"))

            waiter = threading.Thread(target=second)
            waiter.start()
            time.sleep(0.2)
            order.append("first commits")
        waiter.join(timeout=10)
        assert order == ["first commits", "second"]
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 2
    finally:
        store.close()
