"""Identifier lookup: PNC ID (long or display form), CRO, driving licence number, NINO,
passport number, immigration reference or VIN -> the records holding it, and their persons.

The value is validated and normalised first (:mod:`leds.model.identifiers`); a mistyped check
character raises :class:`~leds.errors.InvalidIdentifier` whose hint is "did you mean ...?".
Without a ``kind`` every kind is tried; a value valid as several kinds is looked up as each.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from leds.errors import InvalidIdentifier
from leds.model.identifiers import (
    normalise_cro,
    normalise_driver_number,
    normalise_nino,
    normalise_passport,
    normalise_pnc_id,
)
from leds.search.common import load_records
from leds.search.errors import BadQuery
from leds.search.linkage import persons_of
from leds.store.base import StoredRecord
from leds.store.tables_search import search_keys

__all__ = ["KINDS", "IdentifierResult", "lookup_identifier", "normalise_identifier"]

_IMMIGRATION_RE = re.compile(r"[A-Z0-9/-]{4,32}")
_VIN_RE = re.compile(r"[A-HJ-NPR-Z0-9]{17}")


def _immigration(text: str) -> str:
    clean = "".join(text.split()).upper()
    if _IMMIGRATION_RE.fullmatch(clean) is None:
        raise InvalidIdentifier("immigration reference", text, "expected 4-32 letters or digits")
    return clean


def _vin(text: str) -> str:
    clean = "".join(text.split()).upper()
    if _VIN_RE.fullmatch(clean) is None:
        raise InvalidIdentifier("VIN", text, "expected 17 letters or digits (no I, O or Q)")
    return clean


_NORMALISERS: dict[str, Callable[[str], str]] = {
    "pnc_id": normalise_pnc_id,
    "cro": normalise_cro,
    "driver_number": normalise_driver_number,
    "nino": normalise_nino,
    "passport": normalise_passport,
    "immigration_ref": _immigration,
    "vin": _vin,
}
KINDS: tuple[str, ...] = tuple(_NORMALISERS)
# Tried in this order without a kind: the structured ones first (their check characters make
# a false positive unlikely), the loose ones (passport, immigration reference) last.
_AUTO_ORDER = ("pnc_id", "cro", "driver_number", "nino", "vin", "passport", "immigration_ref")


@dataclass(slots=True)
class IdentifierResult:
    """The records holding an identifier. ``person_ids`` maps linked record ids to persons."""

    kinds: list[tuple[str, str]]  # (kind, normalised value) looked up
    records: list[StoredRecord] = field(default_factory=list)
    person_ids: dict[int, str] = field(default_factory=dict)

    @property
    def record_ids(self) -> list[int]:
        return [r.id for r in self.records]


def normalise_identifier(value: str, kind: str | None = None) -> list[tuple[str, str]]:
    """Validate ``value`` as ``kind`` (or every kind); return the (kind, normalised) pairs.

    Raises :class:`~leds.errors.InvalidIdentifier` (with a suggestion for a wrong check
    character) when ``kind`` is given and the value is invalid, or when no kind accepts it
    (the most specific error: one with a suggestion first).
    """
    if kind is not None:
        normalise = _NORMALISERS.get(kind)
        if normalise is None:
            raise BadQuery(f"unknown identifier kind {kind!r}", hint="one of " + ", ".join(KINDS))
        return [(kind, normalise(value))]
    found: list[tuple[str, str]] = []
    errors: list[InvalidIdentifier] = []
    for name in _AUTO_ORDER:
        try:
            found.append((name, _NORMALISERS[name](value)))
        except InvalidIdentifier as exc:
            errors.append(exc)
    suggested = [e for e in errors if e.suggestion]
    structured = [(k, v) for k, v in found if k not in ("passport", "immigration_ref")]
    if suggested and not structured:
        # A check character is wrong for a structured kind: say so even if a loose kind (a
        # passport number is any 6-9 letters and digits) happened to accept the text.
        raise suggested[0]
    if structured:
        return structured
    if not found:
        raise InvalidIdentifier(
            "identifier", value, "not a PNC ID, CRO, licence, NINO, passport, reference or VIN"
        )
    return found


def lookup_identifier(conn: Connection, value: str, kind: str | None = None) -> IdentifierResult:
    """The records (person nominals; DVLA vehicles for a VIN) holding the identifier."""
    kinds = normalise_identifier(value, kind)
    keys = [f"i:{k}:{v}".encode() for k, v in kinds]
    ids = [
        int(r[0])
        for r in conn.execute(select(search_keys.c.record_id).where(search_keys.c.key.in_(keys)))
    ]
    loaded = load_records(conn, ids)
    result = IdentifierResult(kinds, [loaded[i] for i in sorted(loaded)])
    result.person_ids = persons_of(conn, result.record_ids)
    return result
