"""The comparisons of the leds linkage model (Splink comparison levels), per backend.

Each comparison's levels go from strongest to weakest agreement; the first level whose condition
holds decides. All SQL functions come from :mod:`leds.link.backends`; column names are plain
lower-case identifiers, never quoted (double quotes are string literals on Spark).

* ``name``: exact full name (term-frequency adjusted on surname), swapped forename/surname,
  variant (nickname/transliteration) forename, variant surname, Jaro-Winkler levels, double
  metaphone, same surname only.
* ``dob``: exact, day/month swapped, consistent partial date, one digit off, year only, year
  +/- 1.
* ``postcode``: exact current, shared in the address history, same sector, same district.
* ``identifiers``: PNC ID, CRO, driver number, NINO, passport: one shared identifier equal is
  strong evidence, a conflicting one is strong counter-evidence.
* ``middle_name``: second forename exact, same initial, different.
* ``sex`` and ``nationality``: exact or not.
"""

from __future__ import annotations

from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl

from leds.link.backends import Backend
from leds.link.frame import ID_COLUMNS

NAME_LEVELS: tuple[str, ...] = (
    "exact full name",
    "forename and surname swapped",
    "surname exact, forename variant",
    "surname variant, forename exact or variant",
    "surname exact, forename similar (JW >= 0.88)",
    "surname similar (JW >= 0.9), forename exact or variant",
    "both similar (JW >= 0.8) or same sounds",
    "surname exact, forename different",
)


def _null(col: str) -> str:
    return f"{col}_l IS NULL OR {col}_r IS NULL"


def name_comparison(b: Backend) -> Any:
    jw = b.jaro_winkler
    ov = b.arrays_overlap
    sur_eq = "surname_l = surname_r"
    f_eq = "forename1_l = forename1_r"
    f_var = ov("forename_keys_l", "forename_keys_r")
    s_var = ov("surname_keys_l", "surname_keys_r")
    jw_s = jw("surname_l", "surname_r")
    jw_f = jw("forename1_l", "forename1_r")
    sw1 = ov("surname_keys_l", "forename_keys_r")
    sw2 = ov("forename_keys_l", "surname_keys_r")
    swapped = f"((surname_l = forename1_r AND forename1_l = surname_r) OR ({sw1} AND {sw2}))"
    levels: list[Any] = [
        cll.CustomLevel(
            _null("surname") + " OR forename1_l IS NULL OR forename1_r IS NULL"
        ).configure(is_null_level=True),
        cll.CustomLevel(f"{sur_eq} AND {f_eq}", NAME_LEVELS[0]).configure(
            tf_adjustment_column="surname", tf_adjustment_weight=1.0
        ),
        cll.CustomLevel(swapped, NAME_LEVELS[1]),
        cll.CustomLevel(f"{sur_eq} AND {f_var}", NAME_LEVELS[2]),
        cll.CustomLevel(f"{s_var} AND ({f_eq} OR {f_var})", NAME_LEVELS[3]),
        cll.CustomLevel(f"{sur_eq} AND {jw_f} >= 0.88", NAME_LEVELS[4]),
        cll.CustomLevel(
            f"{jw_s} >= 0.9 AND ({f_eq} OR {f_var})",
            NAME_LEVELS[5],
        ),
        cll.CustomLevel(
            f"({jw_s} >= 0.8 OR surname_dm_l = surname_dm_r) AND "
            f"({jw_f} >= 0.8 OR forename_dm_l = forename_dm_r)",
            NAME_LEVELS[6],
        ),
        cll.CustomLevel(sur_eq, NAME_LEVELS[7]),
        cll.ElseLevel(),
    ]
    return cl.CustomComparison(levels, output_column_name="name")


def dob_comparison(b: Backend) -> Any:
    y_eq = "dob_y_l = dob_y_r"
    levels: list[Any] = [
        cll.CustomLevel(_null("dob_y")).configure(is_null_level=True),
        cll.CustomLevel("dob_l = dob_r", "exact"),
        cll.CustomLevel(f"{y_eq} AND dob_m_l = dob_d_r AND dob_d_l = dob_m_r", "day/month swapped"),
        cll.CustomLevel(
            f"{y_eq} AND (dob_m_l IS NULL OR dob_m_r IS NULL OR dob_m_l = dob_m_r) "
            f"AND (dob_d_l IS NULL OR dob_d_r IS NULL)",
            "partial date consistent",
        ),
        cll.CustomLevel(
            f"({y_eq} AND (dob_m_l = dob_m_r OR dob_d_l = dob_d_r)) OR "
            f"(dob_m_l = dob_m_r AND dob_d_l = dob_d_r AND "
            f"abs(dob_y_l - dob_y_r) <= 10)",
            "two of day, month, year equal",
        ),
        cll.CustomLevel(y_eq, "year only"),
        cll.ElseLevel(),
    ]
    return cl.CustomComparison(levels, output_column_name="dob")


def postcode_comparison(b: Backend) -> Any:
    levels: list[Any] = [
        cll.CustomLevel(_null("postcode")).configure(is_null_level=True),
        cll.CustomLevel("postcode_l = postcode_r", "exact"),
        cll.CustomLevel(b.arrays_overlap("postcodes_l", "postcodes_r"), "in address history"),
        cll.CustomLevel("pc_sector_l = pc_sector_r", "same sector"),
        cll.CustomLevel("pc_district_l = pc_district_r", "same district"),
        cll.ElseLevel(),
    ]
    return cl.CustomComparison(levels, output_column_name="postcode")


def identifiers_comparison(b: Backend) -> Any:
    both = [f"({c}_l IS NOT NULL AND {c}_r IS NOT NULL)" for c in ID_COLUMNS]
    agree = " OR ".join(f"{c}_l = {c}_r" for c in ID_COLUMNS)
    conflict = " OR ".join(f"{c}_l <> {c}_r" for c in ID_COLUMNS)
    levels: list[Any] = [
        cll.CustomLevel("NOT (" + " OR ".join(both) + ")").configure(is_null_level=True),
        cll.CustomLevel(f"({agree}) AND NOT ({conflict})", "shared identifier equal"),
        cll.CustomLevel(f"({agree}) AND ({conflict})", "some identifiers equal, some differ"),
        cll.ElseLevel(),
    ]
    return cl.CustomComparison(levels, output_column_name="identifiers")


def exact(col: str) -> Any:
    return cl.CustomComparison(
        [
            cll.CustomLevel(_null(col)).configure(is_null_level=True),
            cll.CustomLevel(f"{col}_l = {col}_r", "exact"),
            cll.ElseLevel(),
        ],
        output_column_name=col,
    )


def middle_name_comparison(b: Backend) -> Any:
    """Second forename: exact, same initial, or different (missing on many sources)."""
    levels: list[Any] = [
        cll.CustomLevel(_null("forename2")).configure(is_null_level=True),
        cll.CustomLevel("forename2_l = forename2_r", "exact"),
        cll.CustomLevel("substr(forename2_l, 1, 1) = substr(forename2_r, 1, 1)", "same initial"),
        cll.ElseLevel(),
    ]
    return cl.CustomComparison(levels, output_column_name="middle_name")


def comparisons(b: Backend) -> list[Any]:
    """All comparisons of the model, spelled for backend ``b``."""
    return [
        name_comparison(b),
        middle_name_comparison(b),
        dob_comparison(b),
        postcode_comparison(b),
        identifiers_comparison(b),
        exact("sex"),
        exact("nationality"),
    ]
