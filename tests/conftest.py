"""Shared fixtures: a store per backend (SQLite always; PostgreSQL when a server answers).

Each PostgreSQL test gets a throwaway database owned by a throwaway least-privilege role
(LOGIN only: no superuser, no CREATEDB), both dropped afterwards. Set ``LEDS_TEST_PG_URL`` to
an admin URL to use another server; without a reachable server those tests skip, saying so.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from leds.governance.audit.log import AuditLog
from leds.governance.audit.notes import NoteSigner
from leds.service import Service
from leds.store import Store, open_store

PG_ADMIN_URL = os.environ.get(
    "LEDS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Engine]:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except OperationalError as exc:
        engine.dispose()
        pytest.skip(
            f"no PostgreSQL server reachable at {PG_ADMIN_URL} ({exc.orig}); "
            "start one or set LEDS_TEST_PG_URL to run the PostgreSQL tests"
        )
    yield engine
    engine.dispose()


@pytest.fixture
def pg_url(pg_admin: Engine) -> Iterator[str]:
    """A URL to a fresh database owned by a fresh least-privilege role."""
    name = f"leds_test_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{name}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE'))
        conn.execute(text(f'CREATE DATABASE "{name}" OWNER "{name}"'))
    host = pg_admin.url.set(database=name, username=name, password=None)
    yield host.render_as_string(hide_password=False)
    with pg_admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'DROP ROLE IF EXISTS "{name}"'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty store on each backend."""
    if request.param == "sqlite":
        handle = open_store(tmp_path / "data")
    else:
        handle = open_store(request.getfixturevalue("pg_url"))
    yield handle
    handle.close()


@pytest.fixture
def audit_log(store: Store) -> AuditLog:
    """The audit log over the store, signed with a throwaway key."""
    return AuditLog(store, NoteSigner.generate("test-audit-log"), checkpoint_every=10)


@pytest.fixture
def service(store: Store, audit_log: AuditLog, tmp_path: Path) -> Service:
    return Service(store, audit_log, data=tmp_path / "service-data")
