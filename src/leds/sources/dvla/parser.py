"""Parser of DVLA extracts (``dvla/drivers-*.csv``, ``vehicles-*.csv``, ``keepers-*.csv``).

RFC 4180 CSV with a header row; the kind of file is chosen by its name prefix. Columns are
found by header name. A missing required column makes the file unreadable
(:class:`ExtractError` naming every missing column); an unknown extra column is kept in the
payload under ``extra`` and noted in :attr:`Source.notices`. A row with a different number
of fields from the header is rejected.

The payload uses the column names; empty values are None, dates (``YYYYMMDD``) ISO strings,
``ENTITLEMENTS`` a list, ``ENDORSEMENTS`` a list of objects
``{"code", "date", "points", "disqualified_until"}``. Sex comes from the driver number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from leds.errors import ExtractError
from leds.model.codes import RecordKind, SourceSystem
from leds.model.identifiers import decode_driver_number, normalise_vrm
from leds.model.records import PersonFields, Provenance, Rejection, SourceRecord
from leds.sources.base import (
    CsvFile,
    FieldError,
    Source,
    cached_postcode,
    csv_text,
    identifier,
    join_nonempty,
    normalise_address,
    normalise_name,
    parse_date_yyyymmdd,
)

COLUMNS: dict[str, tuple[str, ...]] = {
    "drivers": (
        "DRIVER_NUMBER", "SURNAME", "FORENAMES", "DATE_OF_BIRTH", "ADDRESS_LINE_1",
        "POST_TOWN", "POSTCODE", "LICENCE_ISSUE_DATE", "ENTITLEMENTS", "ENDORSEMENTS",
    ),
    "vehicles": ("VRM", "VIN", "MAKE", "MODEL", "COLOUR", "DATE_FIRST_REG"),
    "keepers": (
        "KEEPER_ID", "VRM", "DRIVER_NUMBER", "KEEPER_NAME", "KEEPER_POSTCODE", "START_DATE",
        "END_DATE",
    ),
}  # fmt: skip

Payload = dict[str, Any]
Result = tuple[RecordKind, str, str | None, PersonFields | None]


def file_kind(file: Path) -> str:
    """``drivers``, ``vehicles`` or ``keepers`` from the file name prefix."""
    for kind in COLUMNS:
        if file.name.startswith(kind + "-"):
            return kind
    raise ExtractError(
        f"cannot tell what DVLA file {file.name} holds",
        hint="its name must start with drivers-, vehicles- or keepers-",
    )


def _driver_number(value: str | None, field: str) -> tuple[str, str] | None:
    """(compact driver number, sex) or None when missing."""
    if value is None:
        return None
    try:
        info = decode_driver_number(value)
    except ValueError as exc:
        raise FieldError(field, str(exc)) from None
    return "".join(value.split()).upper(), info.sex


def _endorsements(text: str | None) -> list[dict[str, Any]]:
    if text is None:
        return []
    out: list[dict[str, Any]] = []
    for entry in text.split(";"):
        entry = entry.strip()
        if not entry:
            continue
        parts = entry.split(":")
        if len(parts) not in (3, 4) or not parts[0] or not parts[2].isdigit():
            raise FieldError(
                "ENDORSEMENTS",
                f"endorsement {entry!r} is not CODE:YYYYMMDD:POINTS[:YYYYMMDD]",
            )
        until = parse_date_yyyymmdd(parts[3], "ENDORSEMENTS").iso if len(parts) == 4 else None
        out.append(
            {
                "code": parts[0],
                "date": parse_date_yyyymmdd(parts[1], "ENDORSEMENTS").iso,
                "points": int(parts[2]),
                "disqualified_until": until,
            }
        )
    return out


def _driver(p: Payload) -> Result:
    dn = _driver_number(p["DRIVER_NUMBER"], "DRIVER_NUMBER")
    if dn is None:
        raise FieldError("DRIVER_NUMBER", "missing DRIVER_NUMBER")
    number, sex = dn
    dob = parse_date_yyyymmdd(p["DATE_OF_BIRTH"], "DATE_OF_BIRTH", partial=True)
    p["DATE_OF_BIRTH"] = dob.iso
    p["LICENCE_ISSUE_DATE"] = parse_date_yyyymmdd(p["LICENCE_ISSUE_DATE"], "LICENCE_ISSUE_DATE").iso
    postcode = identifier(cached_postcode, p["POSTCODE"], "POSTCODE")
    entitlements = p["ENTITLEMENTS"]
    p["ENTITLEMENTS"] = entitlements.split() if entitlements else []
    p["ENDORSEMENTS"] = _endorsements(p["ENDORSEMENTS"])
    person = PersonFields(
        surname=normalise_name(p["SURNAME"]),
        forenames=normalise_name(p["FORENAMES"]),
        dob=dob.value,
        dob_text=dob.text,
        sex=sex,
        postcode=postcode,
        address=normalise_address(join_nonempty((p["ADDRESS_LINE_1"], p["POST_TOWN"]))),
        driver_number=number,
    )
    return RecordKind.PERSON, number, number, person


def _vrm(p: Payload) -> str:
    vrm = identifier(normalise_vrm, p["VRM"], "VRM")
    if vrm is None:
        raise FieldError("VRM", "missing VRM")
    return vrm


def _vehicle(p: Payload) -> Result:
    vrm = _vrm(p)
    p["DATE_FIRST_REG"] = parse_date_yyyymmdd(p["DATE_FIRST_REG"], "DATE_FIRST_REG").iso
    return RecordKind.VEHICLE, vrm, vrm, None


def _keeper(p: Payload) -> Result:
    keeper_id = p["KEEPER_ID"]
    if keeper_id is None:
        raise FieldError("KEEPER_ID", "missing KEEPER_ID")
    vrm = _vrm(p)
    dn = _driver_number(p["DRIVER_NUMBER"], "DRIVER_NUMBER")
    if dn is not None:
        p["DRIVER_NUMBER"] = dn[0]
    p["KEEPER_POSTCODE"] = identifier(cached_postcode, p["KEEPER_POSTCODE"], "KEEPER_POSTCODE")
    p["START_DATE"] = parse_date_yyyymmdd(p["START_DATE"], "START_DATE").iso
    p["END_DATE"] = parse_date_yyyymmdd(p["END_DATE"], "END_DATE").iso
    return RecordKind.KEEPER, keeper_id, vrm, None


HANDLERS: dict[str, Callable[[Payload], Result]] = {
    "drivers": _driver,
    "vehicles": _vehicle,
    "keepers": _keeper,
}


class DvlaSource(Source):
    """DVLA driver and vehicle register: drivers-, vehicles- and keepers- CSV files."""

    system = SourceSystem.DVLA
    patterns = ("drivers-*.csv", "vehicles-*.csv", "keepers-*.csv")

    def _check_files(self, files: list[Path]) -> None:
        if len(files) == 1:
            file_kind(files[0])  # a file given on its own must be of a known kind

    def _parse_file(self, file: Path) -> Iterator[SourceRecord | Rejection]:
        name = file.name
        system = self.system
        kind = file_kind(file)
        required = COLUMNS[kind]
        handler = HANDLERS[kind]
        csvfile = CsvFile(file, system)
        header = csvfile.header()
        missing = [c for c in required if c not in header]
        if missing:
            raise ExtractError(
                f"{name}: missing required column(s) {', '.join(missing)}",
                hint=f"a DVLA {kind} file has the columns {', '.join(required)}",
            )
        dupes = sorted({h for h in header if header.count(h) > 1})
        if dupes:
            raise ExtractError(f"{name}: column(s) named twice: {', '.join(dupes)}")
        index = [header.index(c) for c in required]
        extras = [(i, h) for i, h in enumerate(header) if h not in required]
        if extras:
            self.notices.append(
                f"{name}: unknown extra column(s) {', '.join(h for _, h in extras)} "
                "kept in the payload under 'extra'"
            )
        width = len(header)
        for item in csvfile.rows():
            if type(item) is not tuple:
                assert isinstance(item, Rejection)
                yield item
                continue
            n, row = item
            if len(row) != width:
                reason = f"row has {len(row)} fields, the header has {width}"
                if csvfile.unterminated:
                    reason += " (file cut mid-line?)"
                yield Rejection(system, name, n, None, reason, csv_text(row))
                continue
            payload: Payload = {c: (row[i] or None) for c, i in zip(required, index, strict=True)}
            if extras:
                payload["extra"] = {h: (row[i] or None) for i, h in extras}
            try:
                rkind, rid, subject, person = handler(payload)
            except FieldError as exc:
                yield Rejection(system, name, n, exc.field, exc.reason, csv_text(row))
                continue
            yield SourceRecord(system, rkind, rid, subject, payload, Provenance(name, n), person)
