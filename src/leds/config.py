"""Where leds keeps its data: ``--data DIR`` / ``LEDS_DATA`` (default ``./leds-data``), or a
PostgreSQL store named by ``--store URL`` / ``LEDS_STORE_URL``; and the settings read from the
environment (``LEDS_REVIEW_IDENTITY``: candidate identities on the review screen)."""

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


REVIEW_IDENTITY_ENV = "LEDS_REVIEW_IDENTITY"
REVIEW_IDENTITY_CHOICES = ("hidden", "shown")


def review_identity(given: str | None = None) -> str:
    """How the candidate review screen (faces and fingerprints) shows each candidate's
    identity — sample reference, source record id, person record: ``hidden`` (the default:
    behind a "Show identity" control, so that a decision rests on the comparison, not on who
    the candidate is) or ``shown``. The given value, else ``$LEDS_REVIEW_IDENTITY``; any other
    value is refused (nothing is shown until it is corrected)."""
    from leds.errors import LedsError

    value = (given if given is not None else os.environ.get(REVIEW_IDENTITY_ENV, "")).strip()
    value = value.lower() or "hidden"
    if value not in REVIEW_IDENTITY_CHOICES:
        raise LedsError(
            f"{REVIEW_IDENTITY_ENV}={value!r} is not a setting leds knows",
            hint="set it to hidden (the default) or shown",
        )
    return value
