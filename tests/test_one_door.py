"""Every public operation of the service goes through the one door: it refuses without a
purpose, refuses an unauthorised user, and every success leaves a committed audit entry whose
sequence number the response carries. A new operation without a case here fails the test."""

from __future__ import annotations

import inspect
import io
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from actors import ADMINISTRATOR, AUDITOR, CONSTABLE, STEWARD, signed_in
from leds.errors import AccessDenied, PurposeRequired
from leds.governance.audit.notes import NoteSigner
from leds.governance.audit.query import AuditFilter
from leds.governance.audit.witness import Witness
from leds.governance.authn import AuthenticatedUser
from leds.governance.identity import PurposeStatement
from leds.link import index as link_index
from leds.search.persons import PersonQuery
from leds.search.property import PropertyQuery
from leds.search.text import TextQuery
from leds.search.vehicles import VehicleQuery
from leds.service import NewAccount, Result, Service
from leds.store import Store
from leds.store.schema import records
from leds.store.tables_biometrics import (
    biometric_evaluations,
    biometric_searches,
    biometric_thresholds,
)
from leds.store.tables_link import review_decisions
from leds.synth import generate_world

PC9 = signed_in("pc9", "constable", "WYP")
INVESTIGATOR = signed_in("det1", "investigator", "WYP")
OPERATOR = signed_in("fso1", "facial-search-operator", "NCA")
ANALYST = signed_in("an1", "analyst", "WYP")
ANALYSIS = PurposeStatement.of("crime-support", "analysing a burglary series", "CASE-1")
STOP = PurposeStatement.of("stop", "roadside check of a driver")
CRIME = PurposeStatement.of("crime", "investigating a burglary series", "CASE-1")
FACES = Path(__file__).resolve().parents[1] / ".cache" / "faces"
ERASE = "retention review decided deletion"
ADMIN = PurposeStatement.of("admin-process", "routine data management work")
OVERSIGHT = PurposeStatement.of("oversight", "routine oversight of the audit log")
PNC = (
    "H|PNC|1|2026-11-26T12:00:00Z|1\n"
    "NOM|2001/0171310W||SMITH|ANNA|F|04031985|LEEDS|W1|165|||GBR|\n"
    "T|1\n"
)
# Any role may list imports (counts, no personal data) and manage its own tokens: for these
# only a user whose vetting or training has lapsed is refused.
ANY_ROLE = {"create_token", "list_imports"}
# Operations that do not touch personal data or are the sign-in itself.
NOT_OPERATIONS = {
    "open",
    "close",
    "log_verifier",
    "data_dir",
    "login",
    "login_token",
    "has_accounts",
    "account_exists",
    "may",  # a policy question for pages: nothing read, nothing recorded
    "misuse_rules",  # the deployment's alert thresholds (DATA/misuse.toml): no personal data
    # the web sign-in's session (who is signed in, their CSRF token and chosen purpose)
    "session_open",
    "session_get",
    "session_set_purpose",
    "session_close",
}

