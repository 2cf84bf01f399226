"""Every public operation of the service goes through the one door: it refuses without a
purpose, refuses an unauthorised user, and every success leaves a committed audit entry whose
sequence number the response carries. A new operation without a case here fails the test."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from actors import ADMINISTRATOR, AUDITOR, STEWARD, signed_in
from leds.errors import AccessDenied, PurposeRequired
from leds.governance.audit.notes import NoteSigner
from leds.governance.audit.witness import Witness
from leds.governance.authn import AuthenticatedUser
from leds.governance.identity import PurposeStatement
from leds.service import NewAccount, Result, Service
from leds.store import Store

PC9 = signed_in("pc9", "constable", "WYP")
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
}

Call = Callable[[Service, AuthenticatedUser, Any], Result[Any]]


def _cases(tmp_path: Path) -> dict[str, tuple[AuthenticatedUser, PurposeStatement, Call]]:
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
        "add_account": (ADMINISTRATOR, ADMIN, lambda s, u, p: s.add_account(u, p, new)),
        # after add_account: tokens are for local accounts
        "create_token": (PC9, ADMIN, lambda s, u, p: s.create_token(u, p, "ci")),
    }


def test_every_public_operation_is_covered(tmp_path: Path) -> None:
    public = {name for name, _ in inspect.getmembers(Service) if not name.startswith("_")}
    assert public - NOT_OPERATIONS == set(_cases(tmp_path))


def test_each_operation_refuses_without_a_purpose(service: Service, tmp_path: Path) -> None:
    for name, (user, _, call) in _cases(tmp_path).items():
        with pytest.raises(PurposeRequired):
            call(service, user, None)
        assert name


def test_each_operation_refuses_an_unauthorised_user(service: Service, tmp_path: Path) -> None:
    for name, (user, purpose, call) in _cases(tmp_path).items():
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
    service: Service, store: Store, tmp_path: Path
) -> None:
    for name, (user, purpose, call) in _cases(tmp_path).items():
        result = call(service, user, purpose)
        last = store.audit_entries(after=result.audit_seq - 1, limit=1)
        assert last, name
        assert last[0].seq == result.audit_seq, name
        assert last[0].actor_id == user.actor.user_id, name
        assert last[0].purpose == purpose.code.value, name
        assert last[0].decision.startswith("allow:"), name
    assert service._log.verify().entries == len(store.audit_entries(limit=100_000))
