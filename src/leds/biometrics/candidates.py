"""Candidate lists of 1:N searches: recorded, ranked, and flagged as leads, never identifications.

:func:`record_search` runs a gallery search through a callable the caller supplies (so any
gallery or index fits), resolves each hit's gallery slot to its enrolled template, the record
the sample came from and the source's person record, and records the search: modality, the
probe's SHA-256 (the probe itself never reaches this module), parameters, the algorithm, and the
threshold version and value in force. Each candidate is marked above or below that threshold.

Every function takes a SQLAlchemy ``Connection`` inside the caller's transaction and returns
the record ids it read, for the caller's audit entry.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, overload

from sqlalchemy import Connection, select
from sqlalchemy.orm import aliased

from leds.biometrics import thresholds
from leds.errors import LedsError, NotFound
from leds.store.schema import records
from leds.store.tables_biometrics import (
    biometric_candidates,
    biometric_searches,
    biometric_templates,
)

LIST_MIN = 2
LIST_MAX = 50
LIST_DEFAULT = 20
NOTICE = "investigative lead — not an identification"
# Parameter names that would smuggle the probe (or its template) into the search record.
FORBIDDEN_PARAMETERS = frozenset(
    {"probe", "image", "photo", "vector", "template", "embedding", "descriptor", "minutiae"}
)
MAX_PARAMETERS_BYTES = 4096
_SHA256 = re.compile(r"[0-9a-f]{64}")

Search = Callable[[int], Iterable[tuple[int, float]]]


class SearchError(LedsError, ValueError):
    """A 1:N search request is unusable (list length, probe hash, parameters)."""


class GalleryOutOfStep(LedsError):
    """The gallery returned a slot with no enrolled template: the index needs a rebuild."""


@dataclass(frozen=True, slots=True)
class Candidate:
    rank: int
    score: float
    above_threshold: bool
    template_id: int
    sample_ref: str
    record_id: int  # the record the sample came from (custody record, IABS biometric)
    record_source: str
    record_kind: str
    record_source_id: str
    person_record_id: int | None  # the source's person record
    person_source_id: str | None
    # the enrolled template: when, at what quality (the extractor's own scale), by what
    enrolled_at: datetime | None = None
    quality: int | None = None
    template_algorithm: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "score": self.score,
            "above_threshold": self.above_threshold,
            "template_id": self.template_id,
            "sample_ref": self.sample_ref,
            "record": {
                "id": self.record_id,
                "source": self.record_source,
                "kind": self.record_kind,
                "source_record_id": self.record_source_id,
            },
            "person_record": None
            if self.person_record_id is None
            else {"id": self.person_record_id, "source_record_id": self.person_source_id},
            "template": {
                "enrolled_at": None if self.enrolled_at is None else self.enrolled_at.isoformat(),
                "quality": self.quality,
                "algorithm": self.template_algorithm,
            },
        }


@dataclass(frozen=True, slots=True)
class CandidateList:
    """A recorded search and its ranked candidates."""

    search_id: int
    modality: str
    probe_sha256: str
    algorithm: str
    threshold_version: int
    threshold: float
    list_length: int
    parameters: dict[str, Any]
    actor_id: str
    purpose: str
    case_ref: str | None
    created_at: datetime
    status: str
    candidates: tuple[Candidate, ...]
    notice: str = NOTICE
    closed_at: datetime | None = None
    closed_by: str | None = None

    @property
    def records_read(self) -> tuple[int, ...]:
        """Record ids (sample records and person records) this list shows: the audit subjects."""
        ids = {c.record_id for c in self.candidates}
        ids |= {c.person_record_id for c in self.candidates if c.person_record_id is not None}
        return tuple(sorted(ids))

    def as_dict(self) -> dict[str, Any]:
        return {
            "search_id": self.search_id,
            "notice": self.notice,
            "modality": self.modality,
            "probe_sha256": self.probe_sha256,
            "algorithm": self.algorithm,
            "threshold": {"version": self.threshold_version, "value": self.threshold},
            "list_length": self.list_length,
            "parameters": self.parameters,
            "actor_id": self.actor_id,
            "purpose": self.purpose,
            "case_ref": self.case_ref,
            "created_at": self.created_at.isoformat(),
            "status": self.status,
            "closed_at": None if self.closed_at is None else self.closed_at.isoformat(),
            "closed_by": self.closed_by,
            "candidates": [c.as_dict() for c in self.candidates],
        }


def check_list_length(length: int | None) -> int:
    """The candidate list length R (default 20); refuse anything outside 2-50."""
    if length is None:
        return LIST_DEFAULT
    if isinstance(length, bool) or not isinstance(length, int):
        raise SearchError(f"candidate list length must be a whole number, got {length!r}")
    if not LIST_MIN <= length <= LIST_MAX:
        raise SearchError(
            f"candidate list length {length} is outside {LIST_MIN}-{LIST_MAX}",
            hint=f"ask for between {LIST_MIN} and {LIST_MAX} candidates (default {LIST_DEFAULT})",
        )
    return length


def _check_parameters(parameters: Mapping[str, Any] | None) -> dict[str, Any]:
    params = dict(parameters or {})
    bad = sorted(k for k in params if str(k).lower() in FORBIDDEN_PARAMETERS)
    if bad:
        raise SearchError(
            f"search parameters may not hold {', '.join(bad)}: the probe is never stored",
            hint="record only the probe's SHA-256 and settings such as the face chosen",
        )
    try:
        text = json.dumps(params, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise SearchError(f"search parameters must be plain JSON values: {exc}") from exc
    if len(text) > MAX_PARAMETERS_BYTES:
        raise SearchError(
            f"search parameters are {len(text)} bytes (limit {MAX_PARAMETERS_BYTES})",
            hint="record settings, not data",
        )
    return params


def _resolve(conn: Connection, modality: str, slots: list[int]) -> tuple[dict[int, Any], set[int]]:
    """Slot -> active template row (with its record and person record); slots removed."""
    person = aliased(records)
    t = biometric_templates
    rows = conn.execute(
        select(
            t.c.id,
            t.c.slot,
            t.c.sample_ref,
            t.c.removed_at,
            t.c.record_id,
            records.c.source,
            records.c.kind,
            records.c.source_record_id,
            t.c.subject_record_id,
            person.c.source_record_id.label("person_source_id"),
        )
        .join(records, records.c.id == t.c.record_id)
        .outerjoin(person, person.c.id == t.c.subject_record_id)
        .where(t.c.modality == modality, t.c.slot.in_(slots))
    ).all()
    active: dict[int, Any] = {}
    removed: set[int] = set()
    for row in rows:
        if row.removed_at is not None:
            removed.add(int(row.slot))
        elif int(row.slot) in active:
            raise GalleryOutOfStep(
                f"{modality} gallery slot {row.slot} is held by two enrolled templates",
                hint="rebuild the gallery",
            )
        else:
            active[int(row.slot)] = row
    return active, removed - set(active)


def record_search(
    conn: Connection,
    *,
    modality: str,
    probe_sha256: str,
    search: Search,
    algorithm: str,
    actor_id: str,
    purpose: str,
    case_ref: str | None = None,
    list_length: int | None = LIST_DEFAULT,
    parameters: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> CandidateList:
    """Run ``search(k) -> [(slot, score), ...]`` and record the search and its candidates.

    The threshold version in force for the modality is recorded with the search; a threshold
    approved for another algorithm is refused (a threshold is only valid for the algorithm its
    report evaluated). Hits on removed templates are skipped (and counted in the parameters);
    a slot with no template at all means the gallery is out of step and is refused.
    """
    length = check_list_length(list_length)
    digest = (probe_sha256 or "").strip().lower()
    if not _SHA256.fullmatch(digest):
        raise SearchError(
            "probe_sha256 must be the 64-hex-digit SHA-256 of the probe",
            hint="hash the probe bytes with hashlib.sha256; never pass the probe itself",
        )
    params = _check_parameters(parameters)
    if not algorithm.strip():
        raise SearchError("the algorithm (name and version) of the search is required")
    current = thresholds.in_force(conn, modality)
    if not current.applies_to(algorithm):
        raise thresholds.ThresholdError(
            f"the {current.modality} threshold in force (version {current.version}) was "
            f"evaluated for algorithm {current.algorithm!r}, not {algorithm!r}",
            hint=f"propose and approve a threshold from a report on {algorithm!r}",
        )
    kept: list[tuple[Any, float]] = []
    skipped = 0
    k = length
    for _attempt in range(4):
        hits = [(int(slot), float(score)) for slot, score in search(k)]
        bad = [s for _, s in hits if not math.isfinite(s)]
        if bad:
            raise GalleryOutOfStep(f"the {modality} gallery returned a non-finite score")
        active, removed = _resolve(conn, current.modality, sorted({s for s, _ in hits}))
        unknown = sorted({s for s, _ in hits} - set(active) - removed)
        if unknown:
            raise GalleryOutOfStep(
                f"{current.modality} gallery slots {unknown[:10]} have no enrolled template",
                hint="rebuild the gallery from the biometric_templates table",
            )
        kept = [(active[s], score) for s, score in hits if s in active]
        skipped = len(hits) - len(kept)
        if len(kept) >= length or len(hits) < k:
            break
        k += length + skipped
    kept.sort(key=lambda item: (-item[1], int(item[0].id)))
    kept = kept[:length]
    params = {**params, "list_length": length}
    if skipped:
        params["removed_templates_skipped"] = skipped
    when = now or datetime.now(UTC)
    search_id = conn.execute(
        biometric_searches.insert()
        .values(
            modality=current.modality,
            probe_sha256=digest,
            parameters=json.dumps(params, sort_keys=True),
            algorithm=algorithm,
            threshold_version=current.version,
            threshold=current.threshold,
            actor_id=actor_id,
            purpose=purpose,
            case_ref=case_ref,
            created_at=when,
            status="open",
        )
        .returning(biometric_searches.c.id)
    ).scalar_one()
    rows = [
        {
            "search_id": search_id,
            "rank": rank,
            "template_id": int(row.id),
            "score": score,
            "above_threshold": int(score >= current.threshold),
        }
        for rank, (row, score) in enumerate(kept, start=1)
    ]
    if rows:
        conn.execute(biometric_candidates.insert(), rows)
    return load_candidates(conn, int(search_id))


def load_candidates(conn: Connection, search_id: int) -> CandidateList:
    """A recorded search and its candidates, as recorded."""
    s = conn.execute(select(biometric_searches).where(biometric_searches.c.id == search_id)).first()
    if s is None:
        raise NotFound(f"no biometric search {search_id}")
    person = aliased(records)
    c = biometric_candidates
    t = biometric_templates
    rows = conn.execute(
        select(
            c.c.rank,
            c.c.score,
            c.c.above_threshold,
            t.c.id,
            t.c.sample_ref,
            t.c.record_id,
            records.c.source,
            records.c.kind,
            records.c.source_record_id,
            t.c.subject_record_id,
            person.c.source_record_id.label("person_source_id"),
            t.c.enrolled_at,
            t.c.quality,
            t.c.algorithm,
        )
        .join(t, t.c.id == c.c.template_id)
        .join(records, records.c.id == t.c.record_id)
        .outerjoin(person, person.c.id == t.c.subject_record_id)
        .where(c.c.search_id == search_id)
        .order_by(c.c.rank)
    ).all()
    cands = tuple(
        Candidate(
            rank=int(r.rank),
            score=float(r.score),
            above_threshold=bool(r.above_threshold),
            template_id=int(r.id),
            sample_ref=r.sample_ref,
            record_id=int(r.record_id),
            record_source=r.source,
            record_kind=r.kind,
            record_source_id=r.source_record_id,
            person_record_id=None if r.subject_record_id is None else int(r.subject_record_id),
            person_source_id=r.person_source_id,
            enrolled_at=_utc(r.enrolled_at),
            quality=None if r.quality is None else int(r.quality),
            template_algorithm=r.algorithm,
        )
        for r in rows
    )
    params = json.loads(s.parameters)
    return CandidateList(
        search_id=int(s.id),
        modality=s.modality,
        probe_sha256=s.probe_sha256,
        algorithm=s.algorithm,
        threshold_version=int(s.threshold_version),
        threshold=float(s.threshold),
        list_length=int(params.get("list_length", len(cands))),
        parameters=params,
        actor_id=s.actor_id,
        purpose=s.purpose,
        case_ref=s.case_ref,
        created_at=_utc(s.created_at),
        status=s.status,
        candidates=cands,
        closed_at=_utc(s.closed_at),
        closed_by=s.closed_by,
    )


@overload
def _utc(value: datetime) -> datetime: ...
@overload
def _utc(value: None) -> None: ...
def _utc(value: datetime | None) -> datetime | None:
    """A stored time as an aware UTC time (SQLite hands back naive ones)."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