Call = Callable[[Service, AuthenticatedUser, Any], Result[Any]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic world for the operations that need data (linkage, search,
    biometrics)."""
    out = tmp_path_factory.mktemp("door-world")
    generate_world(out, 250, 3, part_size=250, workers=1)
    return out


def _with_world(s: Service, world: Path) -> None:
    """Import the world once per service (as the data steward)."""
    if getattr(s, "_door_world", False):
        return
    for source in ("pnc", "pnd", "dvla", "iabs"):
        s.import_source(STEWARD, ADMIN, source, world / source)
    s._door_world = True  # type: ignore[attr-defined]


def _scalar(s: Service, query: Any) -> Any:
    with s._store.engine.connect() as conn:
        return conn.execute(query).scalar()


def _linked_pair(s: Service) -> tuple[str, str]:
    with s._store.engine.connect() as conn:
        assigned = link_index.assignments(conn)
    by_person: dict[str, list[int]] = {}
    for rec, person in assigned.items():
        by_person.setdefault(person, []).append(rec)
    pair = next((sorted(v)[:2] for v in by_person.values() if len(v) >= 2), [1, 2])
    return str(pair[0]), str(pair[1])


def _person_of(s: Service, record_id: int) -> str:
    with s._store.engine.connect() as conn:
        return link_index.person_of(conn, record_id) or "L0000000001"


def _person_row(s: Service) -> Any:
    with s._store.engine.connect() as conn:
        return conn.execute(
            select(records).where(
                records.c.source == "pnc",
                records.c.kind == "person",
                records.c.surname.is_not(None),
                records.c.dob.is_not(None),
            )
        ).first()


def _fingerprint_probe() -> bytes:
    from PIL import Image

    from leds.biometrics.fingerprint.synth import impression_image

    buf = io.BytesIO()
    Image.fromarray(impression_image(99, 1, 1)).save(buf, format="PNG")
    return buf.getvalue()


def _world_cases(
    tmp_path: Path, world: Path
) -> dict[str, tuple[AuthenticatedUser, PurposeStatement, Call]]:
    photo = (FACES / "obama.jpg").read_bytes() if (FACES / "obama.jpg").exists() else b""
    report = tmp_path / "face-report"

    def w(call: Call) -> Call:
        def run(s: Service, u: AuthenticatedUser, p: Any) -> Result[Any]:
            _with_world(s, world)
            return call(s, u, p)

        return run

    def search_id(s: Service) -> int:
        return int(_scalar(s, select(func.max(biometric_searches.c.id))) or 1)

    def decide_all_then_close(s: Service, u: AuthenticatedUser, p: Any) -> Result[Any]:
        sid = search_id(s)
        if p is not None and u.vetting_valid and u.actor.role == OPERATOR.actor.role:
            for c in s.biometric_candidates(u, p, sid).value.reviews:
                if c.first is None:
                    s.biometric_decide(
                        u, p, sid, c.candidate.rank, "not-a-match", "clearly a different face"
                    )
        return s.biometric_close(u, p, sid)

    def person_key(s: Service) -> str:
        row = _person_row(s)
        return str(row.id) if row is not None else "1"

    return {
        "reindex_search": (STEWARD, ADMIN, w(lambda s, u, p: s.reindex_search(u, p))),
        "link_records": (STEWARD, ADMIN, w(lambda s, u, p: s.link_records(u, p))),
        "link_explain": (
            INVESTIGATOR,
            CRIME,
            w(lambda s, u, p: s.link_explain(u, p, *_linked_pair(s))),
        ),
        "link_review_queue": (STEWARD, ADMIN, w(lambda s, u, p: s.link_review_queue(u, p))),
        "link_decide": (
            STEWARD,
            ADMIN,
            w(lambda s, u, p: s.link_decide(u, p, *_linked_pair(s), "unsure", "cannot tell")),
        ),
        "link_undo": (
            STEWARD,
            ADMIN,
            w(
                lambda s, u, p: s.link_undo(
                    u, p, int(_scalar(s, select(func.max(review_decisions.c.id))) or 1), "oops"
                )
            ),
        ),
        "person_history": (
            STEWARD,
            ADMIN,
            w(
                lambda s, u, p: s.person_history(
                    u,
                    p,
                    _person_of(s, int(_linked_pair(s)[0])),
                )
            ),
        ),
        "link_evaluate": (STEWARD, ADMIN, w(lambda s, u, p: s.link_evaluate(u, p, world=world))),
        "search_person": (
            CONSTABLE,
            STOP,
            w(lambda s, u, p: s.search_person(u, p, PersonQuery(surname=_person_row(s).surname))),
        ),
        "export_persons": (
            ANALYST,
            ANALYSIS,
            w(lambda s, u, p: s.export_persons(u, p, PersonQuery(surname=_person_row(s).surname))),
        ),
        "export_vehicles": (
            ANALYST,
            ANALYSIS,
            w(lambda s, u, p: s.export_vehicles(u, p, VehicleQuery(vrm="A1*", sort="vrm"))),
        ),
        "search_vehicle": (
            CONSTABLE,
            STOP,
            w(lambda s, u, p: s.search_vehicle(u, p, VehicleQuery(vrm="A1*"))),
        ),
        "search_property": (
            CONSTABLE,
            STOP,
            w(lambda s, u, p: s.search_property(u, p, PropertyQuery(category="laptop"))),
        ),
        "search_text": (
            INVESTIGATOR,
            CRIME,
            w(lambda s, u, p: s.search_text(u, p, TextQuery(text="stolen"))),
        ),
        "lookup_identifier": (
            CONSTABLE,
            STOP,
            w(lambda s, u, p: s.lookup_identifier(u, p, _person_row(s).pnc_id)),
        ),
        "show_person": (INVESTIGATOR, CRIME, w(lambda s, u, p: s.show_person(u, p, person_key(s)))),
        "person_links": (
            INVESTIGATOR,
            CRIME,
            w(lambda s, u, p: s.person_links(u, p, person_key(s))),
        ),
        "person_intelligence": (
            INVESTIGATOR,
            CRIME,
            w(
                lambda s, u, p: s.person_intelligence(
                    u, p, person_key(s), sensitive="the case needs it"
                )
            ),
        ),
        "person_biometrics": (
            INVESTIGATOR,
            CRIME,
            w(lambda s, u, p: s.person_biometrics(u, p, person_key(s))),
        ),
        "show_vehicle": (
            CONSTABLE,
            STOP,
            w(
                lambda s, u, p: s.show_vehicle(
                    u,
                    p,
                    _scalar(
                        s,
                        select(records.c.source_record_id)
                        .where(records.c.source == "dvla", records.c.kind == "vehicle")
                        .limit(1),
                    ),
                )
            ),
        ),
        "biometric_enrol": (STEWARD, ADMIN, w(lambda s, u, p: s.biometric_enrol(u, p, "face"))),
        "face_search": (
            OPERATOR,
            CRIME,
            w(lambda s, u, p: s.face_search(u, p, photo, list_length=3)),
        ),
        "face_quality": (OPERATOR, CRIME, w(lambda s, u, p: s.face_quality(u, p, photo))),
        "biometric_candidates": (
            OPERATOR,
            CRIME,
            w(lambda s, u, p: s.biometric_candidates(u, p, search_id(s))),
        ),
        "biometric_decide": (
            OPERATOR,
            CRIME,
            w(
                lambda s, u, p: s.biometric_decide(
                    u, p, search_id(s), 1, "inconclusive", "the probe is too blurred to say"
                )
            ),
        ),
        "biometric_close": (OPERATOR, CRIME, w(decide_all_then_close)),
        "biometric_record": (
            OPERATOR,
            CRIME,
            w(lambda s, u, p: s.biometric_record(u, p, search_id(s), fmt="csv")),
        ),
        "fingerprint_search": (
            OPERATOR,
            CRIME,
            w(
                lambda s, u, p: (
                    s.biometric_enrol(STEWARD, ADMIN, "fingerprint"),
                    s.fingerprint_search(u, p, _fingerprint_probe(), list_length=3),
                )[1]
            ),
        ),
        "biometric_evaluate": (
            STEWARD,
            ADMIN,
            w(
                lambda s, u, p: s.biometric_evaluate(
                    u, p, report, thresholds=(0.84,), gallery_persons=200
                )
            ),
        ),
        "threshold_propose": (
            STEWARD,
            ADMIN,
            w(
                lambda s, u, p: s.threshold_propose(
                    u, p, "face", 0.84, report, "fewer false candidates at this size"
                )
            ),
        ),
        "threshold_decide": (
            AUDITOR,
            OVERSIGHT,
            w(
                lambda s, u, p: s.threshold_decide(
                    u,
                    p,
                    "face",
                    int(_scalar(s, select(func.max(biometric_thresholds.c.version))) or 1),
                    approve=True,
                )
            ),
        ),
        "biometric_performance": (OPERATOR, CRIME, lambda s, u, p: s.biometric_performance(u, p)),
        "biometric_plot": (  # after biometric_evaluate, which records an evaluation
            AUDITOR,
            OVERSIGHT,
            lambda s, u, p: s.biometric_plot(
                u, p, int(_scalar(s, select(func.max(biometric_evaluations.c.id))) or 1), "det.png"
            ),
        ),
        "data_quality": (STEWARD, ADMIN, w(lambda s, u, p: s.data_quality(u, p))),
    }


def _cases(
    tmp_path: Path, world: Path
) -> dict[str, tuple[AuthenticatedUser, PurposeStatement, Call]]:
    extract = tmp_path / "pnc-00001.txt"
    extract.write_text(PNC)
    new = NewAccount(
        "pc9",
        "PC Nine",
        "constable",
        "WYP",
        "Response",
        "a long password here",
        date(2030, 1, 1),
        date(2030, 1, 1),
    )
    witness_key = NoteSigner.generate("oversight-witness")

    def cosign(s: Service, u: AuthenticatedUser, p: Any) -> Result[str]:
        return s.witness_cosign(u, p, Witness(tmp_path / "w.json", witness_key, s.log_verifier))

    return {
        "import_source": (STEWARD, ADMIN, lambda s, u, p: s.import_source(u, p, "pnc", extract)),
        "list_imports": (STEWARD, ADMIN, lambda s, u, p: s.list_imports(u, p)),
        "list_rejections": (STEWARD, ADMIN, lambda s, u, p: s.list_rejections(u, p, 1)),
        "read_record": (
            STEWARD,
            ADMIN,
            lambda s, u, p: s.read_record(u, p, "pnc", "person", "2001/0171310W"),
        ),
        "erase_record": (
            STEWARD,
            ADMIN,
            lambda s, u, p: s.erase_record(u, p, "pnc", "person", "2001/0171310W", ERASE),
        ),
        "audit_log": (AUDITOR, OVERSIGHT, lambda s, u, p: s.audit_log(u, p)),
        "verify_audit": (AUDITOR, OVERSIGHT, lambda s, u, p: s.verify_audit(u, p)),
        "prove_audit": (AUDITOR, OVERSIGHT, lambda s, u, p: s.prove_audit(u, p, 1)),
        "witness_cosign": (AUDITOR, OVERSIGHT, cosign),
        "audit_search": (
            AUDITOR,
            OVERSIGHT,
            lambda s, u, p: s.audit_search(u, p, AuditFilter(subject="record/1")),
        ),
        "audit_volumes": (AUDITOR, OVERSIGHT, lambda s, u, p: s.audit_volumes(u, p, by="unit")),
        "audit_integrity": (AUDITOR, OVERSIGHT, lambda s, u, p: s.audit_integrity(u, p)),
        "audit_export": (AUDITOR, OVERSIGHT, lambda s, u, p: s.audit_export(u, p, fmt="csv")),
        "misuse_alerts": (
            AUDITOR,
            OVERSIGHT,
            lambda s, u, p: s.misuse_alerts(u, p, date(2026, 1, 1), date(2026, 1, 31)),
        ),
        "add_account": (ADMINISTRATOR, ADMIN, lambda s, u, p: s.add_account(u, p, new)),
        # after add_account: tokens are for local accounts
        "create_token": (PC9, ADMIN, lambda s, u, p: s.create_token(u, p, "ci")),
        **_world_cases(tmp_path, world),
    }


def test_every_public_operation_is_covered(tmp_path: Path, world: Path) -> None:
    public = {name for name, _ in inspect.getmembers(Service) if not name.startswith("_")}
    assert public - NOT_OPERATIONS == set(_cases(tmp_path, world))


def test_each_operation_refuses_without_a_purpose(
    service: Service, tmp_path: Path, world: Path
) -> None:
    for name, (user, _, call) in _cases(tmp_path, world).items():
        with pytest.raises(PurposeRequired):
            call(service, user, None)
        assert name


def test_each_operation_refuses_an_unauthorised_user(
    service: Service, tmp_path: Path, world: Path
) -> None:
    for name, (user, purpose, call) in _cases(tmp_path, world).items():
        lapsed = signed_in(
            user.actor.user_id, user.actor.role, user.actor.organisation, vetting=False
        )
        with pytest.raises(AccessDenied):
            call(service, lapsed, purpose)
        if name in ANY_ROLE:
            continue
        wrong_role = signed_in("dv1", "dvla-enquiry", "DVLA")
        with pytest.raises(AccessDenied):
            call(service, wrong_role, purpose)
        assert name


def test_each_success_carries_its_committed_audit_entry(
    service: Service, store: Store, tmp_path: Path, world: Path
) -> None:
    if not (FACES / "obama.jpg").exists():
        pytest.skip(f"registry test photos missing in {FACES}: run `make venv` to fetch them")
    for name, (user, purpose, call) in _cases(tmp_path, world).items():
        result = call(service, user, purpose)
        last = store.audit_entries(after=result.audit_seq - 1, limit=1)
        assert last, name
        assert last[0].seq == result.audit_seq, name
        assert last[0].actor_id == user.actor.user_id, name
        assert last[0].purpose == purpose.code.value, name
        assert last[0].decision.startswith("allow:"), name
    assert service._log.verify().entries == len(store.audit_entries(limit=100_000))
