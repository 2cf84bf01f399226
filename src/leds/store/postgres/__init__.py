"""The production store: PostgreSQL through psycopg 3."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine

from leds.store.base import Store


class PostgresStore(Store):
    backend = "postgresql"

    def _create_engine(self, url: str) -> Engine:
        return create_engine(url, pool_pre_ping=True)
