"""A small leds world for the API and web tests: accounts per role, API tokens, one PNC
extract imported through the one door, and the app over it (shared by tests/api, tests/web)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from fastapi import FastAPI
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import Engine, text

from leds.api import create_app
from leds.governance import authn
from leds.governance.audit.log import AuditLog
from leds.governance.audit.notes import NoteSigner
from leds.governance.identity import PurposeStatement
from leds.service import NewAccount, Service
from leds.store import Store, open_store

PASSWORD = "correct horse battery staple"
ADMIN = PurposeStatement.of("admin-process", "setting up the interface tests")
PNC_LINES = [
    "H|PNC|1|2026-11-26T12:00:00Z|1",
    "NOM|2001/0171310W||SMITH|ANNA MARIA|F|04031985|LEEDS|W1|165|SLIM||GBR|",
    "NOM|2011/0275516Q||KHAN|MOHAMMED|M|00031990|BRADFORD|A2|180|MEDIUM||GBR|",
    "NOM|2008/0056560X||JONES|PETER|M|01011970|YORK||175|||GBR|",
    "ARR|2001/0171310W|AR000000001|02022020|WYP|Theft",
    "T|4",
]
# role -> (user id, role, organisation)
USERS: dict[str, tuple[str, str, str]] = {
    "admin": ("admin1", "administrator", "LEDS"),
    "steward": ("steward1", "data-steward", "LEDS"),
    "constable": ("pc123", "constable", "WYP"),
    "auditor": ("aud1", "auditor", "IOPC"),
    "operator": ("fso1", "facial-search-operator", "NCA"),
    "analyst": ("an1", "analyst", "WYP"),
}
HEADERS = {
    "steward": {"X-Leds-Purpose": "admin-process", "X-Leds-Justification": "checking the import"},
    "admin": {"X-Leds-Purpose": "admin-process", "X-Leds-Justification": "managing user accounts"},
    "auditor": {"X-Leds-Purpose": "oversight", "X-Leds-Justification": "reviewing recent access"},
    "operator": {
        "X-Leds-Purpose": "crime",
        "X-Leds-Justification": "image of an unknown suspect",
        "X-Leds-Case": "WY-2026-0042",
    },
    "constable": {
        "X-Leds-Purpose": "crime",
        "X-Leds-Justification": "suspect named by a witness",
        "X-Leds-Case": "WY-2026-0042",
    },
    "analyst": {
        "X-Leds-Purpose": "crime-support",
        "X-Leds-Justification": "mapping a burglary series",
        "X-Leds-Case": "WY-2026-0042",
    },
}


@dataclass
class World:
    service: Service
    store: Store
    app: FastAPI
    tokens: dict[str, str]
    import_root: Path
    import_id: int

    def auth(self, who: str, *, purpose: bool = True) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return {**headers, **HEADERS[who]} if purpose else headers


@contextmanager
def cheap_passwords() -> Iterator[None]:
    """Hash the test accounts' passwords with a low-cost Argon2id (the parameters travel in
    the hash, so signing in later is cheap too): these tests are about the interfaces, and
    production-cost hashing of a dozen passwords per world dominated their run time."""
    saved = authn._PASSWORD_HASH
    authn._PASSWORD_HASH = PasswordHash(
        (Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),)
    )
    try:
        yield
    finally:
        authn._PASSWORD_HASH = saved


def build(store: Store, root: Path) -> World:
    """Accounts (the first is the bootstrap administrator), tokens, one imported extract."""
    with cheap_passwords():
        return _build(store, root)


def _build(store: Store, root: Path) -> World:
    service = Service(store, AuditLog(store, NoteSigner.generate("test-log"), checkpoint_every=10))
    year = date.today() + timedelta(days=365)
    tokens: dict[str, str] = {}
    admin_id = USERS["admin"][0]
    for key, (user_id, role, org) in USERS.items():
        new = NewAccount(user_id, f"Test {role}", role, org, "Unit 1", PASSWORD, year, year)
        acting = None if key == "admin" else service.login(admin_id, PASSWORD)
        service.add_account(acting, ADMIN, new)
    for key, (user_id, _, _) in USERS.items():
        user = service.login(user_id, PASSWORD)
        tokens[key] = service.create_token(user, ADMIN, f"tests {key}").value
    import_root = root / "incoming"
    import_root.mkdir(parents=True)
    extract = import_root / "pnc-00001.txt"
    extract.write_text("\n".join(PNC_LINES) + "\n", encoding="utf-8")
    steward = service.login(USERS["steward"][0], PASSWORD)
    summary = service.import_source(steward, ADMIN, "pnc", extract).value
    app = create_app(service, import_root=import_root)
    return World(service, store, app, tokens, import_root, summary.import_id)


@contextmanager
def backend_store(kind: str, root: Path, pg_admin: Engine | None) -> Iterator[Store]:
    """A migrated store: SQLite under ``root``, or a throwaway PostgreSQL database."""
    if kind == "sqlite":
        store = open_store(root / "data")
        try:
            yield store
        finally:
            store.close()
        return
    assert pg_admin is not None
    name = f"leds_test_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{name}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE'))
        conn.execute(text(f'CREATE DATABASE "{name}" OWNER "{name}"'))
    url = pg_admin.url.set(database=name, username=name, password=None)
    store = open_store(url.render_as_string(hide_password=False))
    try:
        yield store
    finally:
        store.close()
        with pg_admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{name}"'))
