"""PND parser: JSON Lines with an end record."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from source_fixtures import PNC_DISPLAY_2, PNC_ID_2, Extracts, split

from leds.errors import ExtractError
from leds.model.codes import RecordKind
from leds.model.records import PersonFields, Rejection, SourceRecord
from leds.sources import get_source


def nominal(**kw: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "nominal",
        "nominal_id": "PNDN000000123",
        "family_name": "Kahn",
        "given_names": ["Muhammad", "Ali"],
        "date_of_birth": "1985-03-04",
        "gender": "Male",
        "pnc_id": PNC_DISPLAY_2,
        "self_defined_ethnicity": "A2",
        "phone": "07700 900123",
        "addresses": [
            {"text": "1 Old Road, York", "postcode": "YO1 7HH", "from": "2010-01-01",
             "to": "2015-01-31"},
            {"text": "12 High  Street, Leeds", "postcode": "ls14ab", "from": "2015-02-01",
             "to": None},
        ],
    }  # fmt: skip
    obj.update(kw)
    return obj


INTEL = {
    "type": "intel",
    "report_id": "PNDI000000045",
    "created": "2021-06-01T14:03:00Z",
    "subjects": ["PNDN000000123", "PNDN000000124"],
    "text": "seen with",
    "grading": {"source": "2", "intelligence": "B", "handling": "P"},
    "vehicles": ["AB12CDE"],
    "places": ["Leeds"],
}
CUSTODY = {
    "type": "custody",
    "custody_id": "PNDC000000077",
    "nominal_id": "PNDN000000123",
    "arrived": "2020-01-02T03:04:05Z",
    "station": "Leeds Elland Road",
    "offence": "Theft",
    "image": {"ref": "CI000000077", "captured": "2020-01-02", "quality": 71},
}


def parse(path: Path) -> list[SourceRecord | Rejection]:
    return list(get_source("pnd").parse(path))


def test_valid_extract(extracts: Extracts) -> None:
    path = extracts.pnd([nominal(), INTEL, CUSTODY, {**CUSTODY, "custody_id": "C2", "image": None}])
    records, rejections = split(parse(path))
    assert rejections == []
    person, intel, custody, custody2 = records
    assert person.kind is RecordKind.PERSON
    assert (person.source_record_id, person.subject_id) == ("PNDN000000123", "PNDN000000123")
    assert person.person == PersonFields(
        surname="KAHN",
        forenames="MUHAMMAD ALI",
        dob=date(1985, 3, 4),
        dob_text="1985-03-04",
        sex="M",
        postcode="LS1 4AB",
        address="12 HIGH STREET, LEEDS",
        ethnicity="A2",
        pnc_id=PNC_ID_2,  # display form -> long form
    )
    assert person.payload == nominal()  # as the source gave it
    assert (intel.kind, intel.source_record_id, intel.subject_id) == (
        RecordKind.INTEL, "PNDI000000045", "PNDN000000123",
    )  # fmt: skip
    assert (custody.kind, custody.source_record_id, custody.subject_id) == (
        RecordKind.CUSTODY, "PNDC000000077", "PNDN000000123",
    )  # fmt: skip
    assert custody2.payload["image"] is None
    assert [r.provenance.line for r in records] == [1, 2, 3, 4]


def test_partial_dob(extracts: Extracts) -> None:
    path = extracts.pnd(
        [nominal(date_of_birth="1985-03"), nominal(nominal_id="N2", date_of_birth="1985")]
    )
    records, rejections = split(parse(path))
    assert rejections == []
    assert [(r.person.dob, r.person.dob_text) for r in records if r.person] == [
        (None, "1985-03"),
        (None, "1985"),
    ]


@pytest.mark.parametrize(
    ("obj", "field", "reason"),
    [
        (nominal(pnc_id="85/0012345X"), "pnc_id", "check letter is X, expected L"),
        (nominal(date_of_birth="1985-02-30"), "date_of_birth", "impossible date '1985-02-30'"),
        (nominal(date_of_birth="04/03/1985"), "date_of_birth", "not a YYYY-MM-DD date"),
        (nominal(gender="M"), "gender", "gender must be Male, Female or Unknown"),
        (nominal(nominal_id=None), "nominal_id", "missing nominal_id"),
        (nominal(family_name=7), "family_name", "expected a string"),
        (
            nominal(addresses=[{"text": "x", "postcode": "QQ1 1AA", "from": "2015-01-01"}]),
            "addresses[0].postcode",
            "cannot start a postcode",
        ),
        ({**INTEL, "created": "yesterday"}, "created", "not an ISO 8601 timestamp"),
        ({**CUSTODY, "arrived": "2020-02-30T12:00:00Z"}, "arrived", "day is out of range"),
        ({**INTEL, "grading": {"source": "9"}}, "grading.source", "unknown grading source"),
        ({**CUSTODY, "image": {"captured": "2020-13-01"}}, "image.captured", "impossible date"),
        ({"type": "warrant", "id": "W1"}, "type", "unknown record type 'warrant'"),
    ],
)
def test_invalid_field(extracts: Extracts, obj: dict[str, Any], field: str, reason: str) -> None:
    items = parse(extracts.pnd([obj]))
    assert len(items) == 1
    (rej,) = items
    assert isinstance(rej, Rejection)
    assert rej.field == field
    assert reason in rej.reason


def test_bad_json_line(extracts: Extracts) -> None:
    path = extracts.pnd([nominal(), '{"type": "intel", "report_id": ', "[1, 2]", CUSTODY])
    records, rejections = split(parse(path))
    assert len(records) == 2
    assert [(r.line, r.field) for r in rejections] == [(2, None), (3, None)]
    assert "not valid JSON" in rejections[0].reason
    assert "not a JSON object" in rejections[1].reason


def test_invalid_utf8_line(extracts: Extracts) -> None:
    path = extracts.pnd([nominal(), INTEL])
    path.write_bytes(path.read_bytes().replace(b"seen with", b"seen \xc3\x28with"))
    records, rejections = split(parse(path))
    assert [r.kind for r in records] == [RecordKind.PERSON]
    (rej,) = rejections
    assert (rej.line, rej.field) == (2, None)
    assert "not valid UTF-8" in rej.reason


def test_truncated_no_end(extracts: Extracts) -> None:
    path = extracts.pnd([nominal(), INTEL], end=False)
    records, rejections = split(parse(path))
    assert len(records) == 2
    (rej,) = rejections
    assert (rej.line, rej.field) == (2, None)
    assert rej.reason.startswith("file truncated:")


def test_truncated_mid_line(extracts: Extracts) -> None:
    path = extracts.pnd([nominal(), INTEL, CUSTODY])
    data = path.read_bytes()
    path.write_bytes(data[: data.index(b'"station"')])
    records, rejections = split(parse(path))
    assert len(records) == 2
    assert [(r.line, r.field) for r in rejections] == [(3, None), (3, None)]
    assert "not valid JSON" in rejections[0].reason
    assert rejections[1].reason.startswith("file truncated:")


def test_end_count_mismatch(extracts: Extracts) -> None:
    path = extracts.pnd([nominal(), INTEL, '{"type": "end", "records": 7}'], end=False)
    records, rejections = split(parse(path))
    assert len(records) == 2
    (rej,) = rejections
    assert "file truncated: the end record says 7 data lines, the file has 2" in rej.reason


def test_duplicate_key(extracts: Extracts) -> None:
    path = extracts.pnd([nominal(), INTEL, nominal(family_name="Other")])
    records, rejections = split(parse(path))
    assert len(records) == 2
    (rej,) = rejections
    assert (rej.line, rej.field) == (3, None)
    assert "duplicate key person PNDN000000123 (first at pnd-00001.jsonl:1)" in rej.reason


def test_empty_file(extracts: Extracts) -> None:
    path = extracts.root / "pnd-00001.jsonl"
    path.write_bytes(b"")
    with pytest.raises(ExtractError, match="is empty"):
        parse(path)


def _image(**kw: Any) -> dict[str, Any]:
    image = {"ref": "CI000000077", "captured": "2020-01-02", "quality": 71,
             "file": "images-00001.bin", "offset": 512, "length": 512}  # fmt: skip
    image.update(kw)
    return {**CUSTODY, "image": image}


def test_custody_image_template_inside_its_file(extracts: Extracts) -> None:
    path = extracts.pnd([_image()])
    (path.parent / "images-00001.bin").write_bytes(bytes(1024))
    records, rejections = split(parse(path))
    assert rejections == []
    assert records[0].payload["image"]["offset"] == 512


@pytest.mark.parametrize(
    ("image", "size", "field", "reason"),
    [
        ({}, None, "image.file", "template file images-00001.bin not found next to pnd-00001"),
        ({"offset": 1024}, 1024, "image.offset", "offset 1024 + length 512 lies outside"),
        ({"length": 100}, 1024, "image.length", "length 100 is not 512 bytes"),
        ({"offset": -1}, 1024, "image.offset", "offset must be a whole number >= 0"),
        ({"file": "../x.bin"}, 1024, "image.file", "must be a plain file name"),
        ({"file": None}, 1024, "image.file", "needs its template file"),
    ],
)
def test_custody_image_template_errors(
    extracts: Extracts, image: dict[str, Any], size: int | None, field: str, reason: str
) -> None:
    path = extracts.pnd([_image(**image)])
    if size is not None:
        (path.parent / "images-00001.bin").write_bytes(bytes(size))
    (rej,) = parse(path)
    assert isinstance(rej, Rejection)
    assert rej.field == field
    assert reason in rej.reason
