"""The REST API (``/api/v1``): thin routes, each one call to the service.

Adding an endpoint (see docs/interfaces.md): a model in :mod:`leds.api.schemas` with an
``of()`` converter, then a route here taking ``call: ApiCall`` and returning
``Page.of(result, items)`` or ``Item.of(result, data)``; errors are raised by the service
and turned into the envelope by the app. Every route lists ``responses=ERROR_RESPONSES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, Response, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from leds.api.auth import Authenticator, WebSession, purpose_of
from leds.api.errors import ERROR_RESPONSES, Conflict, PayloadTooLarge
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
from leds.api.schemas_review import DecisionRecordOut
from leds.api.schemas_search import (
    RECORD_REF,
    CandidateListOut,
    ClosedOut,
    CloseIn,
    DecideIn,
    DecisionOut,
    ExplanationOut,
    FaceQualityOut,
    IdentifierHitOut,
    IdentifierPage,
    LinkDecideIn,
    LinkDecisionOut,
    LinkUndoIn,
    LookedUp,
    PersonHitOut,
    PersonsPage,
    PersonViewOut,
    PropertyHitOut,
    PropertyPage,
    ReviewItemOut,
    ReviewStateOut,
    TextHitOut,
    TextPage,
    VehicleHitOut,
    VehiclesPage,
    VehicleViewOut,
    source_status,
)
from leds.errors import LedsError, NotFound
from leds.governance.authn import AuthenticatedUser
from leds.governance.identity import PurposeStatement
from leds.governance.minimise import MinimisedRecord
from leds.model.codes import Purpose, SourceSystem
from leds.search.identifiers import KINDS
from leds.search.persons import PersonQuery
from leds.search.property import PropertyQuery
from leds.search.text import TextQuery
from leds.search.vehicles import FACETS as VEHICLE_FACETS
from leds.search.vehicles import VehicleQuery
from leds.service import DecisionRecordFile, NewAccount, Result, Service

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
    user, session = auth.api_user(request)  # credentials first: 401 before anything else
    keys = [k for k, _ in request.query_params.multi_items()]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:  # no parameter of this API is a list: a repeated one is ambiguous
        raise LedsError(
            f"query parameter given more than once: {', '.join(repeated)}",
            hint="give each query parameter at most once",
        )
    return Call(
        auth.service,
        user,
        session,
        None if x_leds_purpose is None else x_leds_purpose.value,
        x_leds_justification,
        x_leds_case,
    )


ApiCall = Annotated[Call, Depends(api_call)]


class MatchMode(StrEnum):
    exact = "exact"
    phonetic = "phonetic"
    fuzzy = "fuzzy"


IdentifierKind = StrEnum("IdentifierKind", {k: k for k in KINDS})  # type: ignore[misc]
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


# ---- search ------------------------------------------------------------------------------
Offset = Annotated[int, Query(ge=0, le=10_000, description="Results to skip")]
SearchLimit = Annotated[int, Query(ge=1, le=100, description="Page size")]
Text = Annotated[str | None, Query(max_length=100)]


def _next(path: str, params: dict[str, object], limit: int, offset: int, more: bool) -> str | None:
    if not more:
        return None
    given = {k: v for k, v in params.items() if v is not None and k not in ("limit", "offset")}
    query = urlencode({**given, "limit": limit, "offset": offset + limit})
    return f"{PREFIX}{path}?{query}"


class PersonSort(StrEnum):
    score = "score"
    name = "name"
    dob = "dob"


AGE_BAND = r"^(under 18|18-24|25-34|35-44|45-54|55-64|65\+|unknown)$"
_SOURCE = "|".join(x.value for x in SourceSystem)
SOURCE_LIST = rf"^({_SOURCE})(,({_SOURCE}))*$"


async def person_query(  # async: no I/O, so FastAPI need not hand it to a worker thread
    surname: Text = None,
    forenames: Text = None,
    dob: Annotated[date | None, Query(description="Exact date of birth")] = None,
    dob_from: date | None = None,
    dob_to: date | None = None,
    year: Annotated[int | None, Query(ge=1880, le=2100, description="Year of birth")] = None,
    age_from: Annotated[int | None, Query(ge=0, le=130)] = None,
    age_to: Annotated[int | None, Query(ge=0, le=130)] = None,
    sex: Annotated[str | None, Query(pattern=r"^[MFU]$")] = None,
    postcode: Annotated[str | None, Query(max_length=10, description="Postcode or sector")] = None,
    address: Text = None,
    identifier: Annotated[str | None, Query(max_length=40)] = None,
    mode: Annotated[MatchMode, Query(description="Name matching")] = MatchMode.fuzzy,
    sort: Annotated[
        PersonSort, Query(description="score (default), name (surname) or dob (oldest first)")
    ] = PersonSort.score,
    filter_source: Annotated[
        SourceSystem | None, Query(description="Facet filter: persons with a record here")
    ] = None,
    filter_sex: Annotated[
        str | None, Query(pattern=r"^([MFU]|unknown)$", description="Facet filter")
    ] = None,
    filter_age_band: Annotated[
        str | None, Query(pattern=AGE_BAND, description="Facet filter (age today)")
    ] = None,
    filter_nationality: Annotated[
        str | None, Query(max_length=40, description="Facet filter")
    ] = None,
    filter_marker: Annotated[
        str | None, Query(max_length=40, description="Facet filter: a marker type")
    ] = None,
    sources: Annotated[
        str | None,
        Query(
            max_length=60,
            pattern=SOURCE_LIST,
            description="Only these sources, comma-separated, e.g. pnc,dvla (default: every "
            "source you may search); the others are reported as not asked",
        ),
    ] = None,
    limit: SearchLimit = 20,
    offset: Offset = 0,
) -> PersonQuery:
    """The person search's query parameters (shared by the search and its export)."""
    return PersonQuery(
        surname=surname,
        forenames=forenames,
        dob=dob,
        dob_from=dob_from,
        dob_to=dob_to,
        year=year,
        age_from=age_from,
        age_to=age_to,
        sex=sex,
        postcode=postcode,
        address=address,
        identifier=identifier,
        mode=mode.value,
        sort=sort.value,
        filter_source=filter_source.value if filter_source else None,
        filter_sex=filter_sex,
        filter_age_band=filter_age_band,
        filter_nationality=filter_nationality,
        filter_marker=filter_marker,
        sources=None if sources is None else frozenset(sources.split(",")),
        limit=limit,
        offset=offset,
    )


