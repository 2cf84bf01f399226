"""Name normalisation, variant keys, phonetic keys; partial dates and postcodes."""

from __future__ import annotations

import pytest

from leds.link.frame import normalise_postcode, parse_partial_dob
from leds.link.names import (
    canonical,
    metaphone_keys,
    name_variants,
    normalise_name,
    variant_keys,
)
from leds.synth.noise import NICKNAMES, TRANSLITERATIONS


def _variants(a: str, b: str) -> bool:
    return bool(set(variant_keys(a)) & set(variant_keys(b)))


def test_normalise_folds_diacritics_case_and_punctuation() -> None:
    assert normalise_name("Wójcik-Smith ") == "WOJCIK SMITH"
    assert normalise_name("O'Brien") == "OBRIEN"
    assert normalise_name("Łukasz  Żółć") == "LUKASZ ZOLC"
    assert normalise_name(None) == ""


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Mohammed", "Muhammad"),
        ("MOHAMED", "mohammad"),
        ("Khan", "Kahn"),
        ("Chaudhry", "Chowdhury"),
        ("Yusuf", "Youssef"),
        ("Mike", "Michael"),
        ("Bill", "William"),
        ("Sergei", "Sergey"),
        ("Oluwaseun", "Seun"),
    ],
)
def test_known_variants_share_a_key(a: str, b: str) -> None:
    assert _variants(a, b)
    assert canonical(a) == canonical(b) or set(variant_keys(a)) & set(variant_keys(b))


@pytest.mark.parametrize(("a", "b"), [("Albert", "Alfred"), ("Khan", "Shah"), ("John", "Mohammed")])
def test_unrelated_names_are_not_variants(a: str, b: str) -> None:
    assert not _variants(a, b)


def test_canonical_is_stable_within_a_group() -> None:
    group = ["Mohammed", "Muhammad", "Mohamed", "Mohammad", "Muhammed"]
    assert len({canonical(n) for n in group}) == 1
    assert canonical("Zebedee") == "ZEBEDEE"
    assert "MUHAMMAD" in name_variants("mohammed")


def test_the_generators_variants_are_covered() -> None:
    """The table knows (almost) every nickname and transliteration the generator injects."""
    pairs = [(k, v) for k, vs in TRANSLITERATIONS.items() for v in vs]
    pairs += [(k, v) for k, vs in NICKNAMES.items() for v in vs]
    covered = sum(_variants(a, b) for a, b in pairs)
    assert covered / len(pairs) >= 0.9, [(a, b) for a, b in pairs if not _variants(a, b)]


def test_metaphone_keys() -> None:
    assert metaphone_keys("Mohammed")[0] == metaphone_keys("Muhammad")[0]
    assert metaphone_keys("Khan")[0] == metaphone_keys("Kahn")[0]
    assert metaphone_keys("") == ("", "")
    primary, alternate = metaphone_keys("Schmidt")
    assert primary
    assert alternate


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("03041985", (1985, 4, 3)),
        ("00041985", (1985, 4, None)),
        ("00001985", (1985, None, None)),
        ("1985-04", (1985, 4, None)),
        ("1985", (1985, None, None)),
        ("1985-04-03", (1985, 4, 3)),
        ("19850403", (1985, 4, 3)),
        ("XX/04/1985", (1985, 4, None)),
        ("XX/XX/1985", (1985, None, None)),
        ("03/04/1985", (1985, 4, 3)),
        (None, (None, None, None)),
        ("unknown", (None, None, None)),
    ],
)
def test_partial_dates(text: str | None, parts: tuple[int | None, ...]) -> None:
    assert parse_partial_dob(text) == parts


def test_postcodes() -> None:
    assert normalise_postcode("sl12ur") == "SL1 2UR"
    assert normalise_postcode("EC1A 1BB") == "EC1A 1BB"
    assert normalise_postcode("not a postcode") is None
