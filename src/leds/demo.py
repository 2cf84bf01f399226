"""The demo: a synthetic world, one account per role drawn from its workforce, all imported.

Demo accounts share one password (printed by ``leds demo``; set it with ``--password`` or
``LEDS_DEMO_PASSWORD``). The first account is created as the bootstrap administrator, which
then creates the others through the one door, so every account creation is audited.
"""

from __future__ import annotations

import csv
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from leds.errors import LedsError
from leds.governance.authn import AuthenticatedUser
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
    rows: list[dict[str, str]] = []
    if path.exists():
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
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


# --------------------------------------------------------------------------------------------
# After the imports: link, enrol, and sample commands that work on this world
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """One demo step: what it returned, or why it failed (the demo reports and goes on)."""

    name: str
    value: Any = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def run_step(name: str, step: Callable[[], Any]) -> StepOutcome:
    """Run one optional demo step; a failure is reported, not raised (the demo world stays
    usable without, e.g., a face gallery)."""
    started = time.perf_counter()
    try:
        value = step()
    except LedsError as exc:
        error = exc.message + (f" ({exc.hint})" if exc.hint else "")
        return StepOutcome(name, None, error, time.perf_counter() - started)
    except Exception as exc:
        return StepOutcome(
            name, None, f"{type(exc).__name__}: {exc}", time.perf_counter() - started
        )
    return StepOutcome(name, value, None, time.perf_counter() - started)


def link_and_enrol(
    service: Service,
    steward: AuthenticatedUser,
    *,
    link_progress: Callable[[str, int], None] | None = None,
    enrol_progress: Callable[[str], Callable[[int], None] | None] | None = None,
) -> list[StepOutcome]:
    """Link every source into persons (a full run), then enrol the face and fingerprint
    galleries, as the demo data steward. Linking must succeed (searches group by person);
    an enrolment that fails is reported in its outcome and the demo goes on."""
    purpose = PurposeStatement.of(*DEMO_PURPOSE)
    started = time.perf_counter()
    linked = service.link_records(steward, purpose, progress=link_progress)
    steps = [StepOutcome("link", linked.value, None, time.perf_counter() - started)]

    def enrol(modality: str, tick: Callable[[int], None] | None) -> Any:
        return service.biometric_enrol(steward, purpose, modality, progress=tick).value

    for modality in ("face", "fingerprint"):
        tick = enrol_progress(modality) if enrol_progress else None
        steps.append(run_step(f"enrol {modality}", functools.partial(enrol, modality, tick)))
    return steps


@dataclass(frozen=True, slots=True)
class DemoSamples:
    """Values from the demo world for the sample commands ``leds demo`` prints."""

    surname: str  # a real person's surname, misspelt
    true_surname: str
    forenames: str
    year: int | None
    partial_plate: str  # a real registration mark with its end replaced by ``*``
    plate: str
    pnc_id: str


_SCAN_LINES = 20_000  # the sample is taken from the first lines of the first part only


def misspell(surname: str) -> str:
    """A plausible misspelling: a doubled letter made single, else an inner vowel changed
    (SMITH -> SMYTH), else two inner letters swapped."""
    name = surname.upper()
    for i in range(1, len(name)):
        if name[i] == name[i - 1] and name[i].isalpha():
            return name[:i] + name[i + 1 :]
    swaps = {"A": "E", "E": "A", "I": "Y", "O": "U", "U": "O", "Y": "I"}
    for i in range(1, len(name)):
        if name[i] in swaps:
            return name[:i] + swaps[name[i]] + name[i + 1 :]
    for i in range(1, len(name) - 2):
        if name[i] != name[i + 1] and name[i].isalpha() and name[i + 1].isalpha():
            return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    return name + "E"


def demo_samples(world: Path) -> DemoSamples | None:
    """A PNC person who is also on another source (from the world's ground truth), and a
    vehicle; None if the world has none (bounded reads of the first files)."""
    truth_files = sorted((world / "truth").glob("truth-*.csv"))
    pnc_files = sorted((world / "pnc").glob("pnc-*.txt"))
    vehicle_files = sorted((world / "dvla").glob("vehicles-*.csv"))
    if not truth_files or not pnc_files or not vehicle_files:
        return None
    sources_of: dict[str, set[str]] = {}
    pnc_person: dict[str, str] = {}
    with truth_files[0].open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):  # one part: bounded by the world's part size
            if row["kind"] == "person":
                sources_of.setdefault(row["person_id"], set()).add(row["source"])
                if row["source"] == "pnc":
                    pnc_person[row["source_record_id"]] = row["person_id"]
    noms: list[list[str]] = []
    marked: set[str] = set()
    with pnc_files[0].open(encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if n > _SCAN_LINES:
                break
            parts = line.rstrip("\n").split("|")
            if parts[0] == "NOM" and len(parts) >= 7 and len(parts[3]) >= 4:
                noms.append(parts)
            elif parts[0] == "MKR" and len(parts) > 1:
                marked.add(parts[1])

    def appeal(parts: list[str]) -> tuple[bool, bool]:
        many = len(sources_of.get(pnc_person.get(parts[1], ""), ())) >= 3
        return many and parts[1] in marked, many

    chosen = max(noms, key=appeal, default=None)  # the first of the most appealing
    with vehicle_files[0].open(newline="", encoding="utf-8") as fh:
        vehicle = next(csv.DictReader(fh), None)
    if chosen is None or vehicle is None:
        return None
    dob = chosen[6]
    year = int(dob[4:8]) if len(dob) == 8 and dob.isdigit() else None
    plate = vehicle["VRM"].replace(" ", "")
    return DemoSamples(
        surname=misspell(chosen[3]),
        true_surname=chosen[3],
        forenames=chosen[4].split()[0] if chosen[4] else "",
        year=year,
        partial_plate=plate[:4] + "*",
        plate=plate,
        pnc_id=chosen[1],
    )