PersonParams = Annotated[PersonQuery, Depends(person_query)]


def person_params(query: PersonQuery) -> dict[str, object]:
    """The query string of a person search (for ``next`` and the export link); the sources
    asked, comma-separated in the order of :class:`SourceSystem`."""
    out = {f: v for f in PERSON_PARAMS if (v := getattr(query, f)) is not None}
    if query.sources is not None:
        out["sources"] = ",".join(s.value for s in SourceSystem if s.value in query.sources)
    return out


@router.get("/search/persons", tags=["search"], summary="Search persons (QUEST-like)")
def search_persons(call: ApiCall, query: PersonParams) -> PersonsPage:
    """Persons, with facet counts, per-source status and (when the policy allows the user to
    export) the path of the audited CSV export of this page."""
    result = call.service.search_person(call.user, call.purpose(), query)
    found = result.value
    items = [PersonHitOut.of(h) for h in found.hits]
    params = person_params(query)
    more = query.offset + len(items) < found.total
    return PersonsPage(
        items=items,
        count=len(items),
        audit_seq=result.audit_seq,
        next=_next("/search/persons", params, query.limit, query.offset, more),
        total=found.total,
        candidates=found.candidates,
        facets={k: dict(v) for k, v in found.facets.items()},
        sort=query.sort,
        filters=query.filters,
        sources=source_status(found),
        export=export_path("/search/persons/export", params, query, found.may_export),
    )


CSV_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The CSV file; `X-Leds-Audit-Seq` is its disclosure's audit entry",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


@router.get(
    "/search/persons/export",
    tags=["search"],
    summary="Export a page of person results (CSV, recorded as a disclosure)",
    response_class=Response,
    responses=CSV_RESPONSES,
)
def export_persons(call: ApiCall, query: PersonParams) -> Response:
    result = call.service.export_persons(call.user, call.purpose(), query)
    return csv_response(result.value.csv, result.audit_seq, "persons")


