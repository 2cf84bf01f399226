"""Parser of a generic mapped source: a CSV or Parquet file plus a TOML mapping.

Every row is one ``person`` record whose id is the mapping's ``id_column``. The mapping is
checked against every file before anything is read: a column it names that a file lacks
is an :class:`ExtractError` naming every missing column. CSV is read line by line in the
mapping's encoding (an undecodable line is rejected); Parquet in record batches.

The payload is the whole row (column -> value; empty -> None; Parquet dates as ISO
strings) without the truth column, plus ``_source_name`` (the mapping's source label).
The truth column becomes :attr:`SourceRecord.truth_person_id`. Rejections name the
*column* (the name the file's owner knows).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from leds.errors import ExtractError
from leds.model.codes import RecordKind, SourceSystem
from leds.model.identifiers import (
    normalise_cro,
    normalise_driver_number,
    normalise_nino,
    normalise_passport,
    normalise_pnc_id,
    normalise_postcode,
)
from leds.model.records import PersonFields, Provenance, Rejection, SourceRecord
from leds.sources.base import (
    CsvFile,
    FieldError,
    Source,
    csv_text,
    identifier,
    normalise_address,
    normalise_name,
    parse_date_iso,
)
from leds.sources.generic.mapping import Mapping, load_mapping

PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
BATCH_ROWS = 8192
SEX_VALUES = {
    "M": "M", "MALE": "M", "MAN": "M",
    "F": "F", "FEMALE": "F", "WOMAN": "F",
    "U": "U", "UNKNOWN": "U", "X": "U", "N": "U", "NK": "U", "NOT KNOWN": "U",
}  # fmt: skip

_IDENTIFIERS: dict[str, Callable[[str], str]] = {
    "pnc_id": normalise_pnc_id,
    "cro": normalise_cro,
    "driver_number": normalise_driver_number,
    "nino": normalise_nino,
    "passport": normalise_passport,
    "postcode": normalise_postcode,
}


def _text(value: Any) -> str | None:
    """A cell as text: None/empty -> None, dates ISO, numbers as written."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)


