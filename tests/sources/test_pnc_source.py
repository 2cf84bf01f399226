"""PNC parser: typed pipe-delimited lines with header and trailer."""

from __future__ import annotations

from datetime import date

import pytest
from source_fixtures import CRO, NINO, PNC_ID, PNC_ID_2, PNC_ID_BAD, VRM, Extracts, nom, split

from leds.errors import ExtractError
from leds.model.codes import RecordKind, SourceSystem
from leds.model.records import PersonFields, Rejection, SourceRecord
from leds.sources import get_source

CHILD_LINES = [
    f"ALI|{PNC_ID}|1|BRIAN|Mary|00031985",
    f"ADR|{PNC_ID}|1|12 High Street|Leeds|LS1 4AB|01022015|",
    f"ARR|{PNC_ID}|AR000000001|02012020|WY|theft",
    f"CHG|{PNC_ID}|AR000000001|CH000000001|TH68001|Theft from shop|03012020",
    f"DSP|{PNC_ID}|CH000000001|DS000000001|Leeds Magistrates|04022020|convicted|fine 200",
    f"MKR|{PNC_ID}|MK000000001|WS-VIOLENT|05012020||assault on officer",
    "VOI|AB12 CDE|VO000000001|stolen|06012020|taken from drive",
    "PRP|PR000000001||bicycle|Raleigh|Chopper|SN123|stolen|07012020|red",
    f"PRP|PR000000002|{PNC_ID}|phone|Apple|iPhone|IMEI1|seized|08012020|",
]


def parse(path: object) -> list[SourceRecord | Rejection]:
    return list(get_source("pnc").parse(path))  # type: ignore[arg-type]


def test_valid_extract(extracts: Extracts) -> None:
    path = extracts.pnc([nom(), *CHILD_LINES])
    records, rejections = split(parse(path))
    assert rejections == []
    assert [r.kind for r in records] == [
        RecordKind.PERSON, RecordKind.ALIAS, RecordKind.ADDRESS, RecordKind.ARREST,
        RecordKind.CHARGE, RecordKind.DISPOSAL, RecordKind.MARKER, RecordKind.VEHICLE,
        RecordKind.PROPERTY, RecordKind.PROPERTY,
    ]  # fmt: skip
    person = records[0]
    assert person.source is SourceSystem.PNC
    assert person.source_record_id == PNC_ID
    assert person.subject_id == PNC_ID
    assert person.provenance.file == "pnc-00001.txt"
    assert person.provenance.line == 2
    assert person.person == PersonFields(
        surname="O'BRIEN",
        forenames="MARY ANN",
        dob=date(1985, 3, 4),
        dob_text="04031985",
        sex="F",
        nationality="GBR",
        ethnicity="W2",
        pnc_id=PNC_ID,
        cro=CRO,
        nino=NINO,
    )
    assert person.payload["dob"] == "1985-03-04"
    assert person.payload["height_cm"] == 165
    assert person.payload["birthplace"] == "Leeds"
    ids = [(r.source_record_id, r.subject_id) for r in records[1:]]
    assert ids == [
        (f"{PNC_ID}/A1", PNC_ID),
        (f"{PNC_ID}/D1", PNC_ID),
        ("AR000000001", PNC_ID),
        ("CH000000001", PNC_ID),
        ("DS000000001", PNC_ID),
        ("MK000000001", PNC_ID),
        ("VO000000001", VRM),
        ("PR000000001", None),
        ("PR000000002", PNC_ID),
    ]
    assert all(r.person is None for r in records[1:])
    alias, address = records[1].payload, records[2].payload
    assert alias["dob"] == "1985-03"  # partial date of birth
    assert address["from"] == "2015-02-01"
    assert address["postcode"] == "LS1 4AB"
    assert address["to"] is None
    assert records[7].payload["vrm"] == VRM