def csv_response(text: str, audit_seq: int, what: str) -> Response:
    """A CSV download carrying its audit entry (header and file name)."""
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="leds-{what}-{audit_seq}.csv"',
            "X-Leds-Audit-Seq": str(audit_seq),
        },
    )


PERSON_PARAMS = (
    "surname",
    "forenames",
    "dob",
    "dob_from",
    "dob_to",
    "year",
    "age_from",
    "age_to",
    "sex",
    "postcode",
    "address",
    "identifier",
    "mode",
    "sort",
    "filter_source",
    "filter_sex",
    "filter_age_band",
    "filter_nationality",
    "filter_marker",
    "sources",
)


class VehicleSort(StrEnum):
    relevance = "relevance"
    vrm = "vrm"
    make = "make"
    keeper_change = "keeper_change"


async def vehicle_query(  # async: no I/O, so FastAPI need not hand it to a worker thread
    vrm: Annotated[
        str | None, Query(max_length=20, description="Mark; `?` one character, `*` any run")
    ] = None,
    vin: Annotated[str | None, Query(max_length=20)] = None,
    make: Text = None,
    model: Text = None,
    colour: Text = None,
    keeper_postcode: Annotated[str | None, Query(max_length=10)] = None,
    marker: Annotated[str | None, Query(max_length=40)] = None,
    sort: Annotated[
        VehicleSort,
        Query(
            description="relevance (default: markers, then exact marks first), vrm, make, "
            "keeper_change (newest keeper first)"
        ),
    ] = VehicleSort.relevance,
    filter_source: Annotated[
        SourceSystem | None, Query(description="Facet filter: vehicles with a record here")
    ] = None,
    filter_make: Annotated[str | None, Query(max_length=40, description="Facet filter")] = None,
    filter_colour: Annotated[str | None, Query(max_length=40, description="Facet filter")] = None,
    filter_marker: Annotated[
        str | None, Query(max_length=40, description="Facet filter: a PNC interest")
    ] = None,
    filter_keeper_area: Annotated[
        str | None,
        Query(
            pattern=r"^[A-Za-z]{1,2}$",
            description="Facet filter: the current keeper's postcode area (LS)",
        ),
    ] = None,
    limit: SearchLimit = 20,
    offset: Offset = 0,
) -> VehicleQuery:
    """The vehicle search's query parameters (shared by the search and its export)."""
    return VehicleQuery(
        vrm=vrm,
        vin=vin,
        make=make,
        model=model,
        colour=colour,
        keeper_postcode=keeper_postcode,
        marker=marker,
        sort=sort.value,
        filter_source=filter_source.value if filter_source else None,
        filter_make=filter_make,
        filter_colour=filter_colour,
        filter_marker=filter_marker,
        filter_keeper_area=filter_keeper_area,
        limit=limit,
        offset=offset,
    )


VehicleParams = Annotated[VehicleQuery, Depends(vehicle_query)]
VEHICLE_PARAMS = (
    "vrm",
    "vin",
    "make",
    "model",
    "colour",
    "keeper_postcode",
    "marker",
    "sort",
    *(f"filter_{f}" for f in VEHICLE_FACETS),
)


def vehicle_params(query: VehicleQuery) -> dict[str, object]:
    """The query string of a vehicle search (for ``next`` and the export link)."""
    out = {f: v for f in VEHICLE_PARAMS if (v := getattr(query, f)) is not None}
    if out.get("sort") == "relevance":
        del out["sort"]
    return out


@router.get("/search/vehicles", tags=["search"], summary="Search vehicles (partial marks)")
def search_vehicles(call: ApiCall, query: VehicleParams) -> VehiclesPage:
    """Vehicles, with facet counts, per-source status and (when the policy allows the user to
    export) the path of the audited CSV export of this page."""
    result = call.service.search_vehicle(call.user, call.purpose(), query)
    found = result.value
    items = [VehicleHitOut.of(h) for h in found.hits]
    params = vehicle_params(query)
    more = query.offset + len(items) < found.total
    return VehiclesPage(
        items=items,
        count=len(items),
        audit_seq=result.audit_seq,
        next=_next("/search/vehicles", params, query.limit, query.offset, more),
        total=found.total,
        truncated=found.truncated,
        facets={k: dict(v) for k, v in found.facets.items()},
        sort=query.sort,
        filters=query.filters,
        sources=source_status(found),
        export=export_path("/search/vehicles/export", params, query, found.may_export),
    )


