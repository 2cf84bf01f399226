"""Biometrics: face and fingerprint galleries, searches, candidates, decisions, thresholds
(tables on the store's one ``metadata``; migration 0003 creates them).

The vectors and minutiae themselves live in gallery files beside the store (DATA/biometrics/);
these tables hold what links them to records and what people decided. Probe images are never
stored: a search keeps only the probe's SHA-256, its parameters and its candidates.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from leds.store.schema_base import Id, metadata

TS = DateTime(timezone=True)

# One enrolled sample (face template or fingerprint template) and the record it came from.
biometric_templates = Table(
    "biometric_templates",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("modality", String(16), nullable=False),  # face | fingerprint
    Column("sample_ref", String(64), nullable=False),  # the source's own sample/image ref
    # The custody / biometric record and the source's person record; an erased record leaves
    # the (removed) template row behind as a tombstone that past searches still refer to.
    Column("record_id", Id, ForeignKey("records.id", ondelete="SET NULL")),
    Column("subject_record_id", Id, ForeignKey("records.id", ondelete="SET NULL")),
    Column("slot", Integer, nullable=False),  # row in the gallery files
    Column("quality", Integer),
    Column("algorithm", String(64), nullable=False),  # model/extractor name and version
    Column("enrolled_at", TS, nullable=False),
    Column("removed_at", TS),
    Column("removal_reason", Text),
    UniqueConstraint("modality", "sample_ref", name="uq_biometric_sample"),
    Index("ix_biometric_slot", "modality", "slot"),
    Index("ix_biometric_record", "record_id"),
)

# Versioned thresholds: proposed with a report, in force only once an oversight user approves.
biometric_thresholds = Table(
    "biometric_thresholds",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("modality", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("algorithm", String(64), nullable=False),
    Column("threshold", Float, nullable=False),
    Column("report_path", Text, nullable=False),
    Column("report_sha256", String(64), nullable=False),
    Column("proposed_by", String(64), nullable=False),
    Column("proposed_at", TS, nullable=False),
    Column("approved_by", String(64)),
    Column("approved_at", TS),
    Column("status", String(16), nullable=False),  # proposed | in-force | superseded | refused
    Column("rationale", Text, nullable=False),  # the proposer's
    Column("refused_by", String(64)),
    Column("refused_at", TS),
    Column("decision_note", Text),  # the oversight user's note on approval or refusal
    Column("superseded_at", TS),
    UniqueConstraint("modality", "version", name="uq_threshold_version"),
    # At most one version in force per modality, whatever two approvers do at once.
    Index(
        "uq_threshold_in_force",
        "modality",
        unique=True,
        sqlite_where=text("status = 'in-force'"),
        postgresql_where=text("status = 'in-force'"),
    ),
)

# A 1:N search: the probe's hash and parameters, never the probe.
biometric_searches = Table(
    "biometric_searches",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("modality", String(16), nullable=False),
    Column("probe_sha256", String(64), nullable=False),
    Column("parameters", Text, nullable=False),  # JSON: R, face chosen, quality figures...
    Column("algorithm", String(64), nullable=False),
    Column("threshold_version", Integer, nullable=False),
    Column("threshold", Float, nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("case_ref", String(64)),
    Column("created_at", TS, nullable=False),
    Column("status", String(16), nullable=False),  # open | closed
    Column("closed_at", TS),
    Column("closed_by", String(64)),
    Index("ix_biometric_search_actor", "actor_id", "created_at"),
)

biometric_candidates = Table(
    "biometric_candidates",
    metadata,
    Column("search_id", Id, ForeignKey("biometric_searches.id"), primary_key=True),
    Column("rank", Integer, primary_key=True, autoincrement=False),
    Column("template_id", Id, ForeignKey("biometric_templates.id"), nullable=False),
    Column("score", Float, nullable=False),
    Column("above_threshold", Integer, nullable=False),  # 0/1 at the threshold in force
)

# Human review: one row per decision; a second reviewer adds a row (role 'second').
biometric_decisions = Table(
    "biometric_decisions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("search_id", Id, ForeignKey("biometric_searches.id"), nullable=False),
    Column("rank", Integer, nullable=False),
    Column("reviewer_id", String(64), nullable=False),
    Column("reviewer_role", String(16), nullable=False),  # first | second
    Column("decision", String(16), nullable=False),  # possible-match | not-a-match | inconclusive
    Column("rationale", Text, nullable=False),
    Column("decided_at", TS, nullable=False),
    Index("ix_biometric_decision_search", "search_id", "rank"),
)

# A recorded performance evaluation (migration 0007): the report's directory and the SHA-256 of
# its manifest (report.json, which holds the SHA-256 of every other file), and the figures the
# performance screen shows, read from the report when it was written (leds.biometrics.performance).
biometric_evaluations = Table(
    "biometric_evaluations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("modality", String(16), nullable=False),
    Column("algorithm", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("report_path", Text, nullable=False),
    Column("report_sha256", String(64), nullable=False),
    Column("figures", Text, nullable=False),  # JSON (leds.biometrics.performance.FORMAT)
    Index("ix_biometric_evaluation_modality", "modality", "id"),
)
