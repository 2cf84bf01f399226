"""The source registry and the shared helpers of leds.sources.base."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from leds.errors import ExtractError
from leds.sources import SOURCE_NAMES, DvlaSource, IabsSource, PncSource, PndSource, get_source
from leds.sources.base import (
    FieldError,
    normalise_name,
    parse_date_dd_mm_yyyy,
    parse_date_ddmmyyyy,
    parse_date_iso,
    parse_date_yyyymmdd,
)


def test_registry() -> None:
    assert SOURCE_NAMES == ("pnc", "pnd", "dvla", "iabs", "csv")
    assert isinstance(get_source("pnc"), PncSource)
    assert isinstance(get_source("PND"), PndSource)
    assert isinstance(get_source("dvla"), DvlaSource)
    assert isinstance(get_source("iabs"), IabsSource)


def test_unknown_source() -> None:
    with pytest.raises(ExtractError) as info:
        get_source("hmrc")
    assert "unknown source 'hmrc'" in str(info.value)
    assert "pnc, pnd, dvla, iabs, csv" in str(info.value)


def test_csv_needs_mapping(tmp_path: Path) -> None:
    with pytest.raises(ExtractError, match="needs a mapping"):
        get_source("csv")
    with pytest.raises(ExtractError, match="only applies to the csv source"):
        get_source("pnc", mapping=tmp_path / "m.toml")
    with pytest.raises(ExtractError, match="cannot read mapping"):
        get_source("csv", mapping=tmp_path / "missing.toml")


def test_dates() -> None:
    assert parse_date_ddmmyyyy("04031985", "f", partial=True) == (
        date(1985, 3, 4), "04031985", "1985-03-04",
    )  # fmt: skip
    assert parse_date_ddmmyyyy("00031985", "f", partial=True) == (None, "00031985", "1985-03")
    assert parse_date_ddmmyyyy("00001985", "f", partial=True) == (None, "00001985", "1985")
    assert parse_date_ddmmyyyy("", "f") == (None, None, None)
    assert parse_date_yyyymmdd("19850304", "f").value == date(1985, 3, 4)
    assert parse_date_iso("1985-03", "f", partial=True).iso == "1985-03"
    assert parse_date_dd_mm_yyyy("XX/XX/1985", "f", partial=True).iso == "1985"
    assert parse_date_dd_mm_yyyy("xx/03/1985", "f", partial=True).iso == "1985-03"


@pytest.mark.parametrize(
    ("fn", "text", "reason"),
    [
        (parse_date_ddmmyyyy, "31021985", "impossible date '31021985'"),
        (parse_date_ddmmyyyy, "00031985", "incomplete date"),
        (parse_date_ddmmyyyy, "0403198", "not a DDMMYYYY date"),
        (parse_date_yyyymmdd, "19851304", "impossible date"),
        (parse_date_iso, "1985-02-29", "day is out of range for month"),
        (parse_date_iso, "1985-03", "not a YYYY-MM-DD date"),
        (parse_date_dd_mm_yyyy, "31/04/1985", "impossible date"),
        (parse_date_dd_mm_yyyy, "4/3/1985", "not a DD/MM/YYYY date"),
    ],
)
def test_bad_dates(fn: object, text: str, reason: str) -> None:
    with pytest.raises(FieldError) as info:
        fn(text, "dob")  # type: ignore[operator]
    assert info.value.field == "dob"
    assert reason in info.value.reason


def test_bad_partial_month() -> None:
    with pytest.raises(FieldError, match="month 13 does not exist"):
        parse_date_ddmmyyyy("00131985", "dob", partial=True)


def test_normalise_name() -> None:
    assert normalise_name("  o'brien-smith,  jr. ") == "O'BRIEN-SMITH JR"
    assert normalise_name("José  María") == "JOSÉ MARÍA"
    assert normalise_name("O\u2019Neil") == "O'NEIL"
    assert normalise_name("...") is None
    assert normalise_name(None) is None