def export_path(path: str, params: dict[str, object], query: Any, allowed: bool) -> str | None:
    """The API path of the audited CSV export of the page shown (None: not allowed)."""
    if not allowed:
        return None
    return f"{PREFIX}{path}?{urlencode({**params, 'limit': query.limit, 'offset': query.offset})}"


@router.get(
    "/search/vehicles/export",
    tags=["search"],
    summary="Export a page of vehicle results (CSV, recorded as a disclosure)",
    response_class=Response,
    responses=CSV_RESPONSES,
)
def export_vehicles(call: ApiCall, query: VehicleParams) -> Response:
    result = call.service.export_vehicles(call.user, call.purpose(), query)
    return csv_response(result.value.csv, result.audit_seq, "vehicles")


@router.get("/search/identifiers", tags=["search"], summary="Records holding an identifier")
def lookup_identifier(
    call: ApiCall,
    value: Annotated[str, Query(min_length=1, max_length=40, description="The identifier")],
    kind: Annotated[IdentifierKind | None, Query(description="Which kind (default: any)")] = None,
) -> IdentifierPage:
    result = call.service.lookup_identifier(
        call.user, call.purpose(), value, None if kind is None else kind.value
    )
    found = result.value
    items = [
        IdentifierHitOut.of(r, found.person_ids)
        for r in found.records
        if isinstance(r, MinimisedRecord)
    ]
    return IdentifierPage(
        items=items,
        count=len(items),
        audit_seq=result.audit_seq,
        kinds=[LookedUp(kind=k, value=v) for k, v in found.kinds],
    )


@router.get("/search/property", tags=["search"], summary="Search PNC property")
def search_property(
    call: ApiCall,
    serial: Annotated[str | None, Query(max_length=40)] = None,
    partial: Annotated[bool, Query(description="Serial may be part of the number")] = False,
    category: Text = None,
    make: Text = None,
    model: Text = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    limit: SearchLimit = 20,
    offset: Offset = 0,
) -> PropertyPage:
    query = PropertyQuery(
        serial=serial,
        partial=partial,
        category=category,
        make=make,
        model=model,
        status=status,
        limit=limit,
        offset=offset,
    )
    result = call.service.search_property(call.user, call.purpose(), query)
    found = result.value
    items = [PropertyHitOut.of(h) for h in found.hits if isinstance(h.record, MinimisedRecord)]
    params: dict[str, object] = {
        "serial": serial,
        "partial": partial or None,
        "category": category,
        "make": make,
        "model": model,
        "status": status,
    }
    more = offset + len(found.hits) < found.total
    return PropertyPage(
        items=items,
        count=len(items),
        audit_seq=result.audit_seq,
        next=_next("/search/property", params, limit, offset, more),
        total=found.total,
        truncated=found.truncated,
    )


@router.get("/search/text", tags=["search"], summary="Free text over intelligence reports")
def search_text(
    call: ApiCall,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=200,
            description='Words (all must occur), "phrases", word* prefixes, OR, -excluded',
        ),
    ],
    source_grade: Annotated[str | None, Query(pattern=r"^[1-3]$")] = None,
    intel_grade: Annotated[str | None, Query(pattern=r"^[A-E]$")] = None,
    handling: Annotated[str | None, Query(pattern=r"^[PC]$")] = None,
    limit: SearchLimit = 20,
    offset: Offset = 0,
) -> TextPage:
    query = TextQuery(
        text=q,
        source_grade=source_grade,
        intel_grade=intel_grade,
        handling=handling,
        limit=limit,
        offset=offset,
    )
    result = call.service.search_text(call.user, call.purpose(), query)
    found = result.value
    items = [TextHitOut.of(h) for h in found.hits if isinstance(h.record, MinimisedRecord)]
    params: dict[str, object] = {
        "q": q,
        "source_grade": source_grade,
        "intel_grade": intel_grade,
        "handling": handling,
    }
    more = offset + len(found.hits) < found.total
    return TextPage(
        items=items,
        count=len(items),
        audit_seq=result.audit_seq,
        next=_next("/search/text", params, limit, offset, more),
        total=found.total,
    )


