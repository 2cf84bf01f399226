"""Linkage: the person index, its history, link runs and models, review decisions (tables on the
store's one ``metadata``; migration 0002 creates them).
"""

from __future__ import annotations

from leds.store.schema_base import Id, metadata  # noqa: F401  (used once tables are added)
