"""The store's one ``MetaData`` and shared column types (the area table modules build on it)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, MetaData

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identities.
Id = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()
