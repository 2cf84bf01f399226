"""The REST API (``/api/v1``): thin routes, each one call to the service.

Adding an endpoint (see docs/interfaces.md): a model in :mod:`leds.api.schemas` with an
``of()`` converter, then a route here taking ``call: ApiCall`` and returning
``Page.of(result, items)`` or ``Item.of(result, data)``; errors are raised by the service
and turned into the envelope by the app. Every route lists ``responses=ERROR_RESPONSES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi import Path as PathParam
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from leds.api.auth import Authenticator, WebSession, purpose_of
from leds.api.errors import ERROR_RESPONSES, Conflict
from leds.api.schemas import (
    THREE_WORDS,
    AccountIn,
    AccountOut,
    AuditEntryOut,
    ErasedOut,
    EraseIn,
    ImportIn,
    ImportOut,
    ImportsPage,
    Item,
    Page,
    ProofOut,
    PurposeFields,
    RecordCount,
    RecordOut,
    RejectionOut,
    TokenIn,
    TokenOut,
    VerifyIn,
    VerifyOut,
)
from leds.errors import LedsError, NotFound
from leds.governance.authn import AuthenticatedUser
from leds.governance.identity import PurposeStatement
from leds.model.codes import Purpose, SourceSystem
from leds.service import NewAccount, Service

PREFIX = "/api/v1"
bearer_scheme = HTTPBearer(
    auto_error=False,
    description="A leds API token (`leds token`) or, where configured, an OIDC access token",
)


@dataclass(frozen=True, slots=True)
class Call:
    """One API call: the service, who is calling, and why (purpose from headers/session)."""

    service: Service
    user: AuthenticatedUser
    session: WebSession | None
    code: str | None
    justification: str | None
    case_ref: str | None

    def purpose(self, body: PurposeFields | None = None) -> PurposeStatement:
        """The purpose: the body's fields if it sets any, else the headers, else the session."""
        if body is not None and (body.purpose or body.justification or body.case_ref):
            return purpose_of(body.purpose, body.justification, body.case_ref)
        return purpose_of(self.code, self.justification, self.case_ref, self.session)


def api_call(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    x_leds_purpose: Annotated[
        Purpose | None,
        Header(alias="X-Leds-Purpose", description="Lawful purpose code (required)"),
    ] = None,
    x_leds_justification: Annotated[
        str | None,
        Header(
            alias="X-Leds-Justification",
            max_length=2000,
            description="Why this access is needed, at least 3 words (required)",
        ),
    ] = None,
    x_leds_case: Annotated[
        str | None,
        Header(
            alias="X-Leds-Case",
            max_length=200,
            description="Case or incident reference (required for crime, arrest, "
            "intelligence and crime-support)",
        ),
    ] = None,
) -> Call:
    auth: Authenticator = request.app.state.auth
    user, session = auth.api_user(request)
    return Call(
        auth.service,
        user,
        session,
        None if x_leds_purpose is None else x_leds_purpose.value,
        x_leds_justification,
        x_leds_case,
    )


ApiCall = Annotated[Call, Depends(api_call)]
Limit = Annotated[int, Query(ge=1, le=1000, description="Page size")]

router = APIRouter(prefix=PREFIX, responses=ERROR_RESPONSES)


# ---- imports -----------------------------------------------------------------------------
@router.get("/imports", tags=["imports"], summary="Imports and records held")
def list_imports(call: ApiCall, limit: Limit = 100) -> ImportsPage:
    result = call.service.list_imports(call.user, call.purpose(), limit)
    overview = result.value
    counts = [
        RecordCount(source=s, kind=k, records=n) for (s, k), n in sorted(overview.counts.items())
    ]
    items = [ImportOut.of(s) for s in overview.imports]
    return ImportsPage(items=items, count=len(items), audit_seq=result.audit_seq, counts=counts)


@router.post("/imports", tags=["imports"], status_code=201, summary="Import an extract")
def import_source(call: ApiCall, body: ImportIn, request: Request) -> Item[ImportOut]:
    root: Path = request.app.state.import_root
    path = inside(root, body.path)
    mapping = inside(root, body.mapping) if body.mapping else None
    result = call.service.import_source(
        call.user, call.purpose(body), body.source, path, mapping=mapping
    )
    return Item.of(result, ImportOut.of(result.value))


