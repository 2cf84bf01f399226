"""Search: indexed keys for person, vehicle and property search; free text (tables on the store's
one ``metadata``; migration 0004 creates them).

Every key column is binary (BLOB / bytea), so range scans over key prefixes (wildcards,
permuterm rotations) compare bytewise on both backends, whatever the database's collation.

* ``search_keys``: generic (key, record id) postings: permuterm rotations of folded
  registration marks and property serials, vehicle and property attributes, identifiers.
* ``search_person_keys``: name, variant, phonetic, pair and postcode keys of person and
  alias records, with the year of birth (0 when unknown) so a key plus a year range is one
  index range scan.
* ``search_person_rows``: one compact row per indexed person or alias record (what scoring
  reads, without parsing payloads).
* ``search_text``: intelligence report text and gradings; PostgreSQL keeps a ``tsvector``
  column with a GIN index, SQLite an FTS5 table over it (``search_text_fts``, external
  content, created by :mod:`leds.search.index` because a virtual table and its shadow tables
  cannot be declared as SQLAlchemy tables).
"""

from __future__ import annotations

from sqlalchemy import Column, Date, Index, LargeBinary, SmallInteger, String, Table, Text
from sqlalchemy.dialects.postgresql import TSVECTOR

from leds.store.schema_base import Id, metadata

search_keys = Table(
    "search_keys",
    metadata,
    Column("key", LargeBinary, primary_key=True),
    Column("record_id", Id, primary_key=True, autoincrement=False),
    Index("ix_search_keys_record", "record_id"),
    sqlite_with_rowid=False,
)

search_person_keys = Table(
    "search_person_keys",
    metadata,
    Column("key", LargeBinary, primary_key=True),
    Column("yob", SmallInteger, primary_key=True, autoincrement=False),
    Column("record_id", Id, primary_key=True, autoincrement=False),
    Index("ix_search_person_keys_record", "record_id"),
    sqlite_with_rowid=False,
)

search_person_rows = Table(
    "search_person_rows",
    metadata,
    Column("record_id", Id, primary_key=True, autoincrement=False),
    Column("owner_id", Id, nullable=False),  # the person record (itself, or an alias's nominal)
    Column("name_kind", String(8), nullable=False),  # "primary" or "alias"
    Column("surname", String(128)),
    Column("forenames", String(128)),
    Column("dob", Date),
    Column("yob", SmallInteger),
    Column("sex", String(1)),
    Column("height_cm", SmallInteger),
    Column("build", String(16)),
    Column("nationality", String(3)),
    Column("postcodes", Text),  # every postcode known for the person, space-separated
    Column("addresses", Text),  # every address text, " | "-separated, upper case
    Column("marks", Text),  # scars, marks, tattoos (PNC description), upper case
    Index("ix_search_person_rows_owner", "owner_id"),
)

search_text = Table(
    "search_text",
    metadata,
    Column("record_id", Id, primary_key=True, autoincrement=False),
    Column("body", Text, nullable=False),
    Column("source_grade", String(1)),  # 3x5x2: source evaluation 1-3
    Column("intel_grade", String(1)),  # intelligence assessment A-E
    Column("handling", String(1)),  # handling code P or C
    Column("created", String(32)),
    Column("tsv", Text().with_variant(TSVECTOR(), "postgresql")),
    Index("ix_search_text_tsv", "tsv", postgresql_using="gin"),
)
