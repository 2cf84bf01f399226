"""Audit oversight: indexes for filtering the log by time, operation and organisation, and the
``audit_index`` of the subjects and sources each entry names (filled for existing entries).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_CHUNK = 20_000


def upgrade() -> None:
    op.create_index("ix_audit_at", "audit_events", ["at"])
    op.create_index("ix_audit_operation", "audit_events", ["operation", "at"])
    op.create_index("ix_audit_org", "audit_events", ["actor_org", "at"])
    index = op.create_table(
        "audit_index",
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("value", sa.String(128), nullable=False),
        sa.Column("seq", _ID, autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("kind", "value", "seq"),
        sqlite_with_rowid=False,
    )
    _backfill(op.get_bind(), index)


def _backfill(conn: sa.Connection, index: sa.Table) -> None:
    """Index the entries already in the log (same rule as ``audit_index_rows``)."""
    from leds.governance.audit.query import audit_index_rows

    events = sa.table("audit_events", sa.column("seq"), sa.column("query"), sa.column("subjects"))
    after = 0
    while True:
        chunk = conn.execute(
            sa.select(events.c.seq, events.c.query, events.c.subjects)
            .where(events.c.seq > after)
            .order_by(events.c.seq)
            .limit(_CHUNK)
        ).all()
        if not chunk:
            return
        rows = []
        for seq, query, subjects in chunk:
            rows.extend(audit_index_rows(seq, json.loads(query), json.loads(subjects)))
        if rows:
            conn.execute(sa.insert(index), rows)
        after = chunk[-1][0]


def downgrade() -> None:
    op.drop_table("audit_index")
    op.drop_index("ix_audit_org", table_name="audit_events")
    op.drop_index("ix_audit_operation", table_name="audit_events")
    op.drop_index("ix_audit_at", table_name="audit_events")