def test_partial_dob(extracts: Extracts) -> None:
    path = extracts.pnc([nom(dob="00001985")])
    (rec,) = parse(path)
    assert isinstance(rec, SourceRecord)
    assert rec.person is not None
    assert rec.person.dob is None
    assert rec.person.dob_text == "00001985"
    assert rec.payload["dob"] == "1985"


def test_invalid_pnc_check_letter(extracts: Extracts) -> None:
    path = extracts.pnc([nom(pnc_id=PNC_ID_BAD), nom(pnc_id=PNC_ID_2)])
    records, rejections = split(parse(path))
    assert [r.source_record_id for r in records] == [PNC_ID_2]
    (rej,) = rejections
    assert rej.field == "pnc_id"
    assert "check letter is X, expected W" in rej.reason
    assert rej.line == 2
    assert rej.raw.startswith("NOM|2001/0171310X|")


@pytest.mark.parametrize(
    ("line", "field", "reason"),
    [
        (nom(cro="012345/99A"), "cro", "check letter"),
        (nom(nino="QQ123456C"), "nino", "first letter cannot be Q"),
        (nom(dob="31021985"), "dob", "impossible date '31021985'"),
        (nom(dob="1985-03-04"), "dob", "not a DDMMYYYY date"),
        (nom(sex="Q"), "sex", "sex must be M, F or U"),
        (nom(ethnicity="Z9"), "ethnicity", "unknown ethnicity code"),
        (nom(height_cm="tall"), "height_cm", "not a whole number"),
        (f"ARR|{PNC_ID}|AR1|31042020|WY|theft", "date", "impossible date"),
        (f"ARR|{PNC_ID}|AR1|00042020|WY|theft", "date", "incomplete date"),
        (f"ARR|{PNC_ID}||01042020|WY|theft", "arrest_id", "missing arrest_id"),
        (f"MKR|{PNC_ID}|MK1|NOPE|05012020||x", "marker_type", "unknown marker_type"),
        ("VOI|AB12 CDEF|VO1|stolen|06012020|x", "vrm", "invalid VRM"),
        ("VOI|AB12CDE|VO1|borrowed|06012020|x", "interest", "unknown interest"),
        (f"ALI|{PNC_ID_BAD}|1|X|Y|", "pnc_id", "check letter"),
        (f"ADR|{PNC_ID}|1|1 Road|Leeds|LS1 4CK|01022015|", "postcode", "inward code letters"),
    ],
)
def test_invalid_field(extracts: Extracts, line: str, field: str, reason: str) -> None:
    path = extracts.pnc([line])
    items = parse(path)
    assert len(items) == 1
    (rej,) = items
    assert isinstance(rej, Rejection)
    assert rej.field == field
    assert reason in rej.reason


def test_wrong_field_count_and_unknown_type(extracts: Extracts) -> None:
    path = extracts.pnc([nom() + "|extra", f"ZZZ|{PNC_ID}", nom()])
    records, rejections = split(parse(path))
    assert len(records) == 1
    assert [(r.line, r.field) for r in rejections] == [(2, None), (3, None)]
    assert "NOM line has 15 fields, expected 14" in rejections[0].reason
    assert "unknown record type 'ZZZ'" in rejections[1].reason


def test_invalid_utf8_line(extracts: Extracts) -> None:
    path = extracts.pnc([nom(), nom(pnc_id=PNC_ID_2, surname="MARKER")])
    data = path.read_bytes().replace(b"MARKER", b"MAR\xffKER")
    path.write_bytes(data)
    records, rejections = split(parse(path))
    assert [r.source_record_id for r in records] == [PNC_ID]
    (rej,) = rejections
    assert rej.field is None
    assert rej.line == 3
    assert "not valid UTF-8" in rej.reason
    assert "MAR\ufffdKER" in rej.raw


