"""Search: indexed keys for person, vehicle and property search; free text (tables on the store's
one ``metadata``; migration 0004 creates them).
"""

from __future__ import annotations

from leds.store.schema_base import Id, metadata  # noqa: F401  (used once tables are added)
