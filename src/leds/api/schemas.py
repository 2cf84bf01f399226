"""What the API returns: the two envelopes (:class:`Page`, :class:`Item`) and one model per
kind of thing, each with a ``of(...)`` converter from the service's value.

Every data response is one of the envelopes and so carries ``audit_seq``, the sequence number
of the audit entry that recorded it. Errors use :class:`leds.api.errors.ErrorEnvelope`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from leds.governance.audit.events import AuditEntry
from leds.governance.audit.log import InclusionProof, VerifyReport
from leds.governance.identity import Role
from leds.model.codes import SourceSystem
from leds.model.records import ImportSummary, Rejection
from leds.service import RecordView, Result

T = TypeVar("T")

AUDIT_SEQ = Field(description="Sequence number of the audit entry that recorded this response")


class Page(BaseModel, Generic[T]):
    """The list envelope: the items, how many, the audit entry, and the next page if any."""

    items: list[T]
    count: int = Field(description="Number of items in this page")
    audit_seq: int = AUDIT_SEQ
    next: str | None = Field(default=None, description="Path and query of the next page")

    @classmethod
    def of(cls, result: Result[Any], items: list[T], next_page: str | None = None) -> Page[T]:
        return cls(items=items, count=len(items), audit_seq=result.audit_seq, next=next_page)


class Item(BaseModel, Generic[T]):
    """The single-value envelope."""

    data: T
    audit_seq: int = AUDIT_SEQ

    @classmethod
    def of(cls, result: Result[Any], data: T) -> Item[T]:
        return cls(data=data, audit_seq=result.audit_seq)


class ImportOut(BaseModel):
    import_id: int
    source: SourceSystem
    path: str
    status: str = Field(description="running, complete or failed")
    read: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    by_kind: dict[str, int]
    message: str | None
    started_at: str | None
    finished_at: str | None

    @classmethod
    def of(cls, s: ImportSummary) -> ImportOut:
        return cls(
            import_id=s.import_id,
            source=s.source,
            path=s.path,
            status=s.status,
            read=s.read,
            inserted=s.inserted,
            updated=s.updated,
            unchanged=s.unchanged,
            rejected=s.rejected,
            by_kind=dict(s.by_kind),
            message=s.message,
            started_at=None if s.started_at is None else str(s.started_at),
            finished_at=None if s.finished_at is None else str(s.finished_at),
        )


class RecordCount(BaseModel):
    source: str
    kind: str
    records: int


class ImportsPage(Page[ImportOut]):
    """Imports, newest first, and the number of records held per source and kind."""

    counts: list[RecordCount]


class RejectionOut(BaseModel):
    source: SourceSystem
    file: str
    line: int
    field: str | None
    reason: str
    raw: str

    @classmethod
    def of(cls, r: Rejection) -> RejectionOut:
        return cls(
            source=r.source, file=r.file, line=r.line, field=r.field, reason=r.reason, raw=r.raw
        )


class WithheldOut(BaseModel):
    field: str = Field(description="payload.<key> or person.<column>")
    field_class: str
    reason: str = Field(description="Why the policy withholds it")


class Provenance(BaseModel):
    file: str
    line: int
    import_id: int
    imported_at: datetime


class RecordOut(BaseModel):
    """A source record as this user may see it; withheld fields are listed with the reason."""

    record_id: int
    source: str
    kind: str
    source_record_id: str
    payload: dict[str, Any]
    person: dict[str, Any]
    withheld: list[WithheldOut]
    provenance: Provenance
    sensitive_step: bool

    @classmethod
    def of(cls, v: RecordView) -> RecordOut:
        shown = v.record.to_dict()
        return cls(
            record_id=shown["record_id"],
            source=shown["source"],
            kind=shown["kind"],
            source_record_id=v.source_record_id,
            payload=shown["payload"],
            person=shown["person"],
            withheld=[WithheldOut(**w) for w in shown["withheld"]],
            provenance=Provenance(
                file=v.file, line=v.line, import_id=v.import_id, imported_at=v.imported_at
            ),
            sensitive_step=v.sensitive_step,
        )


class ErasedOut(BaseModel):
    record_id: int = Field(description="Internal id of the erased record")


class AuditEntryOut(BaseModel):
    seq: int
    at: datetime
    kind: str
    operation: str
    actor_id: str
    actor_role: str
    actor_org: str
    purpose: str
    justification: str
    case_ref: str | None
    query: dict[str, Any]
    subjects: list[str]
    recipients: list[str]
    decision: str
    outcome: dict[str, Any]

    @classmethod
    def of(cls, e: AuditEntry) -> AuditEntryOut:
        return cls(
            seq=e.seq,
            at=e.at,
            kind=e.kind,
            operation=e.operation,
            actor_id=e.actor_id,
            actor_role=e.actor_role,
            actor_org=e.actor_org,
            purpose=e.purpose,
            justification=e.justification,
            case_ref=e.case_ref,
            query=e.query,
            subjects=e.subjects,
            recipients=e.recipients,
            decision=e.decision,
            outcome=e.outcome,
        )


class VerifyOut(BaseModel):
    entries: int = Field(description="Entries recomputed and verified")
    checkpoints: int = Field(description="Signed checkpoints verified")
    root: str = Field(description="Merkle root (hex) over all entries")
    head_note: str | None = Field(description="The latest signed checkpoint (C2SP signed note)")

    @classmethod
    def of(cls, r: VerifyReport) -> VerifyOut:
        return cls(
            entries=r.entries, checkpoints=r.checkpoints, root=r.root.hex(), head_note=r.head_note
        )


class ProofOut(BaseModel):
    seq: int
    leaf_index: int
    leaf_input: str = Field(description="Hex of the salted leaf hash (no content)")
    proof: list[str] = Field(description="Hex hashes of the RFC 9162 inclusion proof")
    checkpoint: str = Field(description="The signed note the proof is against")

    @classmethod
    def of(cls, p: InclusionProof) -> ProofOut:
        return cls(
            seq=p.seq,
            leaf_index=p.leaf_index,
            leaf_input=p.leaf_input.hex(),
            proof=[h.hex() for h in p.proof],
            checkpoint=p.checkpoint,
        )


# ---- request bodies ----------------------------------------------------------------------

# What ``str.split()`` (the service's word count) takes for white space, spelled out: ``\s``
# differs between ECMAScript (Schemathesis), Rust (pydantic) and Python (\x1c-\x1f, \x85).
SPACE = (
    "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a"
    "\\u2028\\u2029\\u202f\\u205f\\u3000"
)
THREE_WORDS = f"^[{SPACE}]*[^{SPACE}]+([{SPACE}]+[^{SPACE}]+){{2,}}[{SPACE}]*$"


class PurposeFields(BaseModel):
    """Purpose fields a JSON body may carry instead of the X-Leds-* headers."""

    purpose: str | None = Field(default=None, max_length=40, description="Purpose code")
    justification: str | None = Field(default=None, max_length=2000)
    case_ref: str | None = Field(default=None, max_length=200)


class ImportIn(PurposeFields):
    model_config = ConfigDict(extra="forbid")
    source: str = Field(pattern=r"^(pnc|pnd|dvla|iabs|csv)$", description="Source parser")
    path: str = Field(
        min_length=1,
        max_length=1000,
        description="File or directory inside the server's import folder (relative path)",
    )
    mapping: str | None = Field(
        default=None, max_length=1000, description="TOML mapping (csv), relative path"
    )


class EraseIn(PurposeFields):
    model_config = ConfigDict(extra="forbid")
    source: SourceSystem
    kind: str = Field(min_length=1, max_length=200)
    record_id: str = Field(min_length=1, max_length=200, description="The source's own id")
    reason: str = Field(pattern=THREE_WORDS, max_length=2000, description="At least 3 words")


class TokenIn(PurposeFields):
    model_config = ConfigDict(extra="forbid")
    label: str = Field(min_length=1, max_length=200)
    days: int = Field(default=30, ge=1, le=365)


class TokenOut(BaseModel):
    token: str = Field(description="The token; shown once (leds keeps only its hash)")
    label: str
    days: int


class AccountIn(PurposeFields):
    model_config = ConfigDict(extra="forbid")
    user_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
    display_name: str = Field(min_length=1, max_length=200)
    role: Role
    organisation: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]{0,39}$")
    unit: str = Field(default="", max_length=200)
    password: str = Field(min_length=12, max_length=1024)
    vetting_expires: date
    training_expires: date


class AccountOut(BaseModel):
    user_id: str


class VerifyIn(PurposeFields):
    model_config = ConfigDict(extra="forbid")
    trusted: str | None = Field(
        default=None, max_length=100_000, description="A checkpoint note held outside leds"
    )
