"""The biometric performance and data quality screens as data (UI.md screens 9 and 10). Each
is built from a service result that is already authorised and recorded; everything here is an
aggregate (rates, counts, model parameters), never a record."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from leds.api.schemas import PurposeFields

PREFIX = "/api/v1"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


# ---- screen 9: biometric performance -------------------------------------------------------
class RateAt(BaseModel):
    threshold: float
    fnir: float | None = Field(description="FNIR at rank R with this threshold")
    fpir: float | None


class FnmrAt(BaseModel):
    fmr_target: float
    threshold: float | None = Field(description="The threshold that gives this FMR")
    fnmr: float | None
    fmr_achieved: float | None


class RatesOut(BaseModel):
    """ISO/IEC 19795-1 / NIST FRTE figures of one set of searches (all, or one group)."""

    mated: int = Field(description="Mated searches (the probe's mate is enrolled)")
    nonmated: int
    failure_to_acquire_mated: int
    failure_to_acquire_nonmated: int
    enrolment_attempts: int
    failure_to_enrol: int
    fnir_at_fpir_target: float | None = Field(
        description="FNIR at the threshold where FPIR = the target (0.003), rank <= R"
    )
    fpir_at_operating_threshold: float | None
    fnir_rank1: float | None = Field(description="FNIR at rank 1, no threshold")
    fnir_rank_r: float | None = Field(description="FNIR at rank R (the list length), no threshold")
    at_thresholds: list[RateAt] = Field(description="FNIR and FPIR at each evaluated threshold")
    genuine: int = Field(description="1:1 genuine comparisons")
    impostor: int
    fnmr_at_fmr: list[FnmrAt] = Field(description="1:1: FNMR at fixed FMR")

    @classmethod
    def values(cls, raw: dict[str, Any]) -> dict[str, Any]:
        keys = cls.model_fields.keys()
        return {k: raw[k] for k in keys if k in raw}


class GroupRatesOut(RatesOut):
    dimension: str = Field(description="sex, age_band or ethnic_group (as recorded)")
    group: str


class PlotOut(BaseModel):
    name: str
    caption: str
    path: str = Field(description="GET: the PNG (recorded like any read)")


class GalleryOut(BaseModel):
    size: int | None = Field(description="Templates in the evaluation's gallery")
    persons: int | None
    enrolment_attempts: int
    failure_to_enrol: int


class ProbesOut(BaseModel):
    mated: int
    nonmated: int
    failure_to_acquire_mated: int
    failure_to_acquire_nonmated: int
    data: str | None = Field(description="What the probes and gallery are")


class EvaluationOut(BaseModel):
    """The figures of one recorded evaluation (read from its report when it was written)."""

    evaluation_id: int
    modality: str
    algorithm: str
    created_at: str
    actor_id: str
    report_sha256: str = Field(description="SHA-256 of the report's manifest (report.json)")
    title: str
    list_length: int = Field(description="R, the candidate list length")
    fpir_target: float
    operating_threshold: float | None = Field(description="The threshold at the FPIR target")
    thresholds_evaluated: list[float]
    gallery: GalleryOut
    probes: ProbesOut
    overall: RatesOut
    groups: list[GroupRatesOut] = Field(description="By recorded demographic group")
    demographics: str
    parameters: dict[str, str | int | float]
    notes: list[str]
    plots: list[PlotOut]

    @classmethod
    def of(cls, e: Any) -> EvaluationOut:
        f = e.figures
        base = f"{PREFIX}/biometrics/evaluations/{e.evaluation_id}/plots"
        return cls(
            evaluation_id=e.evaluation_id,
            modality=e.modality,
            algorithm=e.algorithm,
            created_at=e.created_at.isoformat(),
            actor_id=e.actor_id,
            report_sha256=e.report_sha256,
            title=f.get("title", ""),
            list_length=f.get("list_length", 0),
            fpir_target=f.get("fpir_target", 0.0),
            operating_threshold=f.get("operating_threshold"),
            thresholds_evaluated=f.get("thresholds_evaluated", []),
            gallery=GalleryOut(**f["gallery"]),
            probes=ProbesOut(**f["probes"]),
            overall=RatesOut(**RatesOut.values(f["overall"])),
            groups=[
                GroupRatesOut(dimension=g["dimension"], group=g["group"], **RatesOut.values(g))
                for g in f.get("groups", [])
            ],
            demographics=f.get("demographics", ""),
            parameters=f.get("parameters", {}),
            notes=f.get("notes", []),
            plots=[
                PlotOut(name=p["name"], caption=p["caption"], path=f"{base}/{p['name']}")
                for p in f.get("plots", [])
            ],
        )


class ThresholdInForceOut(BaseModel):
    version: int = Field(description="0: the shipped default (thresholds.toml)")
    threshold: float
    algorithm: str = Field(description="'*': any algorithm (the shipped default)")
    report_sha256: str | None


class ShippedThresholdOut(BaseModel):
    """Version 0: the shipped default, in force until a version is approved."""

    threshold: float
    basis: str = Field(description="Why it is what it is (thresholds.toml; no report)")


class ThresholdVersionOut(BaseModel):
    version: int
    threshold: float
    algorithm: str
    status: str = Field(description="proposed, in-force, superseded or refused")
    proposed_by: str
    proposed_at: str
    rationale: str
    approved_by: str | None
    approved_at: str | None
    refused_by: str | None
    refused_at: str | None
    decision_note: str | None
    superseded_at: str | None
    report_path: str
    report_sha256: str
    evaluation_id: int | None = Field(
        description="The recorded evaluation whose report this version rests on, if any"
    )

    @classmethod
    def of(cls, v: Any, evaluation_id: int | None) -> ThresholdVersionOut:
        return cls(
            version=v.version,
            threshold=v.threshold,
            algorithm=v.algorithm,
            status=v.status,
            proposed_by=v.proposed_by,
            proposed_at=v.proposed_at.isoformat(),
            rationale=v.rationale,
            approved_by=v.approved_by,
            approved_at=_iso(v.approved_at),
            refused_by=v.refused_by,
            refused_at=_iso(v.refused_at),
            decision_note=v.decision_note,
            superseded_at=_iso(v.superseded_at),
            report_path=v.report_path,
            report_sha256=v.report_sha256,
            evaluation_id=evaluation_id,
        )


class OperationalGalleryOut(BaseModel):
    enrolled: int = Field(description="Live templates in the operational gallery")
    algorithms: list[str]


class ModalityPerformanceOut(BaseModel):
    modality: str
    gallery: OperationalGalleryOut
    in_force: ThresholdInForceOut
    shipped: ShippedThresholdOut
    evaluation: EvaluationOut | None = Field(description="The latest recorded evaluation")
    evaluations: int = Field(description="Evaluations recorded for this modality")
    how_to_evaluate: str | None = Field(description="Set when none is recorded")
    thresholds: list[ThresholdVersionOut] = Field(description="Every version, oldest first")

    @classmethod
    def of(cls, p: Any) -> ModalityPerformanceOut:
        f = p.in_force
        return cls(
            modality=p.modality,
            gallery=OperationalGalleryOut(enrolled=p.enrolled, algorithms=p.algorithms),
            in_force=ThresholdInForceOut(
                version=f.version,
                threshold=f.threshold,
                algorithm=f.algorithm,
                report_sha256=f.report_sha256,
            ),
            shipped=ShippedThresholdOut(threshold=p.default_threshold, basis=p.default_basis),
            evaluation=None if p.evaluation is None else EvaluationOut.of(p.evaluation),
            evaluations=p.evaluations,
            how_to_evaluate=p.how_to_evaluate if p.evaluation is None else None,
            thresholds=[
                ThresholdVersionOut.of(v, p.report_evaluations.get(v.version)) for v in p.history
            ],
        )


class BiometricPerformanceOut(BaseModel):
    """Screen 9: per modality, the latest evaluation and the threshold history."""

    modalities: list[ModalityPerformanceOut]

    @classmethod
    def of(cls, value: list[Any]) -> BiometricPerformanceOut:
        return cls(modalities=[ModalityPerformanceOut.of(p) for p in value])


class EvaluateIn(PurposeFields):
    """Run an evaluation (face or fingerprint) into a new folder under the data directory."""

    model_config = ConfigDict(extra="forbid")

    modality: Literal["face", "fingerprint"] = "face"
    gallery_persons: int | None = Field(
        default=None,
        ge=100,
        le=5_000,
        description="Synthetic persons in the gallery (default: 2,000 face, 350 fingerprint; "
        "a fingerprint evaluation runs the gallery's own search: about 0.1 s a probe at 350, "
        "growing with the gallery)",
    )


class EvaluatedOut(BaseModel):
    modality: str
    algorithm: str
    created_at: str
    report_sha256: str
    thresholds_evaluated: list[float]
    operating_threshold: float | None
    performance: str = Field(description="GET: the performance screen, now showing it")

    @classmethod
    def of(cls, m: Any) -> EvaluatedOut:
        return cls(
            modality=m.modality,
            algorithm=m.algorithm,
            created_at=m.created_at,
            report_sha256=m.sha256,
            thresholds_evaluated=list(m.thresholds),
            operating_threshold=m.operating_threshold,
            performance=f"{PREFIX}/biometrics/performance",
        )


# ---- screen 10: data quality ---------------------------------------------------------------
class ReasonOut(BaseModel):
    field: str | None
    reason: str = Field(description="The reason, quoted values and long numbers masked")
    rows: int
    import_id: int = Field(description="The latest import with such a row")
    rejections: str = Field(description="GET: that import's rejected rows (list_rejections)")


class LastImportOut(BaseModel):
    import_id: int
    status: str
    at: str | None


class SourceQualityOut(BaseModel):
    source: str
    imports: int
    last_import: LastImportOut | None
    last_complete_at: str | None
    age_seconds: float | None = Field(description="Since the last complete import")
    records: int = Field(description="Records held")
    by_kind: dict[str, int]
    rows_read: int = Field(description="Rows read, over every import")
    rejected: int = Field(description="Rejected rows kept")
    reasons: list[ReasonOut] = Field(description="The most frequent reasons")
    other_reason_rows: int = Field(description="Rejected rows with any other reason")
    newest_record_at: str | None
    newest_record_age_seconds: float | None
    persons_in_conflict: int = Field(
        description="Persons with a cross-source conflict that have a record of this source"
    )

    @classmethod
    def of(cls, s: Any, now: datetime) -> SourceQualityOut:
        last = (
            None
            if s.last_import_id is None
            else LastImportOut(
                import_id=s.last_import_id,
                status=s.last_import_status or "",
                at=_iso(s.last_import_at),
            )
        )
        return cls(
            source=s.source,
            imports=s.imports,
            last_import=last,
            last_complete_at=_iso(s.last_complete_at),
            age_seconds=s.age_seconds(now),
            records=s.records,
            by_kind=s.by_kind,
            rows_read=s.rows_read,
            rejected=s.rejected,
            reasons=[
                ReasonOut(
                    field=r.field,
                    reason=r.reason,
                    rows=r.rows,
                    import_id=r.import_id,
                    rejections=f"{PREFIX}/imports/{r.import_id}/rejections",
                )
                for r in s.reasons
            ],
            other_reason_rows=s.other_reason_rows,
            newest_record_at=_iso(s.newest_record_at),
            newest_record_age_seconds=None
            if s.newest_record_at is None
            else max(0.0, (now - s.newest_record_at).total_seconds()),
            persons_in_conflict=s.persons_in_conflict,
        )


class ConflictsOut(BaseModel):
    """Persons whose nominal records from different sources give different values."""

    linked_persons: int = Field(description="Persons with two or more nominal records")
    multi_source_persons: int = Field(description="... from two or more sources")
    by_field: dict[str, int] = Field(description="dob, sex, nationality")
    any_field: int


class RunOut(BaseModel):
    run_id: int
    kind: str = Field(description="full or incremental")
    model_version: str
    threshold: float = Field(description="Match probability at or above which records link")
    actor_id: str
    started_at: str
    finished_at: str | None
    status: str
    counts: dict[str, int]


class LevelOut(BaseModel):
    label: str
    m: float | None = Field(description="P(level | match)")
    u: float | None = Field(description="P(level | non-match)")
    weight: float | None = Field(description="log2(m / u)")


class ComparisonOut(BaseModel):
    name: str
    levels: list[LevelOut]


class ModelOut(BaseModel):
    version: str
    trained_at: str | None
    records: int | None = Field(description="Records it was trained on")
    prior: float | None = Field(description="Probability that two random records match")
    comparisons: list[ComparisonOut]


class RetentionOut(BaseModel):
    configured: bool
    reviews_due: int | None = Field(description="None: no retention rules exist to count by")
    deletions_pending_approval: int | None
    note: str


class DataQualityOut(BaseModel):
    """Screen 10: sources, rejected rows, conflicts, timeliness, linkage, retention."""

    as_of: str
    sources: list[SourceQualityOut]
    conflicts: ConflictsOut
    runs: list[RunOut] = Field(description="The latest linkage runs, newest first")
    pending_review: int = Field(description="Pairs waiting in the link review queue")
    model: ModelOut | None = Field(description="The latest run's model parameters")
    model_note: str | None
    retention: RetentionOut

    @classmethod
    def of(cls, q: Any) -> DataQualityOut:
        c = q.conflicts
        model = q.model
        return cls(
            as_of=q.as_of.isoformat(),
            sources=[SourceQualityOut.of(s, q.as_of) for s in q.sources],
            conflicts=ConflictsOut(
                linked_persons=c.linked_persons,
                multi_source_persons=c.multi_source_persons,
                by_field=c.by_field,
                any_field=c.any_field,
            ),
            runs=[
                RunOut(
                    run_id=r.id,
                    kind=r.kind,
                    model_version=r.model_version,
                    threshold=r.threshold,
                    actor_id=r.actor_id,
                    started_at=r.started_at.isoformat(),
                    finished_at=_iso(r.finished_at),
                    status=r.status,
                    counts=r.counts,
                )
                for r in q.runs
            ],
            pending_review=q.pending_review,
            model=None
            if model is None
            else ModelOut(
                version=model.version,
                trained_at=model.trained_at,
                records=model.records,
                prior=model.prior,
                comparisons=[
                    ComparisonOut(
                        name=cmp.name,
                        levels=[
                            LevelOut(label=lv.label, m=lv.m, u=lv.u, weight=lv.weight)
                            for lv in cmp.levels
                        ],
                    )
                    for cmp in model.comparisons
                ],
            ),
            model_note=q.model_note,
            retention=RetentionOut(
                configured=q.retention_configured,
                reviews_due=None,
                deletions_pending_approval=None,
                note=q.retention_note,
            ),
        )
