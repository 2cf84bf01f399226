"""Parser of IABS extracts (``iabs/batch-NNNNN.json`` with ``templates-NNNNN.bin``).

One JSON document per batch (schema ``iabs-export/1``). A batch that is not valid JSON
(e.g. truncated) or not of that schema cannot be read (:class:`ExtractError`: in a directory
it becomes one rejection and the other batches still import). A ``count`` that does not
match the lists adds one rejection (field ``count``, reason ``batch inconsistent: ...``);
the batch's records are still read.

Records: subject -> person (id ``person_ref``), encounter -> encounter (subject
``person_ref``; its payload lists the ``sample_ref`` of its samples), sample -> biometric
(subject the encounter's ``person_ref``; the payload adds ``encounter_id``). A sample with a
template must lie inside its template file (which is only measured, never read); otherwise
the sample is rejected. Face templates are 512 bytes (128 float32); fingerprint templates are
ISO/IEC 19794-2 finger minutiae records (``fingerprints-NNNNN.fmr``): the parser reads only
their 12-byte record header, which must carry the ``FMR`` magic and the sample's length.
A JSON document has no useful line numbers, so ``line`` is the
1-based position of the subject or encounter in its list (a sample: its encounter's).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from leds.errors import ExtractError
from leds.model.codes import RecordKind, SourceSystem
from leds.model.identifiers import normalise_passport
from leds.model.records import PersonFields, Provenance, Rejection, SourceRecord
from leds.sources.base import (
    FieldError,
    Source,
    as_str,
    check_timestamp,
    identifier,
    normalise_name,
    parse_date_dd_mm_yyyy,
    parse_date_iso,
)

SCHEMA = "iabs-export/1"
TEMPLATE_BYTES = 128 * 4  # 128 float32 values
FMR_MAGIC = b"FMR\x00"
FMR_MIN_BYTES = 24 + 4 + 2  # record header + one finger view header + extended length
FMR_MAX_BYTES = 24 + 4 + 6 * 255 + 2
SEXES = {"M": "M", "F": "F", "X": "U"}

Obj = dict[str, Any]


def split_mrz_name(text: str | None) -> tuple[str | None, str | None]:
    """``SURNAME<<GIVEN<NAMES`` -> (surname, given names), ``<`` read as a space."""
    if not text:
        return None, None
    surname, _, given = text.partition("<<")
    return normalise_name(surname.replace("<", " ")), normalise_name(given.replace("<", " "))


def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)


class IabsSource(Source):
    """IABS immigration biometrics: ``batch-NNNNN.json`` files."""

    system = SourceSystem.IABS
    patterns = ("batch-*.json",)

    def _parse_file(self, file: Path) -> Iterator[SourceRecord | Rejection]:
        name = file.name
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise self._open_error(file, exc) from exc
        if not data.strip():
            raise ExtractError(f"{name} is empty: expected an {SCHEMA} JSON document")
        try:
            doc = json.loads(data)
        except UnicodeDecodeError as exc:
            raise ExtractError(f"{name} is not valid UTF-8: {exc.reason}") from None
        except ValueError as exc:
            raise ExtractError(f"{name} is not valid JSON (truncated?): {exc}") from None
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
            got = doc.get("schema") if isinstance(doc, dict) else type(doc).__name__
            raise ExtractError(f"{name} is not an IABS batch: schema {got!r}, expected {SCHEMA}")
        subjects = doc.get("subjects")
        encounters = doc.get("encounters")
        for key, value in (("subjects", subjects), ("encounters", encounters)):
            if not isinstance(value, list):
                raise ExtractError(f"{name}: {key} must be a list")
        assert isinstance(subjects, list)
        assert isinstance(encounters, list)
        inconsistent = self._check_count(doc.get("count"), len(subjects), len(encounters))
        if inconsistent:
            yield Rejection(
                self.system, name, 0, "count", f"batch inconsistent: {inconsistent}",
                _dump(doc.get("count")),
            )  # fmt: skip
        for i, subject in enumerate(subjects, 1):
            yield self._subject(subject, name, i)
        sizes: dict[str, int | None] = {}
        for i, encounter in enumerate(encounters, 1):
            yield from self._encounter(encounter, file, i, sizes)

    @staticmethod
    def _check_count(count: Any, n_subjects: int, n_encounters: int) -> str | None:
        if not isinstance(count, dict):
            return "no count of subjects and encounters"
        problems = [
            f"count.{key} is {count.get(key)!r} but the batch lists {n}"
            for key, n in (("subjects", n_subjects), ("encounters", n_encounters))
            if count.get(key) != n or type(count.get(key)) is not int
        ]
        return "; ".join(problems) or None

    def _subject(self, obj: Any, name: str, line: int) -> SourceRecord | Rejection:
        try:
            if not isinstance(obj, dict):
                raise FieldError(None, "subject is not a JSON object")
            rid = as_str(obj, "person_ref", required=True)
            assert rid is not None
            surname, forenames = split_mrz_name(as_str(obj, "mrz_name"))
            dob = parse_date_dd_mm_yyyy(as_str(obj, "date_of_birth"), "date_of_birth", partial=True)
            sex_code = as_str(obj, "sex")
            sex = None
            if sex_code is not None:
                sex = SEXES.get(sex_code)
                if sex is None:
                    raise FieldError("sex", f"sex must be M, F or X, not {sex_code!r}")
            nationality = as_str(obj, "nationality")
            if nationality is not None and (len(nationality) != 3 or not nationality.isalpha()):
                raise FieldError("nationality", f"not an ISO 3166-1 alpha-3 code: {nationality!r}")
            passports_raw = obj.get("passports") or []
            if not isinstance(passports_raw, list) or not all(
                isinstance(p, str) for p in passports_raw
            ):
                raise FieldError("passports", "expected a list of strings")
            passports = [
                identifier(normalise_passport, p, f"passports[{k}]")
                for k, p in enumerate(passports_raw)
            ]
            ref = as_str(obj, "home_office_ref")
            person = PersonFields(
                surname=surname,
                forenames=forenames,
                dob=dob.value,
                dob_text=dob.text,
                sex=sex,
                nationality=nationality.upper() if nationality else None,
                passport=next((p for p in passports if p), None),
                immigration_ref=ref.strip().upper() if ref else None,
            )
        except FieldError as exc:
            return Rejection(self.system, name, line, exc.field, exc.reason, _dump(obj))
        payload = dict(obj)
        payload["date_of_birth"] = dob.iso
        return SourceRecord(
            self.system, RecordKind.PERSON, rid, rid, payload, Provenance(name, line), person
        )

    def _encounter(
        self, obj: Any, file: Path, line: int, sizes: dict[str, int | None]
    ) -> Iterator[SourceRecord | Rejection]:
        name = file.name
        system = self.system
        try:
            if not isinstance(obj, dict):
                raise FieldError(None, "encounter is not a JSON object")
            rid = as_str(obj, "encounter_id", required=True)
            assert rid is not None
            person_ref = as_str(obj, "person_ref")
            check_timestamp(obj.get("date"), "date")
            samples = obj.get("samples") or []
            if not isinstance(samples, list) or not all(isinstance(s, dict) for s in samples):
                raise FieldError("samples", "expected a list of objects")
        except FieldError as exc:
            yield Rejection(system, name, line, exc.field, exc.reason, _dump(obj))
            return
        payload = {k: v for k, v in obj.items() if k != "samples"}
        payload["samples"] = [s.get("sample_ref") for s in samples]
        yield SourceRecord(
            system, RecordKind.ENCOUNTER, rid, person_ref, payload, Provenance(name, line)
        )
        for sample in samples:
            try:
                sid = as_str(sample, "sample_ref", required=True)
                assert sid is not None
                captured = sample.get("captured")
                if captured is not None and not isinstance(captured, str):
                    raise FieldError("captured", "expected a date string")
                parse_date_iso(captured, "captured")
                self._check_template(sample, file, sizes)
            except FieldError as exc:
                yield Rejection(system, name, line, exc.field, exc.reason, _dump(sample))
                continue
            body = dict(sample)
            body["encounter_id"] = rid
            yield SourceRecord(
                system, RecordKind.BIOMETRIC, sid, person_ref, body, Provenance(name, line)
            )

    @staticmethod
    def _check_template(sample: Obj, batch: Path, sizes: dict[str, int | None]) -> None:
        """A sample's template (if any) must lie inside its template file."""
        tfile, offset, length = sample.get("file"), sample.get("offset"), sample.get("length")
        if tfile is None and offset is None and length is None:
            return
        if not isinstance(tfile, str) or not tfile:
            raise FieldError("file", "a sample with offset/length needs its template file")
        if "/" in tfile or "\\" in tfile or tfile in (".", ".."):
            raise FieldError("file", f"template file must be a plain file name, not {tfile!r}")
        for key, value in (("offset", offset), ("length", length)):
            if type(value) is not int or value < 0:
                raise FieldError(key, f"{key} must be a whole number >= 0, not {value!r}")
        assert isinstance(offset, int)
        assert isinstance(length, int)
        fingerprint = sample.get("modality") == "fingerprint"
        if fingerprint and not FMR_MIN_BYTES <= length <= FMR_MAX_BYTES:
            raise FieldError(
                "length",
                f"length {length} cannot be an ISO/IEC 19794-2 finger minutiae record "
                f"({FMR_MIN_BYTES}-{FMR_MAX_BYTES} bytes)",
            )
        if not fingerprint and length != TEMPLATE_BYTES:
            raise FieldError(
                "length", f"length {length} is not {TEMPLATE_BYTES} bytes (128 float32 values)"
            )
        if tfile not in sizes:
            try:
                sizes[tfile] = (batch.parent / tfile).stat().st_size
            except OSError:
                sizes[tfile] = None
        size = sizes[tfile]
        if size is None:
            raise FieldError("file", f"template file {tfile} not found next to {batch.name}")
        if offset + length > size:
            raise FieldError(
                "offset",
                f"offset {offset} + length {length} lies outside {tfile} ({size} bytes)",
            )
        if fingerprint:
            try:
                with (batch.parent / tfile).open("rb") as fh:
                    fh.seek(offset)
                    head = fh.read(12)
            except OSError as exc:
                raise FieldError("file", f"template file {tfile} cannot be read: {exc}") from None
            if head[:4] != FMR_MAGIC:
                raise FieldError(
                    "offset",
                    f"no ISO/IEC 19794-2 record (FMR) at offset {offset} of {tfile}",
                )
            declared = int.from_bytes(head[8:12], "big")
            if declared != length:
                raise FieldError(
                    "length",
                    f"the ISO/IEC 19794-2 record at offset {offset} of {tfile} is {declared} "
                    f"bytes, the sample says {length}",
                )