def jsonable(value: Any) -> Any:
    """A Parquet cell as a JSON-able value."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return str(value)


@lru_cache(maxsize=1 << 16)
def _strptime(text: str, fmt: str) -> date:
    return datetime.strptime(text, fmt).date()


def _is_parquet(file: Path) -> bool:
    return file.suffix.lower() in PARQUET_SUFFIXES


class GenericSource(Source):
    """A CSV or Parquet file described by a TOML mapping."""

    system = SourceSystem.GENERIC
    patterns = ("*.csv", "*.parquet")

    def __init__(self, mapping: Path | Mapping) -> None:
        super().__init__()
        self.mapping = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
        self._convert = self._converters()

    # -- columns -------------------------------------------------------------------------------

    def columns(self, file: Path) -> list[str]:
        """The column names of a file (CSV header or Parquet schema)."""
        if _is_parquet(file):
            pq = _parquet()
            try:
                return list(pq.read_schema(file).names)
            except Exception as exc:  # pyarrow raises several types for a bad file
                raise ExtractError(f"{file.name} is not a readable Parquet file: {exc}") from None
        return CsvFile(file, self.system, encoding=self.mapping.encoding).header()

    def _missing(self, file: Path, columns: list[str]) -> None:
        present = set(columns)
        missing = [c for c in self.mapping.columns() if c not in present]
        if missing:
            where = self.mapping.path.name if self.mapping.path else "the mapping"
            raise ExtractError(
                f"{file.name} lacks column(s) named in {where}: {', '.join(missing)}",
                hint=f"the file has: {', '.join(columns)}",
            )

    def _check_files(self, files: list[Path]) -> None:
        for file in files:
            try:
                columns = self.columns(file)
            except ExtractError:
                continue  # reported by _parse_file (a rejection, or raised for one file)
            self._missing(file, columns)

    # -- rows ----------------------------------------------------------------------------------

    def _converters(self) -> list[tuple[str, str, str | None]]:
        return [(f, m.column, m.format) for f, m in self.mapping.fields.items()]

    def _person(self, row: dict[str, Any]) -> PersonFields:
        values: dict[str, Any] = {}
        for field, column, fmt in self._convert:
            raw = row.get(column)
            if field == "dob":
                if isinstance(raw, datetime):
                    raw = raw.date()
                if isinstance(raw, date):
                    values["dob"], values["dob_text"] = raw, raw.isoformat()
                    continue
                text = _text(raw)
                if text is None:
                    continue
                if fmt is None:
                    values["dob"] = parse_date_iso(text, column, partial=True).value
                else:
                    try:
                        values["dob"] = _strptime(text, fmt)
                    except ValueError as exc:
                        raise FieldError(
                            column, f"date {text!r} is impossible or not in format {fmt}: {exc}"
                        ) from None
                values["dob_text"] = text
                continue
            text = _text(raw)
            if text is None:
                continue
            if field in ("surname", "forenames"):
                values[field] = normalise_name(text)
            elif field == "address":
                values[field] = normalise_address(text)
            elif field == "sex":
                sex = SEX_VALUES.get(text.upper())
                if sex is None:
                    raise FieldError(column, f"unknown sex {text!r} (expected M, F or U)")
                values[field] = sex
            elif field in _IDENTIFIERS:
                values[field] = identifier(_IDENTIFIERS[field], text, column)
            else:  # nationality, ethnicity, immigration_ref
                values[field] = text.upper()
        return PersonFields(**values)

    def _record(
        self, row: dict[str, Any], payload: dict[str, Any], file: str, line: int
    ) -> SourceRecord:
        m = self.mapping
        rid = _text(row.get(m.id_column))
        if rid is None:
            raise FieldError(m.id_column, f"missing record id ({m.id_column})")
        truth = _text(row.get(m.truth_column)) if m.truth_column else None
        person = self._person(row)
        return SourceRecord(
            self.system,
            RecordKind.PERSON,
            rid,
            rid,
            payload,
            Provenance(file, line),
            person,
            truth,
        )

    def _parse_file(self, file: Path) -> Iterator[SourceRecord | Rejection]:
        if _is_parquet(file):
            yield from self._parse_parquet(file)
        else:
            yield from self._parse_csv(file)

    def _parse_csv(self, file: Path) -> Iterator[SourceRecord | Rejection]:
        name = file.name
        system = self.system
        csvfile = CsvFile(file, system, encoding=self.mapping.encoding)
        header = csvfile.header()
        self._missing(file, header)
        width = len(header)
        truth = self.mapping.truth_column
        label = self.mapping.name
        for item in csvfile.rows():
            if type(item) is not tuple:
                assert isinstance(item, Rejection)
                yield item
                continue
            n, cells = item
            if len(cells) != width:
                reason = f"row has {len(cells)} fields, the header has {width}"
                if csvfile.unterminated:
                    reason += " (file cut mid-line?)"
                yield Rejection(system, name, n, None, reason, csv_text(cells))
                continue
            row = dict(zip(header, cells, strict=True))
            payload: dict[str, Any] = {k: (v or None) for k, v in row.items() if k != truth}
            payload["_source_name"] = label
            try:
                yield self._record(row, payload, name, n)
            except FieldError as exc:
                yield Rejection(system, name, n, exc.field, exc.reason, csv_text(cells))

    def _parse_parquet(self, file: Path) -> Iterator[SourceRecord | Rejection]:
        pq = _parquet()
        name = file.name
        system = self.system
        try:
            pfile = pq.ParquetFile(file)
            columns = list(pfile.schema_arrow.names)
        except Exception as exc:  # pyarrow raises several types for a bad file
            raise ExtractError(f"{name} is not a readable Parquet file: {exc}") from None
        self._missing(file, columns)
        truth = self.mapping.truth_column
        label = self.mapping.name
        n = 0
        try:
            for batch in pfile.iter_batches(batch_size=BATCH_ROWS):
                for row in batch.to_pylist():
                    n += 1
                    payload = {k: jsonable(v) for k, v in row.items() if k != truth}
                    payload["_source_name"] = label
                    try:
                        yield self._record(row, payload, name, n)
                    except FieldError as exc:
                        raw = _json_row(payload)
                        yield Rejection(system, name, n, exc.field, exc.reason, raw)
        except (OSError, ValueError) as exc:  # a damaged file: keep what was read
            yield Rejection(
                system, name, n, None, f"Parquet file unreadable after row {n}: {exc}", ""
            )


def _json_row(payload: dict[str, Any]) -> str:
    import json

    return json.dumps(payload, ensure_ascii=False, default=str)


def _parquet() -> Any:
    import pyarrow.parquet as pq

    return pq
