"""The person page's panels as data (UI.md screen 4): linkage evidence, intelligence and
disposals, biometric templates. Each is built from a service result that is already
authorised, minimised and recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, Field

from leds.api.schemas_search import RecordShown


class LinkedPairOut(BaseModel):
    record_a: int
    record_b: int
    label_a: str = Field(description="source:source record id")
    label_b: str
    probability: float
    match_weight: float = Field(description="log2(p / (1 - p)) when linked, bounded to +-60")
    kind: str = Field(description="held (holds the person together) or within")
    explain: str = Field(description="Path of the pair's waterfall (GET, link_explain)")

    @classmethod
    def of(cls, x: Any) -> LinkedPairOut:
        query = urlencode({"a": x.record_a, "b": x.record_b})
        return cls(
            record_a=x.record_a,
            record_b=x.record_b,
            label_a=x.label_a,
            label_b=x.label_b,
            probability=x.probability,
            match_weight=round(x.match_weight, 3),
            kind=x.kind,
            explain=f"/api/v1/links/explain?{query}",
        )


class PersonLinksOut(BaseModel):
    """The stored links that join the person's records, strongest first (bounded)."""

    person_id: str | None
    records: int = Field(description="The person's person (nominal) records")
    pairs: list[LinkedPairOut]
    more: int = Field(description="Further links not shown")

    @classmethod
    def of(cls, v: Any) -> PersonLinksOut:
        return cls(
            person_id=v.person_id,
            records=v.records,
            pairs=[LinkedPairOut.of(x) for x in v.pairs],
            more=v.more,
        )


class PersonIntelligenceOut(BaseModel):
    """PND intelligence (grading and handling code need the sensitive-data step) and PNC
    disposals: convictions apart from non-conviction information."""

    key: str
    intelligence: list[RecordShown]
    convictions: list[RecordShown]
    non_conviction: list[RecordShown] = Field(
        description="Acquittals, dismissals, cautions and other non-conviction outcomes"
    )
    undetermined: list[RecordShown] = Field(
        description="Disposals whose outcome this user may not see"
    )
    not_permitted: list[str] = Field(description="Sources (pnc, pnd) this user may not view")
    sensitive_step: bool

    @classmethod
    def of(cls, v: Any) -> PersonIntelligenceOut:
        def shown(xs: Any) -> list[RecordShown]:
            return [RecordShown.of(m) for m in xs]

        return cls(
            key=v.key,
            intelligence=shown(v.intelligence),
            convictions=shown(v.convictions),
            non_conviction=shown(v.non_conviction),
            undetermined=shown(v.undetermined),
            not_permitted=list(v.not_permitted),
            sensitive_step=v.sensitive_step,
        )


class TemplateOut(BaseModel):
    template_id: int
    modality: str = Field(description="face or fingerprint")
    source: str
    record_id: int | None
    sample_ref: str
    quality: int | None
    algorithm: str
    enrolled_at: datetime
    removed: bool


class PersonBiometricsOut(BaseModel):
    """Enrolled templates (never an image); a search starts from an uploaded probe."""

    key: str
    templates: list[TemplateOut]
    not_permitted: list[str]
    probe_available: bool = Field(description="Whether a probe image exists to search with")

    @classmethod
    def of(cls, v: Any) -> PersonBiometricsOut:
        return cls(
            key=v.key,
            templates=[
                TemplateOut(
                    template_id=t.template_id,
                    modality=t.modality,
                    source=t.source,
                    record_id=t.record_id,
                    sample_ref=t.sample_ref,
                    quality=t.quality,
                    algorithm=t.algorithm,
                    enrolled_at=t.enrolled_at,
                    removed=t.removed,
                )
                for t in v.templates
            ],
            not_permitted=list(v.not_permitted),
            probe_available=v.probe_available,
        )
