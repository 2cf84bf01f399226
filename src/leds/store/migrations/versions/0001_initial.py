"""Initial store: imports, records with provenance, rejections, append-only audit events.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)
PERSON_ONLY: dict[str, Any] = {
    "sqlite_where": sa.text("kind = 'person'"),
    "postgresql_where": sa.text("kind = 'person'"),
}


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("actor_id", sa.String(64), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS),
        sa.Column("status", sa.String(16), nullable=False),
        *(
            sa.Column(name, sa.Integer, nullable=False, server_default=sa.text("0"))
            for name in ("read", "inserted", "updated", "unchanged", "rejected")
        ),
        sa.Column("by_kind", sa.Text, nullable=False, server_default=sa.text("'{}'")),
        sa.Column("message", sa.Text),
    )
    op.create_table(
        "records",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source_record_id", sa.String(64), nullable=False),
        sa.Column("subject_id", sa.String(64)),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("import_id", Id, sa.ForeignKey("imports.id"), nullable=False),
        sa.Column("file", sa.Text, nullable=False),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("imported_at", TS, nullable=False),
        sa.Column("truth_person_id", sa.String(32)),
        sa.Column("surname", sa.String(128)),
        sa.Column("forenames", sa.String(128)),
        sa.Column("dob", sa.Date),
        sa.Column("dob_text", sa.String(32)),
        sa.Column("sex", sa.String(1)),
        sa.Column("postcode", sa.String(8)),
        sa.Column("address", sa.Text),
        sa.Column("nationality", sa.String(3)),
        sa.Column("ethnicity", sa.String(2)),
        sa.Column("pnc_id", sa.String(13)),
        sa.Column("cro", sa.String(13)),
        sa.Column("driver_number", sa.String(16)),
        sa.Column("nino", sa.String(9)),
        sa.Column("passport", sa.String(9)),
        sa.Column("immigration_ref", sa.String(32)),
        sa.UniqueConstraint("source", "kind", "source_record_id", name="uq_records_key"),
    )
    op.create_index("ix_records_subject", "records", ["source", "subject_id"])
    op.create_index("ix_records_import", "records", ["import_id"])
    op.create_index("ix_records_surname_dob", "records", ["surname", "dob"], **PERSON_ONLY)
    for column in ("postcode", "pnc_id", "driver_number", "nino", "passport"):
        op.create_index(f"ix_records_{column}", "records", [column], **PERSON_ONLY)
    op.create_table(
        "rejections",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("import_id", Id, sa.ForeignKey("imports.id"), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("file", sa.Text, nullable=False),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("field", sa.String(64)),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
    )
    op.create_index("ix_rejections_import", "rejections", ["import_id"])
    op.create_table(
        "audit_events",
        sa.Column("seq", Id, primary_key=True, autoincrement=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("operation", sa.String(64), nullable=False),
        sa.Column("actor_id", sa.String(64), nullable=False),
        sa.Column("actor_role", sa.String(32), nullable=False),
        sa.Column("actor_org", sa.String(32), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("justification", sa.Text, nullable=False),
        sa.Column("case_ref", sa.String(64)),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("subjects", sa.Text, nullable=False),
        sa.Column("recipients", sa.Text, nullable=False, server_default=sa.text("'[]'")),
        sa.Column("decision", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("salt", sa.String(32), nullable=False),
        sa.Column("leaf", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_actor", "audit_events", ["actor_id", "at"])
    op.create_table(
        "accounts",
        sa.Column("user_id", sa.String(64), primary_key=True),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("organisation", sa.String(32), nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("vetting_expires", sa.Date, nullable=False),
        sa.Column("training_expires", sa.Date, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(64), sa.ForeignKey("accounts.user_id"), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("frontier", sa.LargeBinary, nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("updated_at", TS),
    )
    # The empty tree: size 0, an empty frontier (version byte, 8-byte size), SHA-256("").
    empty_frontier = bytes([1]) + (0).to_bytes(8, "big")
    empty_root = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    op.bulk_insert(head, [{"id": 1, "size": 0, "frontier": empty_frontier, "root": empty_root}])
    op.create_table(
        "audit_checkpoints",
        sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("cosignatures", sa.Text, nullable=False, server_default=sa.text("''")),
    )


def downgrade() -> None:
    for table in (
        "audit_checkpoints",
        "audit_head",
        "api_tokens",
        "accounts",
        "audit_events",
        "rejections",
        "records",
        "imports",
    ):
        op.drop_table(table)
