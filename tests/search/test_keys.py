"""Pure key functions: folding, permuterm rotations, wildcard plans, FTS5 query translation."""

from __future__ import annotations

import pytest

from leds.search.errors import BadQuery
from leds.search.keys import fold, name_keys, pattern_plan, rotations, unrotate
from leds.search.text import fts5_query


def test_confusable_characters_fold_to_one() -> None:
    assert fold("bm74 yzz") == fold("8M74Y22") == "8M74Y22"
    assert fold("o1 is") == "0115"


def test_every_rotation_unrotates_to_the_value() -> None:
    rots = rotations("A812CDE")
    assert len(rots) == 8
    assert {unrotate(r) for r in rots} == {"A812CDE"}


@pytest.mark.parametrize(
    ("pattern", "prefix", "matches", "misses"),
    [
        ("AB12CDE", "A812CDE$", ["A812CDE"], ["A812CDF"]),
        ("AB1?C*", "$A81", ["A812CDE", "A815C"], ["A82C"]),
        ("A?1?C", "C$A", ["AX1YC"], ["AX1YCC"]),
        ("*12CD*", "12CD", ["X12CDY", "12CD"], ["1C2D"]),
        ("AB*DE", "DE$A8", ["A8DE", "A8XXXDE"], ["A8DEX"]),
    ],
)
def test_pattern_plans_scan_the_longest_literal_run(
    pattern: str, prefix: str, matches: list[str], misses: list[str]
) -> None:
    plan = pattern_plan(pattern)
    assert plan.prefix == prefix
    # the prefix is a prefix of a rotation of every value the pattern matches
    for value in matches:
        assert plan.regex.fullmatch(value)
        assert any(r.startswith(plan.prefix) for r in rotations(value))
    for value in misses:
        assert not plan.regex.fullmatch(value)


def test_partial_serials_are_contains_searches() -> None:
    plan = pattern_plan("0952", contains=True)
    assert plan.regex.fullmatch("RUD0952876")
    assert not plan.exact


def test_a_pattern_of_only_wildcards_is_refused() -> None:
    with pytest.raises(BadQuery, match="known characters"):
        pattern_plan("?*?", min_literal=2)


def test_name_keys_hold_variants_phonetic_codes_and_a_pair() -> None:
    keys = name_keys("Smith", "Mike")
    assert b"V:SMITH" in keys
    assert b"V:MIKE" in keys
    assert any(k.startswith(b"V:MICHAEL") for k in keys)  # variant group of the table
    assert b"M:SM0" in keys
    assert any(k.startswith(b"P:") for k in keys)


def test_fts5_queries_quote_every_term() -> None:
    assert fts5_query("knife Croydon") == '"knife" "Croydon"'
    assert fts5_query('"stolen bicycles"') == '"stolen bicycles"'
    assert fts5_query("knif*") == '"knif"*'
    assert fts5_query("knife OR gun") == '"knife" OR "gun"'
    assert fts5_query("knife -Croydon") == '("knife") NOT "Croydon"'
    assert fts5_query("NEAR(a b) ^x") == '"NEAR a" "b" "x"'
    with pytest.raises(BadQuery):
        fts5_query("*** ---")


def test_tsqueries_are_built_from_words_only() -> None:
    from leds.search.text import tsquery

    assert tsquery("knife Croydon") == "(knife & Croydon)"
    assert tsquery('"stolen bicycles" OR knif*') == "((stolen <-> bicycles) | knif:*)"
    assert tsquery("knife -Croydon") == "(knife) & !(Croydon)"
    assert tsquery("a'); drop table x; --") == "(a & drop & table & x)"
