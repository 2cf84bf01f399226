"""Name normalisation, variant keys (nicknames and transliterations) and phonetic keys.

The variant table is project-owned data (``data/name_variants.tsv``): rows ``kind, name, group``.
Names that share a group are variants of each other (``MIKE``/``MICHAEL``,
``MUHAMMAD``/``MOHAMMED``). A name's *variant keys* are its own normalised form plus every group
it belongs to; two names are variants when their key sets intersect. :func:`canonical` picks
one key deterministically (the group name when there is one), for indexes that want one value.

Also used by person search (#5): :func:`normalise_name`, :func:`name_variants`,
:func:`canonical`, :func:`variant_keys`, :func:`metaphone_keys`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from pathlib import Path

from doublemetaphone import doublemetaphone

VARIANTS_FILE = Path(__file__).parent / "data" / "name_variants.tsv"
_NON_LETTER = re.compile(r"[^A-Z ]+")
_SPACES = re.compile(r"\s+")
# Letters that NFKD does not decompose into an ASCII base letter.
_SPECIAL = str.maketrans(
    {"Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "Đ": "D", "đ": "d", "ß": "SS", "Æ": "AE", "æ": "ae"}
)


@lru_cache(maxsize=262_144)
def normalise_name(name: str | None) -> str:
    """Upper-case ASCII letters and single spaces: ``"Wójcik-Smith "`` -> ``"WOJCIK SMITH"``.

    Hyphens, apostrophes and other punctuation become spaces or vanish (``O'BRIEN`` ->
    ``OBRIEN``); an empty or missing name gives ``""``.
    """
    if not name:
        return ""
    text = unicodedata.normalize("NFKD", name.translate(_SPECIAL))
    text = "".join(c for c in text if not unicodedata.combining(c)).upper()
    text = text.replace("-", " ").replace("'", "").replace("’", "")
    return _SPACES.sub(" ", _NON_LETTER.sub("", text)).strip()


@cache
def _table() -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """(name -> groups, group -> members) from the variant table."""
    groups_of: dict[str, set[str]] = {}
    members: dict[str, set[str]] = {}
    with VARIANTS_FILE.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip() or line.startswith("#"):
                continue
            _kind, name, group = line.rstrip("\n").split("\t")
            name, group = normalise_name(name), normalise_name(group)
            groups_of.setdefault(name, set()).add(group)
            groups_of.setdefault(group, set()).add(group)
            members.setdefault(group, {group}).add(name)
    return (
        {k: frozenset(v) for k, v in groups_of.items()},
        {k: frozenset(v) for k, v in members.items()},
    )


@lru_cache(maxsize=262_144)
def variant_keys(name: str | None) -> tuple[str, ...]:
    """Sorted variant keys of one name (a single token; the first token is used otherwise).

    Two names are variants of each other exactly when their keys intersect.
    """
    token = first_token(name)
    if not token:
        return ()
    groups_of, _ = _table()
    return tuple(sorted({token} | groups_of.get(token, frozenset())))


def canonical(name: str | None) -> str:
    """One deterministic variant-canonical form of a name's first token (``""`` if none).

    Prefers a group name (``MO`` and ``MUHAMMAD`` both give ``MOHAMMED``); when a name sits in
    several groups, the alphabetically first group wins.
    """
    token = first_token(name)
    if not token:
        return ""
    groups_of, _ = _table()
    groups = groups_of.get(token)
    if not groups:
        return token
    return token if token in groups else min(groups)


def name_variants(name: str | None) -> set[str]:
    """Every known variant of a name's first token (including itself), normalised."""
    _, members = _table()
    out: set[str] = set()
    for key in variant_keys(name):
        out |= members.get(key, {key})
    return out


def first_token(name: str | None) -> str:
    """The first word of a normalised name (``"JOHN PAUL"`` -> ``"JOHN"``)."""
    norm = normalise_name(name)
    return norm.split(" ", 1)[0] if norm else ""


@lru_cache(maxsize=262_144)
def metaphone_keys(name: str | None) -> tuple[str, str]:
    """Double metaphone (primary, alternate) of a normalised name, spaces removed.

    The alternate equals the primary when the name has only one reading; ``("", "")`` for an
    empty name.
    """
    norm = normalise_name(name).replace(" ", "")
    if not norm:
        return ("", "")
    primary, alternate = doublemetaphone(norm)
    return (primary, alternate or primary)
