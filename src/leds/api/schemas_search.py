"""What the search and view endpoints return: one model per result kind, each with an
``of(...)`` converter from the service's value (records inside are already minimised by the
service: :class:`leds.governance.minimise.MinimisedRecord`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from leds.api.schemas import THREE_WORDS, Page, PurposeFields, WithheldOut
from leds.governance.minimise import MinimisedRecord
from leds.model.codes import SourceSystem


class RecordShown(BaseModel):
    """A source record as this user may see it (withheld fields listed with the reason)."""

    record_id: int
    source: str
    kind: str
    payload: dict[str, Any]
    person: dict[str, Any]
    withheld: list[WithheldOut]

    @classmethod
    def of(cls, m: MinimisedRecord) -> RecordShown:
        shown = m.to_dict()
        return cls(
            record_id=shown["record_id"],
            source=shown["source"],
            kind=shown["kind"],
            payload=shown["payload"],
            person=shown["person"],
            withheld=[WithheldOut(**w) for w in shown["withheld"]],
        )


def _shown(values: Any) -> list[RecordShown]:
    return [RecordShown.of(r) for r in values if isinstance(r, MinimisedRecord)]


# ---- persons -----------------------------------------------------------------------------
class PersonHitOut(BaseModel):
    key: str = Field(description="Person id, or R<record id> for a record not yet linked")
    person_id: str | None
    score: float = Field(description="Sum of the per-field match weights (log2)")
    probability: float
    band: str = Field(description="high, medium or low")
    matched: dict[str, str] = Field(description="Field -> how it matched")
    best_name: str
    dob: str | None
    identifiers: dict[str, list[str]]
    sources: dict[str, int] = Field(description="Source -> nominal records")
    markers: list[str] = Field(description="Marker types, warning signals first")
    matched_record_id: int
    records: list[RecordShown]

    @classmethod
    def of(cls, h: Any) -> PersonHitOut:
        return cls(
            key=h.key,
            person_id=h.person_id,
            score=h.score,
            probability=h.probability,
            band=h.band,
            matched=dict(h.matched),
            best_name=h.best_name,
            dob=h.dob,
            identifiers={k: list(v) for k, v in h.identifiers.items()},
            sources=dict(h.sources),
            markers=list(h.markers),
            matched_record_id=h.matched_record_id,
            records=_shown(h.records),
        )


class SourceStatusOut(BaseModel):
    """What one source did for a search."""

    status: str = Field(description="answered, not asked or not permitted")
    hits: int | None = Field(
        description="Persons (or vehicles) with a record in this source (if answered)"
    )


def source_status(found: Any) -> dict[str, SourceStatusOut]:
    """Per source: answered (with its hits), not asked (the query left it out) or not
    permitted (the policy does not let this user search it for this purpose)."""
    hits = found.facets.get("source", {})
    out = {}
    for source in (s.value for s in SourceSystem):
        if source in found.searched:
            out[source] = SourceStatusOut(status="answered", hits=hits.get(source, 0))
        elif source in found.not_permitted:
            out[source] = SourceStatusOut(status="not permitted", hits=None)
        else:
            out[source] = SourceStatusOut(status="not asked", hits=None)
    return out


class ResultsTools(BaseModel):
    """What a results page (persons, vehicles) has beside its hits: the active facet filters,
    each source's status and the path of its audited export."""

    filters: dict[str, str] = Field(default_factory=dict, description="Active facet filters")
    sources: dict[str, SourceStatusOut] = Field(
        default_factory=dict, description="Per source: answered (hits), not asked, not permitted"
    )
    export: str | None = Field(
        default=None,
        description="Path of this page's CSV export (recorded as a disclosure), if allowed",
    )


class PersonsPage(Page[PersonHitOut], ResultsTools):
    """Persons, best first (warning markers first at equal score), with facets."""

    total: int = Field(description="Persons matching (all pages, after the facet filters)")
    candidates: int = Field(description="Records scored")
    facets: dict[str, dict[str, int]] = Field(
        description="Facet -> value -> persons (of the filtered result)"
    )
    sort: str = Field(default="score", description="score, name or dob")


