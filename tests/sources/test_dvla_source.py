"""DVLA parser: drivers, vehicles and keepers CSV files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from source_fixtures import DRIVER_F, DRIVER_M, VRM, Extracts, split

from leds.errors import ExtractError
from leds.model.codes import RecordKind
from leds.model.records import PersonFields, Rejection, SourceRecord
from leds.sources import get_source
from leds.sources.dvla.parser import COLUMNS

DRIVERS = list(COLUMNS["drivers"])
VEHICLES = list(COLUMNS["vehicles"])
KEEPERS = list(COLUMNS["keepers"])


def driver(**kw: str) -> list[str]:
    row = {
        "DRIVER_NUMBER": DRIVER_F, "SURNAME": "MORGAN", "FORENAMES": "SARAH JANE",
        "DATE_OF_BIRTH": "19850304", "ADDRESS_LINE_1": "12 HIGH STREET", "POST_TOWN": "LEEDS",
        "POSTCODE": "LS1 4AB", "LICENCE_ISSUE_DATE": "20030401", "ENTITLEMENTS": "B BE A",
        "ENDORSEMENTS": "SP30:20190101:3;IN10:20200202:6:20210202",
    }  # fmt: skip
    row.update(kw)
    return list(row.values())


def parse(path: Path) -> list[SourceRecord | Rejection]:
    return list(get_source("dvla").parse(path))


def test_valid_extract(extracts: Extracts) -> None:
    extracts.csv("dvla/drivers-00001.csv", DRIVERS, [driver(), driver(DRIVER_NUMBER=DRIVER_M)])
    extracts.csv(
        "dvla/vehicles-00001.csv",
        VEHICLES,
        [["ab12 cde", "VIN1", "FORD", "FIESTA", "RED", "20120901"]],
    )
    extracts.csv(
        "dvla/keepers-00001.csv",
        KEEPERS,
        [["K1", VRM, DRIVER_F, "SARAH MORGAN", "LS1 4AB", "20120901", ""],
         ["K2", VRM, "", "ACME LTD", "LS2 7EW", "20100101", "20120831"]],
    )  # fmt: skip
    source = get_source("dvla")
    records, rejections = split(list(source.parse(extracts.root / "dvla")))
    assert rejections == []
    assert source.notices == []
    # name order: drivers-, keepers-, vehicles-
    assert [(r.kind, r.source_record_id, r.subject_id) for r in records] == [
        (RecordKind.PERSON, DRIVER_F, DRIVER_F),
        (RecordKind.PERSON, DRIVER_M, DRIVER_M),
        (RecordKind.KEEPER, "K1", VRM),
        (RecordKind.KEEPER, "K2", VRM),
        (RecordKind.VEHICLE, VRM, VRM),
    ]
    first = records[0]
    assert first.person == PersonFields(
        surname="MORGAN",
        forenames="SARAH JANE",
        dob=date(1985, 3, 4),
        dob_text="19850304",
        sex="F",  # from the driver number
        postcode="LS1 4AB",
        address="12 HIGH STREET, LEEDS",
        driver_number=DRIVER_F,
    )
    assert records[1].person is not None
    assert records[1].person.sex == "M"
    assert first.payload["ENTITLEMENTS"] == ["B", "BE", "A"]
    assert first.payload["ENDORSEMENTS"] == [
        {"code": "SP30", "date": "2019-01-01", "points": 3, "disqualified_until": None},
        {"code": "IN10", "date": "2020-02-02", "points": 6, "disqualified_until": "2021-02-02"},
    ]
    assert first.payload["DATE_OF_BIRTH"] == "1985-03-04"
    assert first.provenance.line == 2
    assert records[3].payload["DRIVER_NUMBER"] is None
    assert records[3].payload["END_DATE"] == "2012-08-31"
    assert records[4].payload["DATE_FIRST_REG"] == "2012-09-01"


def test_missing_columns(extracts: Extracts) -> None:
    header = [c for c in DRIVERS if c not in ("SURNAME", "POSTCODE")]
    path = extracts.csv("dvla/drivers-00001.csv", header, [])
    with pytest.raises(ExtractError) as info:
        parse(path)
    assert "missing required column(s) SURNAME, POSTCODE" in str(info.value)


def test_missing_columns_in_directory_is_a_rejection(extracts: Extracts) -> None:
    extracts.csv("dvla/drivers-00001.csv", DRIVERS, [driver()])
    extracts.csv("dvla/vehicles-00001.csv", ["VRM", "MAKE"], [[VRM, "FORD"]])
    records, rejections = split(parse(extracts.root / "dvla"))
    assert len(records) == 1
    (rej,) = rejections
    assert (rej.file, rej.line, rej.field) == ("vehicles-00001.csv", 0, None)
    assert "VIN, MODEL, COLOUR, DATE_FIRST_REG" in rej.reason


def test_extra_column_kept(extracts: Extracts) -> None:
    path = extracts.csv("dvla/drivers-00001.csv", [*DRIVERS, "PHOTO_REF"], [[*driver(), "PH1"]])
    source = get_source("dvla")
    (rec,) = source.parse(path)
    assert isinstance(rec, SourceRecord)
    assert rec.payload["extra"] == {"PHOTO_REF": "PH1"}
    assert any("PHOTO_REF" in n for n in source.notices)


def test_reordered_columns(extracts: Extracts) -> None:
    path = extracts.csv(
        "dvla/vehicles-00001.csv",
        VEHICLES[::-1],
        [["20120901", "RED", "FIESTA", "FORD", "VIN1", VRM]],
    )
    (rec,) = parse(path)
    assert isinstance(rec, SourceRecord)
    assert rec.payload["VIN"] == "VIN1"


def test_wrong_field_count(extracts: Extracts) -> None:
    path = extracts.csv(
        "dvla/drivers-00001.csv", DRIVERS, [driver()[:-1], driver(), [*driver(), "x"]]
    )
    records, rejections = split(parse(path))
    assert len(records) == 1
    assert [(r.line, r.field) for r in rejections] == [(2, None), (4, None)]
    assert "row has 9 fields, the header has 10" in rejections[0].reason
    assert "row has 11 fields" in rejections[1].reason


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        (driver(DRIVER_NUMBER="MORGA813045SJ9AA"), "DRIVER_NUMBER", "month 13"),
        (driver(DRIVER_NUMBER=""), "DRIVER_NUMBER", "missing DRIVER_NUMBER"),
        (driver(DATE_OF_BIRTH="19850230"), "DATE_OF_BIRTH", "impossible date '19850230'"),
        (driver(LICENCE_ISSUE_DATE="2003-04-01"), "LICENCE_ISSUE_DATE", "not a YYYYMMDD date"),
        (driver(POSTCODE="LS1 4CB"), "POSTCODE", "inward code letters"),
        (driver(ENDORSEMENTS="SP30:2019"), "ENDORSEMENTS", "not CODE:YYYYMMDD:POINTS"),
        (driver(ENDORSEMENTS="SP30:20190231:3"), "ENDORSEMENTS", "impossible date"),
    ],
)
def test_invalid_driver_field(extracts: Extracts, row: list[str], field: str, reason: str) -> None:
    path = extracts.csv("dvla/drivers-00001.csv", DRIVERS, [row])
    (rej,) = parse(path)
    assert isinstance(rej, Rejection)
    assert rej.field == field
    assert reason in rej.reason


def test_invalid_keeper_postcode(extracts: Extracts) -> None:
    rows = [["K1", VRM, "", "X", "LS1 4CI", "20120901", ""]]
    (rej,) = parse(extracts.csv("dvla/keepers-00001.csv", KEEPERS, rows))
    assert isinstance(rej, Rejection)
    assert rej.field == "KEEPER_POSTCODE"
    assert "inward code letters" in rej.reason


def test_invalid_keeper_vrm(extracts: Extracts) -> None:
    path = extracts.csv(
        "dvla/keepers-00001.csv", KEEPERS, [["K1", "AB12 CDEQ", "", "X", "", "20120901", ""]]
    )
    (rej,) = parse(path)
    assert isinstance(rej, Rejection)
    assert rej.field == "VRM"
    assert "invalid VRM" in rej.reason


def test_invalid_utf8_line(extracts: Extracts) -> None:
    path = extracts.csv(
        "dvla/drivers-00001.csv",
        DRIVERS,
        [driver(SURNAME="MÜLLER"), driver(DRIVER_NUMBER=DRIVER_M)],
    )
    path.write_bytes(path.read_bytes().replace("MÜLLER".encode(), b"M\xdcLLER"))  # Latin-1
    records, rejections = split(parse(path))
    assert [r.source_record_id for r in records] == [DRIVER_M]
    (rej,) = rejections
    assert (rej.line, rej.field) == (2, None)
    assert "not valid UTF-8" in rej.reason


def test_truncated_mid_line(extracts: Extracts) -> None:
    path = extracts.csv(
        "dvla/drivers-00001.csv", DRIVERS, [driver(), driver(DRIVER_NUMBER=DRIVER_M)]
    )
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b"LEEDS")])
    records, rejections = split(parse(path))
    assert len(records) == 1
    (rej,) = rejections
    assert (rej.line, rej.field) == (3, None)
    assert "file cut mid-line" in rej.reason


def test_duplicate_key(extracts: Extracts) -> None:
    path = extracts.csv("dvla/drivers-00001.csv", DRIVERS, [driver(), driver(SURNAME="OTHER")])
    records, rejections = split(parse(path))
    assert len(records) == 1
    (rej,) = rejections
    assert rej.field is None
    assert f"duplicate key person {DRIVER_F} (first at drivers-00001.csv:2)" in rej.reason


def test_empty_file_and_unknown_kind(extracts: Extracts) -> None:
    empty = extracts.root / "drivers-00001.csv"
    empty.write_bytes(b"")
    with pytest.raises(ExtractError, match="is empty"):
        parse(empty)
    other = extracts.root / "owners-00001.csv"
    other.write_text("A\n", encoding="utf-8")
    with pytest.raises(ExtractError, match="drivers-, vehicles- or keepers-"):
        get_source("dvla").parse(other)


def test_bom_header(extracts: Extracts) -> None:
    path = extracts.csv("dvla/vehicles-00001.csv", VEHICLES, [[VRM, "V", "FORD", "KA", "RED", ""]])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    (rec,) = parse(path)
    assert isinstance(rec, SourceRecord)
    assert rec.payload["DATE_FIRST_REG"] is None
