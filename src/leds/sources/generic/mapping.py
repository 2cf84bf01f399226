"""The TOML mapping of a generic source: which column holds what.

```toml
[source]
name = "local-warrants"          # the source label (payload["_source_name"])
id_column = "REF"                # the record id (unique within the file)
truth_column = "TRUE_ID"         # optional: SourceRecord.truth_person_id
encoding = "utf-8"               # optional, CSV only

[fields]                         # person field = column, or {column, format}
surname = "LAST"
dob = { column = "BIRTH", format = "%d/%m/%Y" }
```

Person fields are those of :class:`~leds.model.records.PersonFields` except ``dob_text``
(derived from ``dob``); only ``dob`` takes a ``format`` (:func:`datetime.strptime`; without
one, ISO ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``). Everything is checked when the mapping is
loaded: an unknown key or field, a missing name or id column, an unknown encoding.
"""

from __future__ import annotations

import codecs
import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leds.errors import ExtractError
from leds.model.records import PersonFields

PERSON_FIELDS: tuple[str, ...] = tuple(
    f.name for f in dataclasses.fields(PersonFields) if f.name != "dob_text"
)
_SOURCE_KEYS = frozenset({"name", "id_column", "truth_column", "encoding"})
_DATE_FIELDS = frozenset({"dob"})


@dataclass(frozen=True, slots=True)
class FieldMap:
    column: str
    format: str | None = None


@dataclass(frozen=True, slots=True)
class Mapping:
    name: str
    id_column: str
    fields: dict[str, FieldMap]
    truth_column: str | None = None
    encoding: str = "utf-8"
    path: Path | None = None

    def columns(self) -> list[str]:
        """Every column the mapping names, in mapping order, without repeats."""
        cols = [self.id_column]
        if self.truth_column:
            cols.append(self.truth_column)
        cols.extend(f.column for f in self.fields.values())
        return list(dict.fromkeys(cols))


def _text(table: dict[str, Any], key: str, where: str, *, required: bool) -> str | None:
    value = table.get(key)
    if value is None:
        if required:
            raise ExtractError(f"mapping: {where} needs {key}")
        return None
    if not isinstance(value, str) or not value:
        raise ExtractError(f"mapping: {where}.{key} must be a non-empty string")
    return value


def parse_mapping(data: dict[str, Any], path: Path | None = None) -> Mapping:
    """Check and build a :class:`Mapping` from parsed TOML."""
    unknown_tables = sorted(set(data) - {"source", "fields"})
    if unknown_tables:
        raise ExtractError(f"mapping: unknown table(s) {', '.join(unknown_tables)}")
    source = data.get("source")
    if not isinstance(source, dict):
        raise ExtractError("mapping: missing [source] table (name, id_column)")
    unknown = sorted(set(source) - _SOURCE_KEYS)
    if unknown:
        raise ExtractError(
            f"mapping: unknown key(s) in [source]: {', '.join(unknown)}",
            hint=f"valid keys: {', '.join(sorted(_SOURCE_KEYS))}",
        )
    name = _text(source, "name", "[source]", required=True)
    id_column = _text(source, "id_column", "[source]", required=True)
    truth_column = _text(source, "truth_column", "[source]", required=False)
    encoding = _text(source, "encoding", "[source]", required=False) or "utf-8"
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        raise ExtractError(f"mapping: unknown encoding {encoding!r}") from None
    if codec.name.startswith(("utf-16", "utf-32")):
        raise ExtractError(f"mapping: encoding {encoding!r} is not supported (line-based)")
    fields_table = data.get("fields")
    if not isinstance(fields_table, dict) or not fields_table:
        raise ExtractError("mapping: missing [fields] table (person field = column)")
    unknown = [k for k in fields_table if k not in PERSON_FIELDS]
    if unknown:
        raise ExtractError(
            f"mapping: unknown person field(s) {', '.join(unknown)}",
            hint=f"person fields: {', '.join(PERSON_FIELDS)}",
        )
    fields: dict[str, FieldMap] = {}
    for key, value in fields_table.items():
        if isinstance(value, str) and value:
            fields[key] = FieldMap(value)
        elif isinstance(value, dict):
            extra = sorted(set(value) - {"column", "format"})
            if extra:
                raise ExtractError(f"mapping: unknown key(s) in fields.{key}: {', '.join(extra)}")
            column = _text(value, "column", f"fields.{key}", required=True)
            fmt = _text(value, "format", f"fields.{key}", required=False)
            if fmt is not None and key not in _DATE_FIELDS:
                raise ExtractError(f"mapping: fields.{key} is not a date: it takes no format")
            assert column is not None
            fields[key] = FieldMap(column, fmt)
        else:
            raise ExtractError(
                f"mapping: fields.{key} must be a column name or {{column = ..., format = ...}}"
            )
    assert name is not None
    assert id_column is not None
    return Mapping(name, id_column, fields, truth_column, encoding, path)


def load_mapping(path: Path) -> Mapping:
    """Read and check a TOML mapping file. Raises :class:`ExtractError`."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ExtractError(f"cannot read mapping {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ExtractError(f"mapping {path.name} is not valid TOML: {exc}") from None
    return parse_mapping(data, path)