# ---- vehicles ----------------------------------------------------------------------------
class VehicleHitOut(BaseModel):
    vrm: str
    exact: bool = Field(description="The mark matched without wildcards or folding")
    markers: list[str] = Field(description="PNC interests, most serious first")
    make: str | None
    model: str | None
    colour: str | None
    vin: str | None
    keeper_change: str | None = Field(
        default=None, description="The newest keeper's start date (ISO)"
    )
    records: list[RecordShown]

    @classmethod
    def of(cls, h: Any) -> VehicleHitOut:
        return cls(
            vrm=h.vrm,
            exact=h.exact,
            markers=list(h.markers),
            make=h.make,
            model=h.model,
            colour=h.colour,
            vin=h.vin,
            keeper_change=h.keeper_change,
            records=_shown(h.records),
        )


class VehiclesPage(Page[VehicleHitOut], ResultsTools):
    """Vehicles, marked ones first (then exact marks), with facets."""

    total: int = Field(description="Vehicles matching (all pages, after the facet filters)")
    truncated: bool = Field(description="Too many matched: narrow the search")
    facets: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="Facet -> value -> vehicles (of the filtered result)"
    )
    sort: str = Field(default="relevance", description="relevance, vrm, make or keeper_change")


# ---- identifiers, property, free text ----------------------------------------------------
class IdentifierHitOut(BaseModel):
    record: RecordShown
    person_id: str | None

    @classmethod
    def of(cls, r: MinimisedRecord, person_ids: dict[int, str]) -> IdentifierHitOut:
        return cls(record=RecordShown.of(r), person_id=person_ids.get(r.record_id))


class LookedUp(BaseModel):
    kind: str
    value: str = Field(description="The identifier as normalised")


class IdentifierPage(Page[IdentifierHitOut]):
    kinds: list[LookedUp]


class PropertyHitOut(BaseModel):
    record: RecordShown
    person: RecordShown | None = Field(description="The PNC nominal it is recorded against")
    person_id: str | None

    @classmethod
    def of(cls, h: Any) -> PropertyHitOut:
        person = h.person if isinstance(h.person, MinimisedRecord) else None
        return cls(
            record=RecordShown.of(h.record),
            person=None if person is None else RecordShown.of(person),
            person_id=h.person_id,
        )


class PropertyPage(Page[PropertyHitOut]):
    total: int
    truncated: bool


class TextHitOut(BaseModel):
    record: RecordShown
    rank: float
    snippet: str

    @classmethod
    def of(cls, h: Any) -> TextHitOut:
        return cls(record=RecordShown.of(h.record), rank=h.rank, snippet=h.snippet)


class TextPage(Page[TextHitOut]):
    total: int


# ---- consolidated views ------------------------------------------------------------------
class ConflictOut(BaseModel):
    field: str
    values: dict[str, list[int]] = Field(description="Value -> record ids giving it")


class PersonViewOut(BaseModel):
    """The consolidated person; parts from sources the user may not view are left out."""

    key: str
    person_id: str | None
    best_name: str
    aliases: list[dict[str, Any]]
    dobs: dict[str, list[int]]
    identifiers: dict[str, list[str]]
    markers: list[RecordShown] = Field(description="Warning signals first")
    addresses: list[dict[str, Any]] = Field(description="Over time, newest first")
    vehicles: list[dict[str, Any]] = Field(description="Keeper periods")
    events: list[RecordShown]
    intelligence: list[RecordShown]
    custody: dict[str, Any]
    immigration: dict[str, Any]
    conflicts: list[ConflictOut]
    nominals: list[RecordShown]
    records: list[RecordShown] = Field(description="Every contributing record")
    associates: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Related people: other keepers of this person's vehicles (DVLA)",
    )

    @classmethod
    def of(cls, v: Any) -> PersonViewOut:
        return cls(
            key=v.key,
            person_id=v.person_id,
            best_name=v.best_name,
            aliases=[dict(a) for a in v.aliases],
            dobs={k: list(ids) for k, ids in v.dobs.items()},
            identifiers={k: list(x) for k, x in v.identifiers.items()},
            markers=_shown(v.markers),
            addresses=[dict(a) for a in v.addresses],
            vehicles=[dict(x) for x in v.vehicles],
            events=_shown(v.events),
            intelligence=_shown(v.intelligence),
            custody=dict(v.custody),
            immigration=dict(v.immigration),
            conflicts=[ConflictOut(field=c.field, values=dict(c.values)) for c in v.conflicts],
            nominals=_shown(v.nominals),
            records=_shown(v.records),
            associates=[dict(a) for a in getattr(v, "associates", [])],
        )


