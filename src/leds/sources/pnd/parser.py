"""Parser of PND extracts (``pnd/pnd-NNNNN.jsonl``).

One JSON object per line with a ``"type"``: ``nominal`` (person), ``intel``, ``custody``;
the last line ``{"type": "end", "records": N}`` counts the data lines. A line that is not
valid JSON, not an object, or of an unknown type is rejected; a file without the end
record (or with a different count) is truncated: the lines read are kept and one rejection
``file truncated: ...`` is added at the last line. An empty file cannot be read.

The payload is the JSON object exactly as given (it is already JSON with ISO dates). A
custody image may name its face template (``file``/``offset``/``length`` in a
``images-NNNNN.bin`` next to the JSON Lines file): it must lie inside that file, else the
custody record is rejected (field ``image.file``/``image.offset``/``image.length``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from leds.errors import ExtractError
from leds.model.codes import (
    ETHNICITY_CODES,
    INTEL_ASSESSMENTS,
    INTEL_HANDLING,
    INTEL_SOURCE_GRADES,
    RecordKind,
    SourceSystem,
)
from leds.model.identifiers import normalise_pnc_id
from leds.model.records import PersonFields, Provenance, Rejection, SourceRecord
from leds.sources.base import (
    FieldError,
    LineReader,
    Source,
    as_str,
    cached_postcode,
    check_timestamp,
    identifier,
    normalise_address,
    normalise_name,
    parse_date_iso,
)

GENDERS = {"Male": "M", "Female": "F", "Unknown": "U"}
TEMPLATE_BYTES = 128 * 4  # a custody image's face template: 128 float32 values
_GRADING = (
    ("source", frozenset(INTEL_SOURCE_GRADES)),
    ("intelligence", frozenset(INTEL_ASSESSMENTS)),
    ("handling", frozenset(INTEL_HANDLING)),
)

Obj = dict[str, Any]
Result = tuple[RecordKind, str, str | None, PersonFields | None]


def _str_list(obj: Obj, key: str) -> list[str]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FieldError(key, f"expected a list of strings for {key}")
    return value


def _current_address(obj: Obj) -> tuple[str | None, str | None]:
    """(address text, normalised postcode) of the current address: one without ``to``
    (the latest ``from`` if several), else the one that ended last."""
    addresses = obj.get("addresses")
    if addresses is None:
        return None, None
    if not isinstance(addresses, list) or not all(isinstance(a, dict) for a in addresses):
        raise FieldError("addresses", "expected a list of objects")
    if not addresses:
        return None, None
    best_i = max(
        range(len(addresses)),
        key=lambda i: (
            addresses[i].get("to") is None,
            str(addresses[i].get("to") or ""),
            str(addresses[i].get("from") or ""),
        ),
    )
    best = addresses[best_i]
    field = f"addresses[{best_i}]"
    text = best.get("text")
    postcode = best.get("postcode")
    if text is not None and not isinstance(text, str):
        raise FieldError(f"{field}.text", "expected a string")
    if postcode is not None and not isinstance(postcode, str):
        raise FieldError(f"{field}.postcode", "expected a string")
    return normalise_address(text), identifier(cached_postcode, postcode, f"{field}.postcode")


def _nominal(obj: Obj) -> Result:
    rid = as_str(obj, "nominal_id", required=True)
    assert rid is not None
    gender = as_str(obj, "gender")
    sex = None
    if gender is not None:
        sex = GENDERS.get(gender)
        if sex is None:
            raise FieldError("gender", f"gender must be Male, Female or Unknown, not {gender!r}")
    dob = parse_date_iso(as_str(obj, "date_of_birth"), "date_of_birth", partial=True)
    pnc = identifier(normalise_pnc_id, as_str(obj, "pnc_id"), "pnc_id")
    ethnicity = as_str(obj, "self_defined_ethnicity")
    if ethnicity is not None and ethnicity not in ETHNICITY_CODES:
        raise FieldError("self_defined_ethnicity", f"unknown ethnicity code {ethnicity!r}")
    given = obj.get("given_names")
    if isinstance(given, str):
        forenames: str | None = given
    else:
        forenames = " ".join(_str_list(obj, "given_names"))
    address, postcode = _current_address(obj)
    person = PersonFields(
        surname=normalise_name(as_str(obj, "family_name")),
        forenames=normalise_name(forenames),
        dob=dob.value,
        dob_text=dob.text,
        sex=sex,
        postcode=postcode,
        address=address,
        ethnicity=ethnicity,
        pnc_id=pnc,
    )
    return RecordKind.PERSON, rid, rid, person


def _intel(obj: Obj) -> Result:
    rid = as_str(obj, "report_id", required=True)
    assert rid is not None
    check_timestamp(obj.get("created"), "created")
    subjects = _str_list(obj, "subjects")
    grading = obj.get("grading")
    if grading is not None:
        if not isinstance(grading, dict):
            raise FieldError("grading", "expected an object")
        for key, allowed in _GRADING:
            value = grading.get(key)
            if value is not None and value not in allowed:
                raise FieldError(f"grading.{key}", f"unknown grading {key} {value!r}")
    return RecordKind.INTEL, rid, subjects[0] if subjects else None, None


def _custody(obj: Obj, file: Path, sizes: dict[str, int | None]) -> Result:
    rid = as_str(obj, "custody_id", required=True)
    assert rid is not None
    subject = as_str(obj, "nominal_id")
    check_timestamp(obj.get("arrived"), "arrived")
    image = obj.get("image")
    if image is not None:
        if not isinstance(image, dict):
            raise FieldError("image", "expected an object or null")
        captured = image.get("captured")
        if captured is not None and not isinstance(captured, str):
            raise FieldError("image.captured", "expected a date string")
        parse_date_iso(captured, "image.captured")
        _check_template(image, file, sizes)
    return RecordKind.CUSTODY, rid, subject, None


def _check_template(image: Obj, jsonl: Path, sizes: dict[str, int | None]) -> None:
    """A custody image's face template (if any) must lie inside its template file, which is
    measured here, never read (the face gallery reads it at enrolment)."""
    tfile, offset, length = image.get("file"), image.get("offset"), image.get("length")
    if tfile is None and offset is None and length is None:
        return
    if not isinstance(tfile, str) or not tfile:
        raise FieldError("image.file", "an image with offset/length needs its template file")
    if "/" in tfile or "\\" in tfile or tfile in (".", ".."):
        raise FieldError("image.file", f"template file must be a plain file name, not {tfile!r}")
    for key, value in (("offset", offset), ("length", length)):
        if type(value) is not int or value < 0:
            raise FieldError(f"image.{key}", f"{key} must be a whole number >= 0, not {value!r}")
    assert isinstance(offset, int)
    assert isinstance(length, int)
    if length != TEMPLATE_BYTES:
        raise FieldError(
            "image.length", f"length {length} is not {TEMPLATE_BYTES} bytes (128 float32 values)"
        )
    if tfile not in sizes:
        try:
            sizes[tfile] = (jsonl.parent / tfile).stat().st_size
        except OSError:
            sizes[tfile] = None
    size = sizes[tfile]
    if size is None:
        raise FieldError("image.file", f"template file {tfile} not found next to {jsonl.name}")
    if offset + length > size:
        raise FieldError(
            "image.offset", f"offset {offset} + length {length} lies outside {tfile} ({size} bytes)"
        )


HANDLERS: dict[str, Callable[[Obj], Result]] = {
    "nominal": _nominal,
    "intel": _intel,
}


class PndSource(Source):
    """PND intelligence and custody: ``pnd-NNNNN.jsonl`` files."""

    system = SourceSystem.PND
    patterns = ("pnd-*.jsonl",)

    def _parse_file(self, file: Path) -> Iterator[SourceRecord | Rejection]:
        name = file.name
        system = self.system
        loads = json.loads
        handlers = HANDLERS
        count = 0
        end: Any = None
        end_seen = False
        last_line, last_text = 0, ""
        sizes: dict[str, int | None] = {}
        for item in LineReader(file, system):
            if type(item) is not tuple:
                assert isinstance(item, Rejection)
                count += 1
                last_line, last_text = item.line, item.raw
                yield item
                continue
            n, text = item
            last_line, last_text = n, text
            if end_seen:
                yield Rejection(system, name, n, None, "line after the end record", text)
                continue
            if not text or text.isspace():
                continue
            try:
                obj = loads(text)
            except ValueError as exc:
                count += 1
                msg = getattr(exc, "msg", str(exc))
                col = getattr(exc, "colno", None)
                where = f" at column {col}" if col else ""
                yield Rejection(system, name, n, None, f"not valid JSON: {msg}{where}", text)
                continue
            if not isinstance(obj, dict):
                count += 1
                yield Rejection(system, name, n, None, "not a JSON object", text)
                continue
            rtype = obj.get("type")
            if rtype == "end":
                end_seen = True
                end = obj.get("records")
                continue
            count += 1
            handler = handlers.get(rtype) if isinstance(rtype, str) else None
            if handler is None and rtype != "custody":
                reason = "missing type" if rtype is None else f"unknown record type {rtype!r}"
                yield Rejection(system, name, n, "type", reason, text)
                continue
            try:
                if handler is None:
                    kind, rid, subject, person = _custody(obj, file, sizes)
                else:
                    kind, rid, subject, person = handler(obj)
            except FieldError as exc:
                yield Rejection(system, name, n, exc.field, exc.reason, text)
                continue
            yield SourceRecord(system, kind, rid, subject, obj, Provenance(name, n), person)
        if last_line == 0:
            raise ExtractError(
                f'{name} is empty: expected JSON Lines ending with {{"type": "end", "records": N}}'
            )
        if not end_seen:
            yield Rejection(
                system,
                name,
                last_line,
                None,
                f'file truncated: no end record {{"type": "end"}} after {count} data lines',
                last_text,
            )
        elif type(end) is not int or end != count:
            yield Rejection(
                system,
                name,
                last_line,
                None,
                f"file truncated: the end record says {end!r} data lines, the file has {count}",
                last_text,
            )
