"""Parser of PNC extracts (``pnc/pnc-NNNNN.txt``).

Layout (docs/extracts.md): a header ``H|PNC|1|<created>|<part>``, one typed record per line
(fields separated by ``|``, no quoting), a trailer ``T|<number of data lines>``. A file
whose first line is not the header cannot be read (:class:`ExtractError`). A file without
the trailer, or whose trailer count differs from the data lines read, is truncated: the
lines read are kept and one rejection (field None, reason ``file truncated: ...``) is added
at the last line. A last line without a line terminator in a file without a trailer is
rejected as cut mid-line.

Dates ``DDMMYYYY`` become ISO strings in the payload (a partial date of birth ``00031985``
becomes ``1985-03``); empty fields become None; ``pnc_id`` is the long form, ``vrm`` (VOI)
compact and ``postcode`` (ADR) canonical; an invalid identifier or postcode rejects the
line naming the field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from leds.errors import ExtractError
from leds.model.codes import (
    ETHNICITY_CODES,
    MARKER_TYPES,
    PROPERTY_CATEGORIES,
    PROPERTY_STATUSES,
    SEX_CODES,
    RecordKind,
    SourceSystem,
)
from leds.model.identifiers import normalise_cro, normalise_nino, normalise_vrm
from leds.model.records import PersonFields, Provenance, Rejection, SourceRecord
from leds.sources.base import (
    FieldError,
    LineReader,
    Source,
    cached_pnc_id,
    cached_postcode,
    identifier,
    normalise_name,
    parse_date_ddmmyyyy,
)

# Field names after the record type, per type (docs/extracts.md).
FIELDS: dict[str, tuple[str, ...]] = {
    "NOM": (
        "pnc_id", "cro", "surname", "forenames", "sex", "dob", "birthplace", "ethnicity",
        "height_cm", "build", "marks", "nationality", "nino",
    ),
    "ALI": ("pnc_id", "seq", "surname", "forenames", "dob"),
    "ADR": ("pnc_id", "seq", "line1", "town", "postcode", "from", "to"),
    "ARR": ("pnc_id", "arrest_id", "date", "force", "reason"),
    "CHG": ("pnc_id", "arrest_id", "charge_id", "offence_code", "offence", "date"),
    "DSP": ("pnc_id", "charge_id", "disposal_id", "court", "date", "outcome", "sentence"),
    "MKR": ("pnc_id", "marker_id", "marker_type", "start", "end", "detail"),
    "VOI": ("vrm", "report_id", "interest", "date", "detail"),
    "PRP": (
        "property_id", "pnc_id", "category", "make", "model", "serial", "status", "reported",
        "description",
    ),
}  # fmt: skip

VOI_INTERESTS = frozenset({"stolen", "suspect", "not-over-air"})
_CATEGORIES = frozenset(PROPERTY_CATEGORIES)
_STATUSES = frozenset(PROPERTY_STATUSES)
HEADER_HINT = "H|PNC|1|<created>|<part>"

Payload = dict[str, Any]
Handler = Callable[[Payload], tuple[RecordKind, str, str | None, PersonFields | None]]


def _required(p: Payload, key: str) -> str:
    value: str | None = p[key]
    if value is None:
        raise FieldError(key, f"missing {key}")
    return value


def _pnc(p: Payload, *, required: bool = True) -> str | None:
    value = identifier(cached_pnc_id, p["pnc_id"], "pnc_id")
    if value is None and required:
        raise FieldError("pnc_id", "missing pnc_id")
    p["pnc_id"] = value
    return value


def _date(p: Payload, key: str, *, partial: bool = False) -> None:
    p[key] = parse_date_ddmmyyyy(p[key], key, partial=partial).iso


def _int(p: Payload, key: str) -> None:
    value = p[key]
    if value is not None:
        try:
            p[key] = int(value)
        except ValueError:
            raise FieldError(key, f"not a whole number: {value!r}") from None


def _code(p: Payload, key: str, allowed: frozenset[str] | dict[str, str]) -> None:
    value = p[key]
    if value is not None and value not in allowed:
        raise FieldError(key, f"unknown {key} {value!r}")


def _nom(p: Payload) -> tuple[RecordKind, str, str | None, PersonFields | None]:
    pnc = _pnc(p)
    assert pnc is not None
    cro = identifier(normalise_cro, p["cro"], "cro")
    nino = identifier(normalise_nino, p["nino"], "nino")
    sex = p["sex"]
    if sex is not None and sex not in SEX_CODES:
        raise FieldError("sex", f"sex must be M, F or U, not {sex!r}")
    ethnicity = p["ethnicity"]
    if ethnicity is not None and ethnicity not in ETHNICITY_CODES:
        raise FieldError("ethnicity", f"unknown ethnicity code {ethnicity!r}")
    dob = parse_date_ddmmyyyy(p["dob"], "dob", partial=True)
    p["dob"] = dob.iso
    _int(p, "height_cm")
    nationality = p["nationality"]
    if nationality is not None:
        nationality = nationality.strip().upper()
        if len(nationality) != 3 or not nationality.isalpha():
            nationality = None  # not ISO 3166-1 alpha-3: kept in the payload only
    person = PersonFields(
        surname=normalise_name(p["surname"]),
        forenames=normalise_name(p["forenames"]),
        dob=dob.value,
        dob_text=dob.text,
        sex=sex,
        nationality=nationality,
        ethnicity=ethnicity,
        pnc_id=pnc,
        cro=cro,
        nino=nino,
    )
    return RecordKind.PERSON, pnc, pnc, person


def _ali(p: Payload) -> tuple[RecordKind, str, str | None, PersonFields | None]:
    pnc = _pnc(p)
    seq = _required(p, "seq")
    _int(p, "seq")
    _date(p, "dob", partial=True)
    return RecordKind.ALIAS, f"{pnc}/A{seq}", pnc, None


def _adr(p: Payload) -> tuple[RecordKind, str, str | None, PersonFields | None]:
    pnc = _pnc(p)
    seq = _required(p, "seq")
    _int(p, "seq")
    p["postcode"] = identifier(cached_postcode, p["postcode"], "postcode")
    _date(p, "from")
    _date(p, "to")
    return RecordKind.ADDRESS, f"{pnc}/D{seq}", pnc, None


def _arr(p: Payload) -> tuple[RecordKind, str, str | None, PersonFields | None]:
    pnc = _pnc(p)
    _date(p, "date")
    return RecordKind.ARREST, _required(p, "arrest_id"), pnc, None


def _chg(p: Payload) -> tuple[RecordKind, str, str | None, PersonFields | None]:
    pnc = _pnc(p)
    _date(p, "date")
    return RecordKind.CHARGE, _required(p, "charge_id"), pnc, None


def _dsp(p: Payload) -> tuple[RecordKind, str, str | None, PersonFields | None]:
    pnc = _pnc(p)
    _date(p, "date")
    return RecordKind.DISPOSAL, _required(p, "disposal_id"), pnc, None


def _mkr(p: Payload) -> tuple[RecordKind, str, str | None, PersonFields | None]:
    pnc = _pnc(p)
    _code(p, "marker_type", MARKER_TYPES)
    _date(p, "start")
    _date(p, "end")
    return RecordKind.MARKER, _required(p, "marker_id"), pnc, None


def _voi(p: Payload) -> tuple[RecordKind, str, str | None, PersonFields | None]:
    vrm = identifier(normalise_vrm, p["vrm"], "vrm")
    if vrm is None:
        raise FieldError("vrm", "missing vrm")
    p["vrm"] = vrm
    _code(p, "interest", VOI_INTERESTS)
    _date(p, "date")
    return RecordKind.VEHICLE, _required(p, "report_id"), vrm, None


def _prp(p: Payload) -> tuple[RecordKind, str, str | None, PersonFields | None]:
    pnc = _pnc(p, required=False)
    _code(p, "category", _CATEGORIES)
    _code(p, "status", _STATUSES)
    _date(p, "reported")
    return RecordKind.PROPERTY, _required(p, "property_id"), pnc, None


HANDLERS: dict[str, tuple[tuple[str, ...], int, Handler]] = {
    t: (FIELDS[t], len(FIELDS[t]) + 1, h)
    for t, h in (
        ("NOM", _nom),
        ("ALI", _ali),
        ("ADR", _adr),
        ("ARR", _arr),
        ("CHG", _chg),
        ("DSP", _dsp),
        ("MKR", _mkr),
        ("VOI", _voi),
        ("PRP", _prp),
    )
}


class PncSource(Source):
    """PNC criminal records: ``pnc-NNNNN.txt`` files."""

    system = SourceSystem.PNC
    patterns = ("pnc-*.txt",)

    def _parse_file(self, file: Path) -> Iterator[SourceRecord | Rejection]:
        name = file.name
        system = self.system
        reader = LineReader(file, system)
        lines = iter(reader)
        first = next(lines, None)
        if first is None:
            raise ExtractError(f"{name} is empty: expected a header line {HEADER_HINT}")
        if isinstance(first, Rejection) or not _is_header(first[1]):
            shown = first.raw[:60] if isinstance(first, Rejection) else first[1][:60]
            raise ExtractError(
                f"{name} is not a PNC extract: the first line must be {HEADER_HINT}, not {shown!r}"
            )
        last_line, last_text = first
        count = 0
        trailer: int | None = None
        trailer_text: str | None = None
        handlers = HANDLERS
        for item in lines:
            if type(item) is not tuple:
                assert isinstance(item, Rejection)
                count += 1
                last_line, last_text = item.line, item.raw
                yield item
                continue
            n, text = item
            last_line, last_text = n, text
            if trailer_text is not None:
                yield Rejection(system, name, n, None, "line after the trailer", text)
                continue
            if not text:
                continue
            parts = text.split("|")
            rtype = parts[0]
            if rtype == "T":
                trailer_text = text
                if len(parts) == 2 and parts[1].isdigit():
                    trailer = int(parts[1])
                continue
            count += 1
            spec = handlers.get(rtype)
            if spec is None:
                reason = (
                    "a second header line" if rtype == "H" else f"unknown record type {rtype!r}"
                )
                yield Rejection(system, name, n, None, reason, text)
                continue
            names, nfields, handler = spec
            if len(parts) != nfields:
                reason = f"{rtype} line has {len(parts)} fields, expected {nfields}"
                if reader.unterminated:
                    reason += " (file cut mid-line)"
                yield Rejection(system, name, n, None, reason, text)
                continue
            if reader.unterminated:
                yield Rejection(
                    system, name, n, None, "incomplete last line (file cut mid-line)", text
                )
                continue
            payload = {k: (v or None) for k, v in zip(names, parts[1:], strict=True)}
            try:
                kind, rid, subject, person = handler(payload)
            except FieldError as exc:
                yield Rejection(system, name, n, exc.field, exc.reason, text)
                continue
            yield SourceRecord(system, kind, rid, subject, payload, Provenance(name, n), person)
        if trailer_text is None:
            yield Rejection(
                system,
                name,
                last_line,
                None,
                f"file truncated: no trailer line T|<count> after {count} data lines",
                last_text,
            )
        elif trailer != count:
            said = trailer if trailer is not None else f"unreadable ({trailer_text!r})"
            yield Rejection(
                system,
                name,
                last_line,
                None,
                f"file truncated: the trailer says {said} data lines, the file has {count}",
                last_text,
            )


def _is_header(text: str) -> bool:
    parts = text.split("|")
    return len(parts) == 5 and parts[0] == "H" and parts[1] == "PNC" and parts[2] == "1"