class VehicleViewOut(BaseModel):
    vrm: str
    vehicle: RecordShown | None = Field(description="The DVLA register record")
    markers: list[RecordShown] = Field(description="PNC vehicle-of-interest, most serious first")
    keepers: list[dict[str, Any]] = Field(description="Keeper history, newest first")
    records: list[RecordShown]

    @classmethod
    def of(cls, v: Any) -> VehicleViewOut:
        vehicle = v.vehicle if isinstance(v.vehicle, MinimisedRecord) else None
        return cls(
            vrm=v.vrm,
            vehicle=None if vehicle is None else RecordShown.of(vehicle),
            markers=_shown(v.markers),
            keepers=[_keeper(k) for k in v.keepers],
            records=_shown(v.records),
        )


def _keeper(k: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in k.items():
        if isinstance(value, MinimisedRecord):
            out[key] = RecordShown.of(value).model_dump()
        else:
            out[key] = value
    return out


# ---- face search and review --------------------------------------------------------------
class CandidateListOut(BaseModel):
    """A recorded 1:N search: an investigative lead, never an identification."""

    search_id: int
    notice: str = Field(description="Investigative lead — not an identification")
    modality: str
    algorithm: str
    threshold: dict[str, Any] = Field(description="The threshold in force: version and value")
    list_length: int
    parameters: dict[str, Any] = Field(description="Probe quality and search parameters")
    status: str
    created_at: str
    candidates: list[dict[str, Any]] = Field(description="Ranked; rank, score, sample record")

    @classmethod
    def of(cls, found: Any) -> CandidateListOut:
        d = found.as_dict()
        return cls(**{k: d[k] for k in cls.model_fields})


class FaceQualityOut(BaseModel):
    """A probe photo's quality before a face search (nothing searched, the photo not kept)."""

    probe_sha256: str
    faces: int = Field(description="Faces found in the photo")
    quality: dict[str, float] = Field(
        description="face_width, face_height and eye_distance (pixels), detector_score,"
        " outside (share of the face cut off)"
    )
    passed: bool = Field(description="Good enough to search with")
    reasons: list[str] = Field(description="Why not, when it fails")

    @classmethod
    def of(cls, checked: Any) -> FaceQualityOut:
        return cls(
            probe_sha256=checked.probe_sha256,
            faces=checked.faces,
            quality=dict(checked.quality),
            passed=checked.passed,
            reasons=list(checked.reasons),
        )


class ReviewStateOut(BaseModel):
    search_id: int
    status: str = Field(description="open or closed")
    notice: str
    modality: str | None = None
    algorithm: str | None = None
    threshold: dict[str, Any] | None = Field(
        default=None, description="The threshold in force at the search: version and value"
    )
    list_length: int | None = None
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="Probe quality and search parameters (gallery size)"
    )
    undecided: list[int] = Field(description="Ranks still without a decision")
    candidates: list[dict[str, Any]] = Field(
        description="Candidates with their decisions and their template (enrolment date, "
        "quality, algorithm)"
    )
    created_at: str | None = Field(default=None, description="When the search ran (UTC)")
    closed_at: str | None = Field(default=None, description="When it was closed (UTC)")
    closed_by: str | None = None

    @classmethod
    def of(cls, state: Any) -> ReviewStateOut:
        d = state.as_dict()
        return cls(**{k: d[k] for k in cls.model_fields if k in d})


class DecisionOut(BaseModel):
    search_id: int
    rank: int
    decision_id: int
    reviewer_id: str
    decision: str
    previous: str | None

    @classmethod
    def of(cls, change: Any) -> DecisionOut:
        d = change.as_dict()
        return cls(**{k: d[k] for k in cls.model_fields})


