"""Search keys: the byte strings the search tables are indexed on (pure functions).

Name keys come from :mod:`leds.link.names` (the one variant table); this module only says how
they become index keys:

* ``V:<variant key>`` for every variant key of every name token (a token is among its own
  variant keys, so exact and variant matches share one posting list);
* ``M:<double metaphone>`` for both codes of every token;
* ``P:<code>/<code>``: the sorted pair of the surname's and the first forename's primary
  metaphone codes (the key a name-only query without a date of birth uses);
* ``S:<postcode sector>`` and ``C:<postcode>`` for every postcode known for the person.

Registration marks and property serials are *folded* (confusable characters mapped to one:
O->0, I->1, S->5, B->8, Z->2) and indexed as permuterm rotations of ``<folded>$``: every
pattern with ``?`` and ``*`` has a literal run (wrapping through ``$``) that is a prefix of
some rotation, so a partial mark is one range scan plus a check of each hit's rotation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from leds.link.names import metaphone_keys, normalise_name, variant_keys
from leds.search.errors import BadQuery

__all__ = [
    "FOLD",
    "PatternPlan",
    "fold",
    "name_keys",
    "name_tokens",
    "pair_keys",
    "pattern_plan",
    "rotations",
]

FOLD = str.maketrans({"O": "0", "I": "1", "S": "5", "B": "8", "Z": "2"})
_END = "$"
_PLATE_CHARS = re.compile(r"[^A-Z0-9?*]")


def fold(text: str) -> str:
    """Upper case, spaces and punctuation removed, confusable characters folded."""
    return _PLATE_CHARS.sub("", text.upper()).translate(FOLD)


def rotations(folded: str) -> list[str]:
    """The permuterm rotations of ``folded + "$"`` (one per character)."""
    term = folded + _END
    return [term[i:] + term[:i] for i in range(len(term))]


def unrotate(rotation: str) -> str:
    """The folded value a rotation was made from."""
    head, _, tail = rotation.partition(_END)
    return tail + head


@dataclass(frozen=True, slots=True)
class PatternPlan:
    """How to answer a wildcard pattern: a rotation prefix to range-scan and a full check."""

    prefix: str  # literal prefix of the rotations to scan
    regex: re.Pattern[str]  # full match against the folded value
    exact: bool  # the pattern has no wildcard


def pattern_plan(pattern: str, *, contains: bool = False, min_literal: int = 1) -> PatternPlan:
    """Plan a search for a folded pattern with ``?`` (one character) and ``*`` (any run).

    ``contains`` wraps a pattern without ``*`` in ``*...*`` (a partial serial). The scan
    prefix is the longest literal run of the cyclic ``pattern$`` (runs may wrap through the
    ``$`` that joins the end of the value to its start). Raises :class:`BadQuery` when the
    pattern has fewer than ``min_literal`` literal characters.
    """
    folded = fold(pattern)
    if contains and "*" not in folded and "?" not in folded:
        folded = f"*{folded}*"
    literals = sum(1 for c in folded if c not in "?*")
    if literals < min_literal:
        raise BadQuery(
            f"pattern {pattern!r} has {literals} known characters",
            hint=f"give at least {min_literal} characters besides ? and *",
        )
    regex = re.compile(
        "".join("." if c == "?" else ".*" if c == "*" else re.escape(c) for c in folded)
    )
    cyclic = folded + _END
    n = len(cyclic)
    best = ""
    if "?" not in folded and "*" not in folded:
        best = cyclic
    for start in range(n):
        if cyclic[start] in "?*" or cyclic[start - 1] not in "?*":
            continue  # runs start just after a wildcard (index -1 wraps to the "$")
        run = []
        for step in range(n):
            c = cyclic[(start + step) % n]
            if c in "?*":
                break
            run.append(c)
        if len(run) > len(best):
            best = "".join(run)
    return PatternPlan(best, regex, "?" not in folded and "*" not in folded)


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------


def name_tokens(text: str | None) -> list[str]:
    """Normalised tokens of a name (``"Mary-Ann O'Neil"`` -> ``["MARY", "ANN", "ONEIL"]``)."""
    norm = normalise_name(text)
    return norm.split(" ") if norm else []


def token_keys(token: str) -> set[bytes]:
    """The ``V:`` and ``M:`` keys of one normalised token."""
    keys = {b"V:" + k.encode() for k in variant_keys(token)}
    keys.update(b"M:" + code.encode() for code in metaphone_keys(token) if code)
    return keys


def name_keys(surname: str | None, forenames: str | None) -> set[bytes]:
    """Every ``V:``/``M:``/``P:`` key of a person's name (first three forenames)."""
    keys: set[bytes] = set()
    sur = name_tokens(surname)
    fore = name_tokens(forenames)[:3]
    for token in (*sur, *fore):
        keys |= token_keys(token)
    keys |= pair_keys(sur, fore[:1])
    return keys


def pair_keys(first: Iterable[str], second: Iterable[str]) -> set[bytes]:
    """``P:`` keys of every (token, token) pair, both metaphone codes, order-free."""
    out: set[bytes] = set()
    codes_b = [c for t in second for c in set(metaphone_keys(t)) if c]
    for a in first:
        for ca in set(metaphone_keys(a)):
            if not ca:
                continue
            for cb in codes_b:
                lo, hi = sorted((ca, cb))
                out.add(f"P:{lo}/{hi}".encode())
    return out


def postcode_keys(postcodes: Iterable[str]) -> set[bytes]:
    """``C:`` (full, compact) and ``S:`` (sector) keys of canonical postcodes ``AB1 2CD``."""
    out: set[bytes] = set()
    for pc in postcodes:
        if pc and " " in pc:
            out.add(b"C:" + pc.replace(" ", "").encode())
            out.add(b"S:" + pc[:-2].encode())
    return out
