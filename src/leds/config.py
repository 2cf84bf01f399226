"""Where leds keeps its data: ``--data DIR`` / ``LEDS_DATA`` (default ``./leds-data``), or a
PostgreSQL store named by ``--store URL`` / ``LEDS_STORE_URL``."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATA = Path("leds-data")


def data_dir(given: Path | None = None) -> Path:
    """The data directory: the given one, else ``$LEDS_DATA``, else ``./leds-data``."""
    if given is not None:
        return given
    env = os.environ.get("LEDS_DATA")
    return Path(env) if env else DEFAULT_DATA


def store_target(data: Path | None = None, store_url: str | None = None) -> str:
    """What to open: a PostgreSQL URL if one is given (or in ``$LEDS_STORE_URL``), else the
    SQLite store in the data directory."""
    url = store_url or os.environ.get("LEDS_STORE_URL")
    return url if url else str(data_dir(data))