class ClosedOut(BaseModel):
    search_id: int
    closed_by: str
    closed_at: str
    outcomes: dict[str, str] = Field(description="Rank -> outcome")
    possible_matches: list[int]
    disagreements: list[int]
    notice: str

    @classmethod
    def of(cls, closed: Any) -> ClosedOut:
        d = closed.as_dict()
        return cls(**{k: d[k] for k in cls.model_fields})


class DecideIn(PurposeFields):
    model_config = ConfigDict(extra="forbid")
    rank: int = Field(ge=1, le=50)
    decision: str = Field(pattern=r"^(possible-match|not-a-match|inconclusive)$")
    rationale: str = Field(
        min_length=15,
        max_length=2000,
        pattern=THREE_WORDS,
        description="What was compared and why (at least 3 words, 15 characters)",
    )
    second: bool = Field(default=False, description="The optional second reviewer")


class CloseIn(PurposeFields):
    model_config = ConfigDict(extra="forbid")
    require_second_review: bool = False


# ---- record linkage review ---------------------------------------------------------------
class ReviewItemOut(BaseModel):
    id: int
    record_a: int
    record_b: int
    probability: float
    weight: float = Field(description="Match weight (log2 Bayes factor)")
    uncertainty: float = Field(description="Distance from the threshold weight")
    reason: str = Field(description="near-threshold or joins-two-persons")
    queued_at: datetime
    person_a: str | None
    person_b: str | None

    @classmethod
    def of(cls, i: Any) -> ReviewItemOut:
        return cls(**{k: getattr(i, k) for k in cls.model_fields})


class WaterfallStep(BaseModel):
    step: str = Field(description="prior, a comparison, or total")
    level: str | None = Field(description="The comparison level that applied")
    weight: float
    total: float = Field(description="Running total of match weights")
    left: dict[str, Any]
    right: dict[str, Any]


class ExplanationOut(BaseModel):
    record_a: str
    record_b: str
    person_a: str | None
    person_b: str | None
    model_version: str
    match_weight: float
    match_probability: float
    waterfall: list[WaterfallStep]

    @classmethod
    def of(cls, view: Any) -> ExplanationOut:
        e = view.explanation
        steps = [
            WaterfallStep(
                step="prior", level=None, weight=e.prior, total=e.prior, left={}, right={}
            )
        ]
        total = e.prior
        for c in e.comparisons:
            total += c.match_weight
            steps.append(
                WaterfallStep(
                    step=c.comparison,
                    level=c.level,
                    weight=c.match_weight,
                    total=total,
                    left=dict(c.left),
                    right=dict(c.right),
                )
            )
        return cls(
            record_a=view.record_a,
            record_b=view.record_b,
            person_a=view.person_a,
            person_b=view.person_b,
            model_version=e.model_version,
            match_weight=e.match_weight,
            match_probability=e.match_probability,
            waterfall=steps,
        )


class LinkDecisionOut(BaseModel):
    id: int
    record_a: int
    record_b: int
    decision: str
    reason: str
    actor_id: str
    at: datetime
    undone_at: datetime | None
    persons: list[str] = Field(description="Person ids the decision changed")

    @classmethod
    def of(cls, d: Any) -> LinkDecisionOut:
        return cls(
            id=d.id,
            record_a=d.record_a,
            record_b=d.record_b,
            decision=d.decision,
            reason=d.reason,
            actor_id=d.actor_id,
            at=d.at,
            undone_at=d.undone_at,
            persons=list(d.change.persons),
        )


RECORD_REF = r"^([0-9]{1,18}|[a-z]{3,4}:[A-Za-z0-9/_.-]{1,200})$"


class LinkDecideIn(PurposeFields):
    model_config = ConfigDict(extra="forbid")
    record_a: str = Field(pattern=RECORD_REF, max_length=205, description="Id or source:id")
    record_b: str = Field(pattern=RECORD_REF, max_length=205, description="Id or source:id")
    decision: str = Field(pattern=r"^(match|not-a-match|unsure)$")
    reason: str = Field(pattern=THREE_WORDS, max_length=2000, description="At least 3 words")


class LinkUndoIn(PurposeFields):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(pattern=THREE_WORDS, max_length=2000, description="At least 3 words")