# ---- consolidated views ------------------------------------------------------------------
PersonKey = Annotated[
    str,
    PathParam(
        min_length=1,
        max_length=20,
        pattern=r"^(L[0-9]{10}|R?[0-9]{1,18})$",
        description="Person id (L + 10 digits), R<record id> or record id",
    ),
]


@router.get("/persons/{key}", tags=["search"], summary="The consolidated person")
def show_person(
    call: ApiCall,
    key: PersonKey,
) -> Item[PersonViewOut]:
    result = call.service.show_person(call.user, call.purpose(), key)
    return Item.of(result, PersonViewOut.of(result.value))


@router.get("/vehicles/{vrm}", tags=["search"], summary="The consolidated vehicle")
def show_vehicle(
    call: ApiCall,
    vrm: Annotated[str, PathParam(min_length=1, max_length=10, pattern=r"^[A-Za-z0-9 ]+$")],
) -> Item[VehicleViewOut]:
    result = call.service.show_vehicle(call.user, call.purpose(), vrm)
    return Item.of(result, VehicleViewOut.of(result.value))


# ---- face search and human review --------------------------------------------------------
MAX_UPLOAD = 10 * 1024 * 1024  # bytes of one probe photo
SearchId = Annotated[int, PathParam(ge=1, le=2**62)]


def read_upload(
    upload: UploadFile, what: str = "photo", hint: str = "a JPEG or PNG file with a face"
) -> bytes:
    """The uploaded file's bytes, refused past :data:`MAX_UPLOAD` (read in 1 MB chunks) and
    when empty. ``what`` names the upload in the messages; ``hint`` says what to choose."""
    chunks: list[bytes] = []
    size = 0
    while chunk := upload.file.read(1024 * 1024):
        size += len(chunk)
        if size > MAX_UPLOAD:
            raise PayloadTooLarge(
                f"the {what} is larger than {MAX_UPLOAD // (1024 * 1024)} MB",
                hint="send a JPEG or PNG under 10 MB",
            )
        chunks.append(chunk)
    if not size:
        raise LedsError(f"the {what} is empty", hint=f"choose {hint}")
    return b"".join(chunks)


@router.post(
    "/biometrics/face/searches",
    tags=["biometrics"],
    status_code=201,
    summary="Search the face gallery with a photo (investigative lead only)",
)
def face_search(
    call: ApiCall,
    image: Annotated[UploadFile, File(description="The probe photo (JPEG or PNG, up to 10 MB)")],
    list_length: Annotated[int, Form(ge=2, le=50, description="Candidates (2-50)")] = 20,
) -> Item[CandidateListOut]:
    result = call.service.face_search(
        call.user, call.purpose(), read_upload(image), list_length=list_length
    )
    return Item.of(result, CandidateListOut.of(result.value))


@router.post(
    "/biometrics/face/quality",
    tags=["biometrics"],
    summary="Check a probe photo's quality before a face search (nothing is searched)",
)
def face_quality(
    call: ApiCall,
    image: Annotated[UploadFile, File(description="The probe photo (JPEG or PNG, up to 10 MB)")],
) -> Item[FaceQualityOut]:
    result = call.service.face_quality(call.user, call.purpose(), read_upload(image))
    return Item.of(result, FaceQualityOut.of(result.value))


@router.get(
    "/biometrics/searches/{search_id}", tags=["biometrics"], summary="Candidates and decisions"
)
def biometric_candidates(call: ApiCall, search_id: SearchId) -> Item[ReviewStateOut]:
    result = call.service.biometric_candidates(call.user, call.purpose(), search_id)
    return Item.of(result, ReviewStateOut.of(result.value))


@router.post(
    "/biometrics/searches/{search_id}/decisions",
    tags=["biometrics"],
    status_code=201,
    summary="Decide one candidate",
)
def biometric_decide(call: ApiCall, search_id: SearchId, body: DecideIn) -> Item[DecisionOut]:
    result = call.service.biometric_decide(
        call.user,
        call.purpose(body),
        search_id,
        body.rank,
        body.decision,
        body.rationale,
        second=body.second,
    )
    return Item.of(result, DecisionOut.of(result.value))


