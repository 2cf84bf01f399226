"""What a source parser yields and the store keeps: records with provenance, and rejections.

A parser turns one native extract into a stream of :class:`SourceRecord` (accepted) and
:class:`Rejection` (kept with file, line, field and reason; never silently dropped). The store
keeps every accepted record with its provenance and, for records of kind ``person``, the
normalised :class:`PersonFields` that linkage and search use.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from leds.model.codes import RecordKind, SourceSystem


@dataclass(frozen=True, slots=True)
class PersonFields:
    """Normalised person attributes of one source's nominal record (for linkage and search).

    Values are normalised (upper-case names without punctuation, ISO dates, canonical
    identifier forms) but not corrected: a typo in the source stays a typo here.
    ``dob`` is None when missing or partial; ``dob_text`` keeps what the source said.
    """

    surname: str | None = None
    forenames: str | None = None
    dob: date | None = None
    dob_text: str | None = None
    sex: str | None = None  # M / F / U
    postcode: str | None = None  # canonical "AB1 2CD"
    address: str | None = None
    nationality: str | None = None  # ISO 3166-1 alpha-3
    ethnicity: str | None = None  # self-defined code, see codes.ETHNICITY_CODES
    pnc_id: str | None = None  # long form YYYY/NNNNNNNC
    cro: str | None = None
    driver_number: str | None = None
    nino: str | None = None
    passport: str | None = None
    immigration_ref: str | None = None


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a record came from: the extract file and the line (1-based) it was read at."""

    file: str
    line: int


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One accepted record of a source extract.

    ``subject_id`` is the source's own id of the person (or vehicle) the record belongs to;
    for a ``person`` record it equals ``source_record_id``. ``payload`` is the record as the
    source gave it, parsed into JSON-able values (the full content, for the consolidated view).
    """

    source: SourceSystem
    kind: RecordKind
    source_record_id: str
    subject_id: str | None
    payload: dict[str, Any]
    provenance: Provenance
    person: PersonFields | None = None
    truth_person_id: str | None = None  # only set by a generic source with a truth column

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.source.value, self.kind.value, self.source_record_id)

    def canonical(self) -> tuple[str, str]:
        """The payload as canonical JSON, and a hash of the content (not the provenance).

        Re-imports compare the hash: an unchanged record is not written again.
        """
        body = json.dumps(self.payload, sort_keys=True, default=str, separators=(",", ":"))
        digest = hashlib.sha256(f"{self.subject_id}\x1f{body}".encode()).hexdigest()
        return body, digest


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row that could not be accepted: kept with the row text, the field and the reason."""

    source: SourceSystem
    file: str
    line: int
    field: str | None
    reason: str
    raw: str


@dataclass(slots=True)
class ImportSummary:
    """Counts for one import of one extract."""

    import_id: int
    source: SourceSystem
    path: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    status: str = "running"  # running | complete | failed
    message: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    audit_seq: int | None = None
