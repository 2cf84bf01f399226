"""Schemathesis against the OpenAPI document, in process (ASGI): every operation, all checks,
at least 100 examples each (positive and negative data), no failure and no server error.

Each case is sent with a valid bearer token of the role that may perform the operation (so the
fuzzer reaches the service, not just the 401), and the ``ignored_auth`` check re-sends it with
no and with invalid credentials, which must be refused (401). A purpose's validity depends on
combinations the schema cannot express (a case reference for four of the codes), so cases get
a valid purpose in the headers unless the body sets one; tests/api/test_contract.py pins the
refusals of missing and unfit purposes.

Search, review and linkage operations: whether a schema-valid request can be answered depends
on what no OpenAPI schema can say (at least one search criterion; an identifier's check
character; a wildcard needs letters before it; a rationale of 15 characters once spaces are
collapsed; a linkage model trained on this data), so for them Schemathesis's "positive data
accepted" check is replaced by :func:`answered_or_refused_saying_why`: a schema-valid request
is answered, or refused 400/422 with the service's own error code (never the schema's
``invalid_request``) and a message saying what is wrong.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from kit import HEADERS, World, backend_store, build, cheap_passwords
from schemathesis.specs.openapi.checks import positive_data_acceptance

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    import starlette.testclient  # noqa: F401  (imported by schemathesis's ASGI transport)

EXAMPLES = 100
ROLE_BY_PATH = (
    ("/api/v1/audit/", "auditor"),
    ("/api/v1/accounts", "admin"),
    ("/api/v1/records/", "steward"),
    ("/api/v1/erasures", "steward"),
    ("/api/v1/imports", "steward"),
    ("/api/v1/sources/", "steward"),
    ("/api/v1/tokens", "constable"),
    ("/api/v1/search/persons/export", "analyst"),
    ("/api/v1/search/vehicles/export", "analyst"),
    ("/api/v1/search/", "constable"),
    ("/api/v1/persons/{key}/links", "steward"),  # link_explain: not a constable's
    ("/api/v1/persons/", "constable"),
    ("/api/v1/vehicles/", "constable"),
    ("/api/v1/biometrics/", "operator"),
    ("/api/v1/links/", "steward"),
)
# The face and fingerprint search uploads and the face quality check (multipart) are left
# out: the fuzzer's images are random bytes the pipelines refuse (400) by design;
# tests/web/test_search_pages.py sends real photos, tests/web/test_fingerprint_pages.py real
# (synthetic) prints, tests/api/test_face_quality_api.py real photos to the quality check.
NOT_FUZZED = [
    "/api/v1/biometrics/face/searches",
    "/api/v1/biometrics/face/quality",
    "/api/v1/biometrics/fingerprint/searches",
]

_shm = Path("/dev/shm")  # tmpfs: the audit log fsyncs every entry
_root = Path(tempfile.mkdtemp(prefix="leds-schemathesis-", dir=_shm if _shm.is_dir() else None))
_stores = backend_store("sqlite", _root, None)
WORLD: World = build(_stores.__enter__(), _root)
schema = schemathesis.openapi.from_asgi("/openapi.json", WORLD.app).exclude(path=NOT_FUZZED)


@pytest.fixture(scope="module", autouse=True)
def _close_store() -> Iterator[None]:
    # Argon2 at its production cost makes POST /accounts (one hash per example) dominate the
    # run; hashing is not what this test examines, so it uses a cheap Argon2 meanwhile.
    with cheap_passwords():
        yield
    _stores.__exit__(None, None, None)
    shutil.rmtree(_root, ignore_errors=True)


SEMANTIC_PREFIXES = (
    "/api/v1/search/",
    "/api/v1/biometrics/searches/",
    "/api/v1/links/",
    # audit filters: a date range the wrong way round is refused by the service
    "/api/v1/audit/search",
    "/api/v1/audit/volumes",
    "/api/v1/audit/export",
    "/api/v1/audit/alerts",
)


def answered_or_refused_saying_why(
    _ctx: object, response: object, case: schemathesis.Case
) -> bool | None:
    """A schema-valid request is answered, or refused by the service saying what is wrong."""
    positive = case.meta is None or case.meta.generation.mode.is_positive
    status = response.status_code  # type: ignore[attr-defined]
    if not positive or status not in (400, 422):
        return None
    error = response.json()["error"]  # type: ignore[attr-defined]
    assert error["code"] not in ("invalid_request", "purpose_required"), error
    assert error["message"], error
    return True


def role_for(path: str) -> str:
    return next(role for prefix, role in ROLE_BY_PATH if path.startswith(prefix))


@schema.auth(cache_by_key=lambda case, _ctx: role_for(case.operation.path))
class RoleToken:
    """The bearer token of the role that may perform the case's operation."""

    def get(self, case: schemathesis.Case, _ctx: object) -> str:
        return WORLD.tokens[role_for(case.operation.path)]

    def set(self, case: schemathesis.Case, token: str, _ctx: object) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_api_conforms_to_its_schema(case: schemathesis.Case) -> None:
    role = role_for(case.operation.path)
    headers = {k: v for k, v in (case.headers or {}).items() if not k.lower().startswith("x-leds-")}
    case.headers = {**headers, **HEADERS[role]}
    positive = case.meta is None or case.meta.generation.mode.is_positive
    if positive and isinstance(case.body, dict):
        for key in ("purpose", "justification", "case_ref"):
            case.body.pop(key, None)
    if case.operation.path.startswith(SEMANTIC_PREFIXES):
        case.call_and_validate(
            excluded_checks=[positive_data_acceptance],
            additional_checks=[answered_or_refused_saying_why],
        )
    else:
        case.call_and_validate()
