"""IABS parser: JSON batch documents with template files."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from source_fixtures import Extracts, iabs_doc, split

from leds.errors import ExtractError
from leds.model.codes import RecordKind
from leds.model.records import PersonFields, Rejection, SourceRecord
from leds.sources import get_source


def parse(path: Path) -> list[SourceRecord | Rejection]:
    return list(get_source("iabs").parse(path))


def sample(doc: dict[str, Any], i: int = 0) -> dict[str, Any]:
    s: dict[str, Any] = doc["encounters"][0]["samples"][i]
    return s


def test_valid_batch(extracts: Extracts) -> None:
    path = extracts.iabs(iabs_doc(), templates=1)
    records, rejections = split(parse(path))
    assert rejections == []
    assert [(r.kind, r.source_record_id, r.subject_id) for r in records] == [
        (RecordKind.PERSON, "IABSP000000001", "IABSP000000001"),
        (RecordKind.ENCOUNTER, "IABSE000000001", "IABSP000000001"),
        (RecordKind.BIOMETRIC, "IABSS000000001", "IABSP000000001"),
        (RecordKind.BIOMETRIC, "IABSS000000002", "IABSP000000001"),
    ]
    subject = records[0]
    assert subject.person == PersonFields(
        surname="KHAN",
        forenames="MOHAMMED ALI",
        dob=date(1985, 3, 4),
        dob_text="04/03/1985",
        sex="M",
        nationality="PAK",
        passport="PK1234567",
        immigration_ref="K1234567",
    )
    assert subject.payload["date_of_birth"] == "1985-03-04"
    assert subject.payload["mrz_name"] == "KHAN<<MOHAMMED<ALI"
    assert records[1].payload["samples"] == ["IABSS000000001", "IABSS000000002"]
    assert records[2].payload["encounter_id"] == "IABSE000000001"
    assert records[2].payload["offset"] == 0


def test_partial_dob_and_sex_x(extracts: Extracts) -> None:
    doc = iabs_doc()
    doc["subjects"][0].update(date_of_birth="XX/03/1985", sex="X")
    records, _ = split(parse(extracts.iabs(doc, templates=1)))
    person = records[0].person
    assert person is not None
    assert (person.dob, person.dob_text, person.sex) == (None, "XX/03/1985", "U")
    assert records[0].payload["date_of_birth"] == "1985-03"


def test_bad_offset(extracts: Extracts) -> None:
    doc = iabs_doc()
    sample(doc)["offset"] = 512  # the template file holds one template (512 bytes)
    records, rejections = split(parse(extracts.iabs(doc, templates=1)))
    assert [r.source_record_id for r in records] == [
        "IABSP000000001", "IABSE000000001", "IABSS000000002",
    ]  # fmt: skip
    (rej,) = rejections
    assert rej.field == "offset"
    assert "offset 512 + length 512 lies outside templates-00001.bin (512 bytes)" in rej.reason


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"offset": -1}, "offset", "whole number >= 0"),
        ({"length": 100}, "length", "is not 512 bytes"),
        ({"file": "templates-00009.bin"}, "file", "not found"),
        ({"file": "../templates-00001.bin"}, "file", "plain file name"),
        ({"file": None}, "file", "needs its template file"),
        ({"captured": "2019-02-29"}, "captured", "impossible date"),
    ],
)
def test_bad_sample(extracts: Extracts, change: dict[str, Any], field: str, reason: str) -> None:
    doc = iabs_doc()
    sample(doc).update(change)
    _, rejections = split(parse(extracts.iabs(doc, templates=1)))
    (rej,) = rejections
    assert rej.field == field
    assert reason in rej.reason


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"date_of_birth": "31/02/1985"}, "date_of_birth", "impossible date '31/02/1985'"),
        ({"date_of_birth": "1985-03-04"}, "date_of_birth", "not a DD/MM/YYYY date"),
        ({"passports": ["PK-12"]}, "passports[0]", "invalid passport number"),
        ({"sex": "U"}, "sex", "sex must be M, F or X"),
        ({"nationality": "PK"}, "nationality", "alpha-3"),
        ({"person_ref": None}, "person_ref", "missing person_ref"),
    ],
)
def test_bad_subject(extracts: Extracts, change: dict[str, Any], field: str, reason: str) -> None:
    doc = iabs_doc()
    doc["subjects"][0].update(change)
    records, rejections = split(parse(extracts.iabs(doc, templates=1)))
    assert RecordKind.PERSON not in [r.kind for r in records]
    (rej,) = rejections
    assert (rej.line, rej.field) == (1, field)
    assert reason in rej.reason


def test_count_mismatch(extracts: Extracts) -> None:
    doc = iabs_doc(count={"subjects": 2, "encounters": 1})
    records, rejections = split(parse(extracts.iabs(doc, templates=1)))
    assert len(records) == 4  # the batch is still read
    (rej,) = rejections
    assert rej.field == "count"
    assert "batch inconsistent: count.subjects is 2 but the batch lists 1" in rej.reason


def test_truncated_batch_single_file_raises(extracts: Extracts) -> None:
    path = extracts.iabs(iabs_doc(), templates=1)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ExtractError, match="not valid JSON"):
        parse(path)


def test_truncated_batch_in_directory(extracts: Extracts) -> None:
    extracts.iabs(iabs_doc(), batch=1, templates=1)
    doc2 = copy.deepcopy(iabs_doc())
    doc2["subjects"][0]["person_ref"] = "IABSP000000002"
    bad = extracts.iabs(doc2, batch=2)
    bad.write_bytes(bad.read_bytes()[:100])
    records, rejections = split(parse(extracts.root / "iabs"))
    assert len(records) == 4
    (rej,) = rejections
    assert (rej.file, rej.line, rej.field) == ("batch-00002.json", 0, None)
    assert "not valid JSON" in rej.reason


def test_invalid_utf8_batch(extracts: Extracts) -> None:
    path = extracts.iabs(iabs_doc(), templates=1)
    path.write_bytes(path.read_bytes().replace(b"KHAN<<", b"KH\xffN<<"))
    with pytest.raises(ExtractError, match="not valid UTF-8"):
        parse(path)


def test_wrong_schema_and_empty(extracts: Extracts) -> None:
    path = extracts.iabs(iabs_doc(schema="iabs-export/2"))
    with pytest.raises(ExtractError, match="not an IABS batch"):
        parse(path)
    path.write_bytes(b"")
    with pytest.raises(ExtractError, match="is empty"):
        parse(path)


def test_duplicate_key(extracts: Extracts) -> None:
    doc = iabs_doc()
    doc["subjects"].append(dict(doc["subjects"][0]))
    doc["count"]["subjects"] = 2
    _records, rejections = split(parse(extracts.iabs(doc, templates=1)))
    (rej,) = rejections
    assert (rej.line, rej.field) == (2, None)
    assert "duplicate key person IABSP000000001 (first at batch-00001.json:1)" in rej.reason


def _with_fingerprint(extracts: Extracts, record: bytes, **over: Any) -> list[Rejection]:
    doc = iabs_doc()
    fp = sample(doc, 1)
    assert fp["modality"] == "fingerprint"
    fp.update(file="fingerprints-00001.fmr", offset=0, length=len(record))
    fp.update(over)
    path = extracts.iabs(doc, templates=1)
    (path.parent / "fingerprints-00001.fmr").write_bytes(record)
    _, rejections = split(parse(path))
    return rejections


def test_fingerprint_iso_record_accepted_and_checked(extracts: Extracts) -> None:
    from leds.synth.writers_more import fingerprint_template

    record = fingerprint_template(1, 0, "IABSS000000002", 80)
    assert _with_fingerprint(extracts, record) == []
    (rej,) = _with_fingerprint(extracts, b"JUNK" + record[4:])
    assert rej.field == "offset"
    assert "no ISO/IEC 19794-2 record" in rej.reason
    (rej,) = _with_fingerprint(extracts, record + b"\0" * 12, length=len(record) + 12)
    assert rej.field == "length"
    assert f"is {len(record)} bytes, the sample says {len(record) + 12}" in rej.reason
    (rej,) = _with_fingerprint(extracts, record, length=10)
    assert "cannot be an ISO/IEC 19794-2" in rej.reason
