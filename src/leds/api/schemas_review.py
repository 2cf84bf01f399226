"""What the decision record endpoint returns (``GET /api/v1/biometrics/searches/{id}/record``):
the record of :mod:`leds.biometrics.record` as one value of the item envelope."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class DecisionRecordOut(BaseModel):
    """A face or fingerprint search's decision record: investigative leads, never
    identifications. ``sha256`` is that of the JSON file (the record, keys sorted, indent 1,
    one trailing newline) named in the disclosure's audit entry."""

    record: str = Field(description="What this is: a leds biometric search decision record")
    format_version: int
    notice: str = Field(description="Investigative lead — not an identification")
    search_id: int
    modality: str = Field(description="face or fingerprint")
    status: str = Field(description="open or closed")
    probe: dict[str, Any] = Field(
        description="The probe's SHA-256 and parameters (never the probe)"
    )
    algorithm: str
    threshold: dict[str, Any] = Field(
        description="The threshold in force at the search: version, value"
    )
    list_length: int
    searched: dict[str, Any] = Field(description="By whom, for what purpose and case, when")
    closed: dict[str, Any] | None = Field(description="By whom and when (null: still open)")
    undecided: list[int] = Field(description="Ranks still without a first decision")
    candidates: list[dict[str, Any]] = Field(
        description="Ranked: score, threshold, source, template, identity (or why withheld), "
        "first and second decisions, outcome, disagreement, revisions"
    )
    decisions: list[dict[str, Any]] = Field(description="Every decision recorded, in order")
    sha256: str = Field(description="SHA-256 of the JSON file, as recorded in the audit entry")

    @classmethod
    def of(cls, made: Any) -> DecisionRecordOut:
        return cls(**made.data, sha256=made.sha256)
