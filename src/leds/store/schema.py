"""The store's tables (SQLAlchemy Core). Migrations in ``migrations/versions`` create them.

``records`` holds every accepted source record with its provenance. Records of kind
``person`` (a source's nominal record) also fill the normalised person columns that linkage
and search read; partial indexes keep those lookups small.
``audit_events`` is append-only: the store never updates or deletes a row of it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from leds.store.schema_base import Id as Id
from leds.store.schema_base import metadata as metadata

PERSON_COLUMNS: tuple[str, ...] = (
    "surname",
    "forenames",
    "dob",
    "dob_text",
    "sex",
    "postcode",
    "address",
    "nationality",
    "ethnicity",
    "pnc_id",
    "cro",
    "driver_number",
    "nino",
    "passport",
    "immigration_ref",
)

imports = Table(
    "imports",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", String(16), nullable=False),
    Column("path", Text, nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", String(16), nullable=False),
    Column("read", Integer, nullable=False, server_default=text("0")),
    Column("inserted", Integer, nullable=False, server_default=text("0")),
    Column("updated", Integer, nullable=False, server_default=text("0")),
    Column("unchanged", Integer, nullable=False, server_default=text("0")),
    Column("rejected", Integer, nullable=False, server_default=text("0")),
    Column("by_kind", Text, nullable=False, server_default=text("'{}'")),
    Column("message", Text),
)

records = Table(
    "records",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("source_record_id", String(64), nullable=False),
    Column("subject_id", String(64)),
    Column("payload", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("import_id", Id, ForeignKey("imports.id"), nullable=False),
    Column("file", Text, nullable=False),
    Column("line", Integer, nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("truth_person_id", String(32)),
    Column("surname", String(128)),
    Column("forenames", String(128)),
    Column("dob", Date),
    Column("dob_text", String(32)),
    Column("sex", String(1)),
    Column("postcode", String(8)),
    Column("address", Text),
    Column("nationality", String(3)),
    Column("ethnicity", String(2)),
    Column("pnc_id", String(13)),
    Column("cro", String(13)),
    Column("driver_number", String(16)),
    Column("nino", String(9)),
    Column("passport", String(9)),
    Column("immigration_ref", String(32)),
    UniqueConstraint("source", "kind", "source_record_id", name="uq_records_key"),
    Index("ix_records_subject", "source", "subject_id"),
    Index("ix_records_import", "import_id"),
)

# Lookups by person attributes only ever concern person records.
_PERSON_ONLY: dict[str, Any] = {
    "sqlite_where": text("kind = 'person'"),
    "postgresql_where": text("kind = 'person'"),
}
for _name, _cols in {
    "ix_records_surname_dob": ("surname", "dob"),
    "ix_records_postcode": ("postcode",),
    "ix_records_pnc_id": ("pnc_id",),
    "ix_records_driver_number": ("driver_number",),
    "ix_records_nino": ("nino",),
    "ix_records_passport": ("passport",),
}.items():
    Index(_name, *(records.c[c] for c in _cols), **_PERSON_ONLY)

rejections = Table(
    "rejections",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("import_id", Id, ForeignKey("imports.id"), nullable=False),
    Column("source", String(16), nullable=False),
    Column("file", Text, nullable=False),
    Column("line", Integer, nullable=False),
    Column("field", String(64)),
    Column("reason", Text, nullable=False),
    Column("raw", Text, nullable=False),
    Index("ix_rejections_import", "import_id"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", Id, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("operation", String(64), nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("actor_role", String(32), nullable=False),
    Column("actor_org", String(32), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("justification", Text, nullable=False),
    Column("case_ref", String(64)),
    Column("query", Text, nullable=False),
    Column("subjects", Text, nullable=False),
    Column("recipients", Text, nullable=False, server_default=text("'[]'")),
    Column("decision", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("salt", String(32), nullable=False),  # hex; keeps leaf hashes free of content
    Column("leaf", String(64), nullable=False),  # hex RFC 9162 leaf hash of the salted record
    Index("ix_audit_actor", "actor_id", "at"),
    Index("ix_audit_at", "at"),
    Index("ix_audit_operation", "operation", "at"),
    Index("ix_audit_org", "actor_org", "at"),
)

# What the oversight screen filters the log by, beyond its own columns: one row per subject an
# entry names (``kind`` "subject": "record/12", "person/L0000000001") and per source its query
# names (``kind`` "source"). Derived from the entry, written in the same transaction; not part
# of the hashed record (the log verifies without it).
audit_index = Table(
    "audit_index",
    metadata,
    Column("kind", String(8), primary_key=True),
    Column("value", String(128), primary_key=True),
    Column("seq", Id, primary_key=True, autoincrement=False),
    sqlite_with_rowid=False,
)

# Local accounts (the embedded default; OIDC deployments keep users at the identity provider).
accounts = Table(
    "accounts",
    metadata,
    Column("user_id", String(64), primary_key=True),
    Column("display_name", String(128), nullable=False),
    Column("role", String(32), nullable=False),
    Column("organisation", String(32), nullable=False),
    Column("unit", String(64), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("vetting_expires", Date, nullable=False),
    Column("training_expires", Date, nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# API tokens: only the SHA-256 of each token is kept.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", String(64), ForeignKey("accounts.user_id"), nullable=False),
    Column("label", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

# Web sessions, kept in the store so that every server process sees them: only the SHA-256 of
# the session id (the cookie) is kept; the CSRF token and the purpose chosen at the gate with it.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("sid_hash", String(64), primary_key=True),
    Column("user_id", String(64), ForeignKey("accounts.user_id"), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("purpose", Text, nullable=True),  # JSON: code, justification, case reference
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
)

# One row (id 1): the tree over audit_events as of the last append, and its signed checkpoint.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("frontier", LargeBinary, nullable=False),
    Column("root", String(64), nullable=False),
    Column("note", Text),
    Column("updated_at", DateTime(timezone=True)),
)

# Signed checkpoints kept every N entries or T seconds, with any witness cosignatures.
audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", String(64), nullable=False),
    Column("note", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("cosignatures", Text, nullable=False, server_default=text("''")),
)

# The tables of later areas live beside their code's concerns; importing them registers them
# on ``metadata`` (one schema, one migration chain).
from leds.store import tables_biometrics, tables_link, tables_search  # noqa: E402, F401