@router.post(
    "/biometrics/searches/{search_id}/close",
    tags=["biometrics"],
    summary="Close a search (every candidate decided)",
)
def biometric_close(
    call: ApiCall, search_id: SearchId, body: CloseIn | None = None
) -> Item[ClosedOut]:
    second = body.require_second_review if body else False
    result = call.service.biometric_close(
        call.user, call.purpose(body), search_id, require_second_review=second
    )
    return Item.of(result, ClosedOut.of(result.value))


class RecordFormat(StrEnum):
    json = "json"
    csv = "csv"


@router.get(
    "/biometrics/searches/{search_id}/record",
    tags=["biometrics"],
    summary="The search's decision record, JSON or CSV (recorded as a disclosure)",
    response_model=Item[DecisionRecordOut],
    responses={
        200: {
            "description": "JSON: the item envelope; CSV: the file, one row per candidate. "
            "`X-Leds-Audit-Seq` is the disclosure's audit entry, `X-Leds-Record-Sha256` the "
            "SHA-256 recorded in it (of the JSON or CSV file)",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
def biometric_record(
    call: ApiCall,
    search_id: SearchId,
    format: Annotated[RecordFormat, Query(description="json (default) or csv")] = RecordFormat.json,
) -> Response:
    """Probe hash and parameters, algorithm, threshold and its version, every candidate with
    its decisions, rationales, reviewers and times, every revision, the closure: open or
    closed searches. Recorded as a disclosure before it is sent; refused if not recorded."""
    result = call.service.biometric_record(call.user, call.purpose(), search_id, fmt=format.value)
    if result.value.format == "csv":
        return record_file(result)
    body = Item.of(result, DecisionRecordOut.of(result.value)).model_dump(mode="json")
    return JSONResponse(body, headers=_record_headers(result))


def _record_headers(result: Result[DecisionRecordFile]) -> dict[str, str]:
    return {
        "X-Leds-Audit-Seq": str(result.audit_seq),
        "X-Leds-Record-Sha256": result.value.sha256,
    }


def record_file(result: Result[DecisionRecordFile]) -> Response:
    """A decision record as a download: exactly the bytes whose SHA-256 the audit entry holds."""
    made = result.value
    name = made.filename(result.audit_seq)
    return Response(
        made.text,
        media_type=made.media_type,
        headers={
            **_record_headers(result),
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )


# ---- record linkage review ---------------------------------------------------------------
RecordRef = Annotated[
    str,
    Query(
        min_length=1,
        max_length=205,
        pattern=RECORD_REF,
        description="A person record: internal id, or source:source_record_id",
    ),
]


@router.get("/links/queue", tags=["linkage"], summary="Uncertain pairs, most uncertain first")
def link_review_queue(
    call: ApiCall, limit: SearchLimit = 50, offset: Offset = 0
) -> Page[ReviewItemOut]:
    result = call.service.link_review_queue(call.user, call.purpose(), limit, offset)
    items = [ReviewItemOut.of(i) for i in result.value]
    more = f"{PREFIX}/links/queue?limit={limit}&offset={offset + limit}"
    return Page.of(result, items, more if len(items) == limit else None)


@router.get("/links/explain", tags=["linkage"], summary="Why two records are (not) one person")
def link_explain(call: ApiCall, a: RecordRef, b: RecordRef) -> Item[ExplanationOut]:
    result = call.service.link_explain(call.user, call.purpose(), a, b)
    return Item.of(result, ExplanationOut.of(result.value))


@router.post(
    "/links/decisions", tags=["linkage"], status_code=201, summary="Decide a pair (applied at once)"
)
def link_decide(call: ApiCall, body: LinkDecideIn) -> Item[LinkDecisionOut]:
    result = call.service.link_decide(
        call.user, call.purpose(body), body.record_a, body.record_b, body.decision, body.reason
    )
    return Item.of(result, LinkDecisionOut.of(result.value))


@router.post(
    "/links/decisions/{decision_id}/undo", tags=["linkage"], summary="Undo a review decision"
)
def link_undo(
    call: ApiCall, decision_id: Annotated[int, PathParam(ge=1, le=2**62)], body: LinkUndoIn
) -> Item[LinkDecisionOut]:
    result = call.service.link_undo(call.user, call.purpose(body), decision_id, body.reason)
    return Item.of(result, LinkDecisionOut.of(result.value))
