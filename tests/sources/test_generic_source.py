"""Generic mapped source: CSV or Parquet plus a TOML mapping."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from source_fixtures import PNC_ID, PNC_ID_BAD, Extracts, split

from leds.errors import ExtractError
from leds.model.codes import RecordKind, SourceSystem
from leds.model.records import PersonFields, Rejection, SourceRecord
from leds.sources import get_source

MAPPING = """
[source]
name = "local-warrants"
id_column = "REF"
truth_column = "TRUE_ID"
encoding = "{encoding}"

[fields]
surname = "LAST"
forenames = "FIRST"
dob = {{ column = "BIRTH", format = "%d/%m/%Y" }}
sex = "GENDER"
postcode = "PC"
pnc_id = "PNC"
"""
HEADER = ["REF", "LAST", "FIRST", "BIRTH", "GENDER", "PC", "PNC", "TRUE_ID", "NOTE"]


def row(**kw: str) -> list[str]:
    r = {
        "REF": "W1", "LAST": "smith-jones", "FIRST": "anne", "BIRTH": "04/03/1985",
        "GENDER": "female", "PC": "ls14ab", "PNC": PNC_ID, "TRUE_ID": "P000000001",
        "NOTE": "failed to appear",
    }  # fmt: skip
    r.update(kw)
    return list(r.values())


def mapping(tmp_path: Path, text: str = MAPPING, encoding: str = "utf-8") -> Path:
    path = tmp_path / "warrants.toml"
    path.write_text(text.format(encoding=encoding), encoding="utf-8")
    return path


def parse(mapping_path: Path, path: Path) -> list[SourceRecord | Rejection]:
    return list(get_source("csv", mapping=mapping_path).parse(path))


EXPECTED = PersonFields(
    surname="SMITH-JONES",
    forenames="ANNE",
    dob=date(1985, 3, 4),
    dob_text="04/03/1985",
    sex="F",
    postcode="LS1 4AB",
    pnc_id=PNC_ID,
)


def test_valid_csv(extracts: Extracts, tmp_path: Path) -> None:
    path = extracts.csv("warrants.csv", HEADER, [row(), row(REF="W2", TRUE_ID="", PNC="")])
    records, rejections = split(parse(mapping(tmp_path), path))
    assert rejections == []
    first, second = records
    assert (first.source, first.kind) == (SourceSystem.GENERIC, RecordKind.PERSON)
    assert (first.source_record_id, first.subject_id) == ("W1", "W1")
    assert first.person == EXPECTED
    assert first.truth_person_id == "P000000001"
    assert second.truth_person_id is None
    assert first.payload["_source_name"] == "local-warrants"
    assert first.payload["NOTE"] == "failed to appear"
    assert "TRUE_ID" not in first.payload
    assert first.provenance.line == 2


def test_valid_parquet(extracts: Extracts, tmp_path: Path) -> None:
    table = pa.table({h: [v] for h, v in zip(HEADER, row(), strict=True)})
    table = table.append_column("SEEN", pa.array([date(2020, 1, 2)]))
    path = tmp_path / "warrants.parquet"
    pq.write_table(table, path)
    (rec,) = parse(mapping(tmp_path), path)
    assert isinstance(rec, SourceRecord)
    assert rec.person == EXPECTED
    assert rec.truth_person_id == "P000000001"
    assert rec.payload["SEEN"] == "2020-01-02"
    assert rec.provenance.line == 1


def test_parquet_native_date_column(tmp_path: Path) -> None:
    text = MAPPING.replace('{{ column = "BIRTH", format = "%d/%m/%Y" }}', '"BIRTH"')
    table = pa.table(
        {h: [v] for h, v in zip(HEADER, row(), strict=True) if h != "BIRTH"}
    ).append_column("BIRTH", pa.array([date(1985, 3, 4)]))
    path = tmp_path / "warrants.parquet"
    pq.write_table(table, path)
    (rec,) = parse(mapping(tmp_path, text), path)
    assert isinstance(rec, SourceRecord)
    assert rec.person is not None
    assert (rec.person.dob, rec.person.dob_text) == (date(1985, 3, 4), "1985-03-04")


def test_mapping_names_missing_columns(extracts: Extracts, tmp_path: Path) -> None:
    header = [h for h in HEADER if h not in ("PC", "BIRTH")]
    path = extracts.csv("warrants.csv", header, [])
    with pytest.raises(ExtractError) as info:
        get_source("csv", mapping=mapping(tmp_path)).parse(path)
    assert "lacks column(s) named in warrants.toml: BIRTH, PC" in str(info.value)


def test_missing_columns_refused_before_anything(extracts: Extracts, tmp_path: Path) -> None:
    extracts.csv("in/a.csv", HEADER, [row()])
    extracts.csv("in/b.csv", [h for h in HEADER if h != "PNC"], [])
    with pytest.raises(ExtractError, match=r"b\.csv lacks column"):
        get_source("csv", mapping=mapping(tmp_path)).parse(tmp_path / "in")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MAPPING.replace('pnc_id = "PNC"', 'shoe_size = "PNC"\nfavourite = "X"'),
         "unknown person field(s) shoe_size, favourite"),
        (MAPPING.replace('id_column = "REF"', ""), "[source] needs id_column"),
        (MAPPING.replace('sex = "GENDER"', 'sex = { column = "GENDER", format = "%Y" }'),
         "fields.sex is not a date"),
        (MAPPING.replace('encoding = "{encoding}"', 'encoding = "klingon"'), "unknown encoding"),
        ("[source\n", "not valid TOML"),
    ],
)  # fmt: skip
def test_bad_mapping(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "m.toml"
    path.write_text(text.replace("{encoding}", "utf-8").replace("{{", "{").replace("}}", "}"))
    with pytest.raises(ExtractError) as info:
        get_source("csv", mapping=path)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"PNC": PNC_ID_BAD}, "PNC", "check letter is X, expected W"),
        ({"BIRTH": "31/02/1985"}, "BIRTH", "day is out of range for month"),
        ({"BIRTH": "1985-03-04"}, "BIRTH", "not in format %d/%m/%Y"),
        ({"GENDER": "?"}, "GENDER", "unknown sex"),
        ({"PC": "LS1"}, "PC", "invalid postcode"),
        ({"REF": ""}, "REF", "missing record id"),
    ],
)
def test_invalid_field(
    extracts: Extracts, tmp_path: Path, change: dict[str, str], field: str, reason: str
) -> None:
    path = extracts.csv("warrants.csv", HEADER, [row(**change)])
    (rej,) = parse(mapping(tmp_path), path)
    assert isinstance(rej, Rejection)
    assert rej.field == field
    assert reason in rej.reason


def test_duplicate_key_and_wrong_field_count(extracts: Extracts, tmp_path: Path) -> None:
    path = extracts.csv("warrants.csv", HEADER, [row(), row()[:-1], row(LAST="x")])
    records, rejections = split(parse(mapping(tmp_path), path))
    assert len(records) == 1
    assert [(r.line, r.field) for r in rejections] == [(3, None), (4, None)]
    assert "row has 8 fields, the header has 9" in rejections[0].reason
    assert "duplicate key person W1 (first at warrants.csv:2)" in rejections[1].reason


def test_invalid_utf8_line(extracts: Extracts, tmp_path: Path) -> None:
    path = extracts.csv("warrants.csv", HEADER, [row(LAST="Zoë"), row(REF="W2")])
    path.write_bytes(path.read_bytes().replace("Zoë".encode(), b"Zo\xeb"))
    records, rejections = split(parse(mapping(tmp_path), path))
    assert [r.source_record_id for r in records] == ["W2"]
    (rej,) = rejections
    assert (rej.line, rej.field) == (2, None)
    assert "not valid UTF-8" in rej.reason


def test_mapping_encoding(extracts: Extracts, tmp_path: Path) -> None:
    path = extracts.csv("warrants.csv", HEADER, [row(LAST="Zoë")])
    path.write_bytes(path.read_bytes().replace("Zoë".encode(), b"Zo\xeb"))
    (rec,) = parse(mapping(tmp_path, encoding="latin-1"), path)
    assert isinstance(rec, SourceRecord)
    assert rec.person is not None
    assert rec.person.surname == "ZOË"  # accents kept


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "warrants.csv"
    path.write_bytes(b"")
    with pytest.raises(ExtractError, match="is empty"):
        parse(mapping(tmp_path), path)