@router.get(
    "/imports/{import_id}/rejections", tags=["imports"], summary="Rejected rows of an import"
)
def list_rejections(
    call: ApiCall,
    import_id: Annotated[int, PathParam(ge=1, le=2**62)],
    limit: Limit = 100,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> Page[RejectionOut]:
    result = call.service.list_rejections(call.user, call.purpose(), import_id, limit, offset)
    items = [RejectionOut.of(r) for r in result.value]
    more = f"{PREFIX}/imports/{import_id}/rejections?limit={limit}&offset={offset + limit}"
    return Page.of(result, items, more if len(items) == limit else None)


def inside(root: Path, relative: str) -> Path:
    """``relative`` resolved inside the import folder; 404 if it is not there."""
    base = root.resolve()
    try:
        target = (base / relative).resolve()
        present = target != base and base in target.parents and target.exists()
    except (OSError, ValueError):  # a name too long, a NUL byte...
        present = False
    if not present:
        raise NotFound(
            f"no extract {relative!r} in the import folder",
            hint="give a path relative to the server's import folder",
        )
    return target


# ---- records -----------------------------------------------------------------------------
RecordKey = Annotated[str, PathParam(min_length=1, max_length=200)]


@router.get("/records/{source}/{kind}/{record_id:path}", tags=["records"], summary="Read a record")
def read_record(
    call: ApiCall,
    source: SourceSystem,
    kind: RecordKey,
    record_id: RecordKey,
    sensitive: Annotated[
        str | None,
        Query(
            pattern=THREE_WORDS,
            max_length=2000,
            description="Justification for the sensitive-fields step (recorded)",
        ),
    ] = None,
) -> Item[RecordOut]:
    result = call.service.read_record(
        call.user, call.purpose(), source.value, kind, record_id, sensitive=sensitive
    )
    return Item.of(result, RecordOut.of(result.value))


@router.post("/erasures", tags=["records"], summary="Erase a record (data stewards)")
def erase_record(call: ApiCall, body: EraseIn) -> Item[ErasedOut]:
    result = call.service.erase_record(
        call.user, call.purpose(body), body.source.value, body.kind, body.record_id, body.reason
    )
    return Item.of(result, ErasedOut(record_id=result.value))


# ---- the audit log -----------------------------------------------------------------------
@router.get("/audit/entries", tags=["audit"], summary="Audit entries (auditors)")
def audit_entries(
    call: ApiCall, after: Annotated[int, Query(ge=0, le=2**62)] = 0, limit: Limit = 100
) -> Page[AuditEntryOut]:
    result = call.service.audit_log(call.user, call.purpose(), after, limit)
    items = [AuditEntryOut.of(e) for e in result.value]
    more = f"{PREFIX}/audit/entries?after={items[-1].seq}&limit={limit}" if items else None
    return Page.of(result, items, more if len(items) == limit else None)


@router.post("/audit/verify", tags=["audit"], summary="Verify the whole log")
def audit_verify(call: ApiCall, body: VerifyIn | None = None) -> Item[VerifyOut]:
    trusted = body.trusted if body else None
    result = call.service.verify_audit(call.user, call.purpose(body), trusted=trusted)
    return Item.of(result, VerifyOut.of(result.value))


@router.get("/audit/proofs/{seq}", tags=["audit"], summary="Inclusion proof of an entry")
def audit_proof(call: ApiCall, seq: Annotated[int, PathParam(ge=1, le=2**62)]) -> Item[ProofOut]:
    try:
        result = call.service.prove_audit(call.user, call.purpose(), seq)
    except LedsError as exc:
        if type(exc) is LedsError:  # the log's "no audit entry N" (a plain LedsError today)
            raise NotFound(exc.message, hint=exc.hint) from None
        raise
    return Item.of(result, ProofOut.of(result.value))


# ---- credentials and accounts ------------------------------------------------------------
@router.post("/tokens", tags=["accounts"], status_code=201, summary="Create an API token")
def create_token(call: ApiCall, body: TokenIn) -> Item[TokenOut]:
    result = call.service.create_token(call.user, call.purpose(body), body.label, body.days)
    return Item.of(result, TokenOut(token=result.value, label=body.label, days=body.days))


@router.post("/accounts", tags=["accounts"], status_code=201, summary="Add a local account")
def add_account(call: ApiCall, body: AccountIn) -> Item[AccountOut]:
    new = NewAccount(
        body.user_id,
        body.display_name,
        body.role.value,
        body.organisation,
        body.unit,
        body.password,
        body.vetting_expires,
        body.training_expires,
    )
    try:
        result = call.service.add_account(call.user, call.purpose(body), new)
    except LedsError as exc:
        # The service says "already exists" with a plain LedsError, after authorising.
        if type(exc) is LedsError and call.service.account_exists(body.user_id):
            raise Conflict(exc.message, hint="choose another user id") from None
        raise
    return Item.of(result, AccountOut(user_id=result.value))
