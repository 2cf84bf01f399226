"""Search: indexed keys for person, vehicle and property search; free text.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "search_keys",
        sa.Column("key", sa.LargeBinary(), nullable=False),
        sa.Column("record_id", _ID, autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("key", "record_id"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_search_keys_record", "search_keys", ["record_id"], unique=False)
    op.create_table(
        "search_person_keys",
        sa.Column("key", sa.LargeBinary(), nullable=False),
        sa.Column("yob", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("record_id", _ID, autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("key", "yob", "record_id"),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_search_person_keys_record", "search_person_keys", ["record_id"], unique=False
    )
    op.create_table(
        "search_person_rows",
        sa.Column("record_id", _ID, autoincrement=False, nullable=False),
        sa.Column("owner_id", _ID, nullable=False),
        sa.Column("name_kind", sa.String(length=8), nullable=False),
        sa.Column("surname", sa.String(length=128), nullable=True),
        sa.Column("forenames", sa.String(length=128), nullable=True),
        sa.Column("dob", sa.Date(), nullable=True),
        sa.Column("yob", sa.SmallInteger(), nullable=True),
        sa.Column("sex", sa.String(length=1), nullable=True),
        sa.Column("height_cm", sa.SmallInteger(), nullable=True),
        sa.Column("build", sa.String(length=16), nullable=True),
        sa.Column("nationality", sa.String(length=3), nullable=True),
        sa.Column("postcodes", sa.Text(), nullable=True),
        sa.Column("addresses", sa.Text(), nullable=True),
        sa.Column("marks", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("record_id"),
    )
    op.create_index("ix_search_person_rows_owner", "search_person_rows", ["owner_id"], unique=False)
    op.create_table(
        "search_text",
        sa.Column("record_id", _ID, autoincrement=False, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("source_grade", sa.String(length=1), nullable=True),
        sa.Column("intel_grade", sa.String(length=1), nullable=True),
        sa.Column("handling", sa.String(length=1), nullable=True),
        sa.Column("created", sa.String(length=32), nullable=True),
        sa.Column(
            "tsv", sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql"), nullable=True
        ),
        sa.PrimaryKeyConstraint("record_id"),
    )
    op.create_index(
        "ix_search_text_tsv", "search_text", ["tsv"], unique=False, postgresql_using="gin"
    )


def downgrade() -> None:
    op.drop_index("ix_search_text_tsv", table_name="search_text")
    op.drop_table("search_text")
    op.drop_index("ix_search_person_rows_owner", table_name="search_person_rows")
    op.drop_table("search_person_rows")
    op.drop_index("ix_search_person_keys_record", table_name="search_person_keys")
    op.drop_table("search_person_keys")
    op.drop_index("ix_search_keys_record", table_name="search_keys")
    op.drop_table("search_keys")
