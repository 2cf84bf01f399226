"""A richer world for the person / vehicle / face screens: a small synthetic world (PNC, DVLA,
PND, IABS) imported through the one door, linked, and its face gallery enrolled, with one
account per role the screens need (the kit's four and a facial-search operator)."""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "api"))

from kit import ADMIN, PASSWORD, USERS, cheap_passwords

from leds.api import create_app
from leds.governance.audit.log import AuditLog
from leds.governance.audit.notes import NoteSigner
from leds.service import NewAccount, Service
from leds.store import Store
from leds.synth import generate_world

RICH_USERS = {**USERS, "operator": ("fso1", "facial-search-operator", "NCA")}
PERSONS = 150
SEED = 3


@dataclass
class RichWorld:
    service: Service
    app: object
    world: Path
    misspelt: str  # a surname misspelt, that finds `person_key` (a keeper of `vrm`)
    surname: str
    vrm: str
    enrolled: int


def build_rich(store: Store, root: Path) -> RichWorld:
    with cheap_passwords():
        return _build(store, root)


def _build(store: Store, root: Path) -> RichWorld:
    world = root / "world"
    generate_world(world, PERSONS, SEED, workers=1)
    log = AuditLog(store, NoteSigner.generate("rich-log"), checkpoint_every=50)
    service = Service(store, log, data=root / "data")
    year = date.today() + timedelta(days=365)
    admin_id = RICH_USERS["admin"][0]
    for key, (user_id, role, org) in RICH_USERS.items():
        new = NewAccount(user_id, f"Test {role}", role, org, "Unit 1", PASSWORD, year, year)
        acting = None if key == "admin" else service.login(admin_id, PASSWORD)
        service.add_account(acting, ADMIN, new)
    steward = service.login(RICH_USERS["steward"][0], PASSWORD)
    for source in ("pnc", "dvla", "pnd", "iabs"):
        service.import_source(steward, ADMIN, source, world / source)
    service.link_records(steward, ADMIN)
    enrolled = service.biometric_enrol(steward, ADMIN, "face").value
    surname, vrm = _keeper_with_pnc_record(world)
    return RichWorld(
        service,
        create_app(service),
        world,
        _misspell(surname),
        surname,
        vrm,
        int(getattr(enrolled, "enrolled", 0) or 0),
    )


def _keeper_with_pnc_record(world: Path) -> tuple[str, str]:
    """A surname that is both a current vehicle keeper's and a PNC nominal's, with the VRM."""
    truth: dict[tuple[str, str, str], str] = {}
    for path in sorted((world / "truth").glob("truth-*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                key = (row["source"], row["kind"], row["source_record_id"])
                truth[key] = row["person_id"]
    pnc_people = {pid for (src, kind, _), pid in truth.items() if src == "pnc" and kind == "person"}
    for path in sorted((world / "dvla").glob("keepers-*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                driver = row.get("DRIVER_NUMBER") or ""
                pid = truth.get(("dvla", "person", driver))
                name = (row.get("KEEPER_NAME") or "").split()
                if pid in pnc_people and len(name) >= 2 and len(name[-1]) >= 5:
                    return name[-1], row["VRM"]
    raise AssertionError("the world has no keeper with a PNC record")


def _misspell(surname: str) -> str:
    """A typing slip that sounds the same (FARROW -> Farow, SMITH -> Smyth): what phonetic and
    fuzzy matching must absorb."""
    s = surname.upper()
    for j in range(1, len(s)):
        if s[j] == s[j - 1]:
            return (s[:j] + s[j + 1 :]).title()
    swap = {"A": "E", "E": "A", "I": "Y", "O": "A", "U": "O", "Y": "I"}
    j = next(j for j in range(1, len(s)) if s[j] in swap)
    return (s[:j] + swap[s[j]] + s[j + 1 :]).title()
