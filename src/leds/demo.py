"""The demo: a synthetic world, one account per role drawn from its workforce, all imported.

Demo accounts share one password (printed by ``leds demo``; set it with ``--password`` or
``LEDS_DEMO_PASSWORD``). The first account is created as the bootstrap administrator, which
then creates the others through the one door, so every account creation is audited.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from leds.governance.identity import PurposeStatement, Role
from leds.governance.policy.model import organisations
from leds.service import NewAccount, Service

DEMO_PASSWORD = "leds-demo-password"  # noqa: S105 - a demo world's shared, printed password
DEMO_PURPOSE = ("admin-process", "building the synthetic demo world for local use")
# Used when the workforce has nobody of a role in an organisation the policy knows.
FALLBACK_ORG: dict[str, str] = {
    "constable": "WYP",
    "investigator": "MPS",
    "analyst": "NCA",
    "facial-search-operator": "GMP",
    "immigration-officer": "HOME-OFFICE",
    "dvla-enquiry": "DVLA",
    "data-steward": "LEDS",
    "auditor": "IOPC",
    "administrator": "LEDS",
}
# Which organisations each role's demo account should come from, in order of preference.
PREFERRED_ORG: dict[str, tuple[str, ...]] = {
    "data-steward": ("LEDS-OPS", "LEDS"),
    "administrator": ("LEDS-OPS", "LEDS"),
    "auditor": ("IOPC",),
    "immigration-officer": ("HOMEOFFICE-BF", "HOME-OFFICE"),
    "dvla-enquiry": ("DVLA",),
}


@dataclass(frozen=True, slots=True)
class DemoAccount:
    user_id: str
    display_name: str
    role: str
    organisation: str
    unit: str


def build_world(
    directory: Path,
    persons: int,
    seed: int,
    *,
    workers: int = 2,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Generate the demo world into ``DIRECTORY/world`` and return that path."""
    from leds.synth import generate_world

    world = directory / "world"
    generate_world(world, persons, seed, workers=workers, progress=progress)
    return world


def pick_demo_users(world: Path) -> dict[str, DemoAccount]:
    """One member of the world's workforce per role (organisation known to the policy)."""
    known = organisations()
    chosen: dict[str, DemoAccount] = {}
    path = world / "workforce" / "workforce.csv"
    rows = list(csv.DictReader(path.open(newline="", encoding="utf-8"))) if path.exists() else []
    for role in (r.value for r in Role):
        candidates = [r for r in rows if r["role"] == role and r["organisation"] in known]
        preferred = PREFERRED_ORG.get(role, ())
        candidates.sort(
            key=lambda r: (
                preferred.index(r["organisation"]) if r["organisation"] in preferred else 99,
                not known[r["organisation"]].police,
                r["user_id"],
            )
        )
        if candidates:
            row = candidates[0]
            chosen[role] = DemoAccount(
                row["user_id"],
                f"{row['forenames']} {row['surname']}",
                role,
                row["organisation"],
                row["unit"],
            )
        else:
            chosen[role] = DemoAccount(
                f"demo-{role}", f"Demo {role}", role, FALLBACK_ORG[role], "Demo"
            )
    return chosen


def create_demo_accounts(service: Service, world: Path, password: str) -> dict[str, DemoAccount]:
    """Create (if absent) one account per role; return them by role."""
    users = pick_demo_users(world)
    purpose = PurposeStatement.of(*DEMO_PURPOSE)
    year = date.today() + timedelta(days=365)
    admin = users[Role.ADMINISTRATOR.value]

    def new(account: DemoAccount) -> NewAccount:
        return NewAccount(
            account.user_id,
            account.display_name,
            account.role,
            account.organisation,
            account.unit,
            password,
            year,
            year,
        )

    if not service.has_accounts():
        service.add_account(None, purpose, new(admin))
    signed_in = service.login(admin.user_id, password)
    for role, account in users.items():
        if role != Role.ADMINISTRATOR.value and not service.account_exists(account.user_id):
            service.add_account(signed_in, purpose, new(account))
    return users
