"""Errors of search requests (each says what to change in the query)."""

from __future__ import annotations

from leds.errors import LedsError

__all__ = ["BadQuery"]


class BadQuery(LedsError, ValueError):
    """A search request that cannot be answered as given (too vague, malformed, unknown)."""