def test_truncated_no_trailer(extracts: Extracts) -> None:
    path = extracts.pnc([nom(), nom(pnc_id=PNC_ID_2)], trailer=False)
    records, rejections = split(parse(path))
    assert len(records) == 2  # the lines read are kept
    (rej,) = rejections
    assert rej.field is None
    assert rej.line == 3
    assert rej.reason.startswith("file truncated:")
    assert "no trailer" in rej.reason


def test_truncated_count_mismatch(extracts: Extracts) -> None:
    path = extracts.pnc([nom()], trailer=5)
    records, rejections = split(parse(path))
    assert len(records) == 1
    (rej,) = rejections
    assert rej.field is None
    assert "file truncated: the trailer says 5 data lines, the file has 1" in rej.reason


def test_truncated_mid_line(extracts: Extracts) -> None:
    full = extracts.pnc([nom(), nom(pnc_id=PNC_ID_2)])
    data = full.read_bytes()
    cut = data[: data.index(b"|AB123456C\nT|")] + b"|AB12"  # cut inside the last field
    full.write_bytes(cut)
    records, rejections = split(parse(full))
    assert [r.source_record_id for r in records] == [PNC_ID]
    assert [(r.line, r.field) for r in rejections] == [(3, None), (3, None)]
    assert "file cut mid-line" in rejections[0].reason
    assert rejections[1].reason.startswith("file truncated:")


def test_duplicate_key(extracts: Extracts) -> None:
    path = extracts.pnc([nom(), nom(surname="Other")])
    records, rejections = split(parse(path))
    assert len(records) == 1
    (rej,) = rejections
    assert rej.field is None
    assert rej.line == 3
    assert f"duplicate key person {PNC_ID} (first at pnc-00001.txt:2)" in rej.reason


def test_duplicate_key_across_parts(extracts: Extracts) -> None:
    extracts.pnc([nom()], part=1)
    extracts.pnc([nom()], part=2)
    records, rejections = split(parse(extracts.root / "pnc"))
    assert len(records) == 1
    (rej,) = rejections
    assert rej.file == "pnc-00002.txt"
    assert "first at pnc-00001.txt:2" in rej.reason


def test_empty_file(extracts: Extracts) -> None:
    path = extracts.root / "pnc-00001.txt"
    path.write_bytes(b"")
    with pytest.raises(ExtractError, match="is empty"):
        parse(path)


def test_not_a_pnc_file(extracts: Extracts) -> None:
    path = extracts.root / "pnc-00001.txt"
    path.write_text(nom() + "\n", encoding="utf-8")
    with pytest.raises(ExtractError, match="not a PNC extract"):
        parse(path)


def test_directory_bad_file_becomes_rejection(extracts: Extracts) -> None:
    extracts.pnc([nom()], part=1)
    (extracts.root / "pnc" / "pnc-00002.txt").write_bytes(b"")
    extracts.pnc([nom(pnc_id=PNC_ID_2)], part=3)
    records, rejections = split(parse(extracts.root / "pnc"))
    assert [r.provenance.file for r in records] == ["pnc-00001.txt", "pnc-00003.txt"]
    (rej,) = rejections
    assert (rej.file, rej.line, rej.field) == ("pnc-00002.txt", 0, None)
    assert "is empty" in rej.reason


def test_world_directory_and_missing_paths(extracts: Extracts) -> None:
    extracts.pnc([nom()])
    assert len(parse(extracts.root)) == 1  # finds WORLD/pnc
    with pytest.raises(ExtractError, match="does not exist"):
        parse(extracts.root / "nope")
    empty = extracts.root / "empty"
    empty.mkdir()
    with pytest.raises(ExtractError, match="no pnc extract files") as info:
        parse(empty)
    assert "pnc-*.txt" in str(info.value)


def test_crlf_and_no_final_newline_after_trailer(extracts: Extracts) -> None:
    path = extracts.pnc([nom()], end="")
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    records, rejections = split(parse(path))
    assert len(records) == 1
    assert rejections == []
