"""The web UI: server-rendered pages (Jinja2 + htmx), one per screen, each over one service call.

Every page needs a signed-in session (:func:`signed_in`) and, for personal data, a purpose
chosen at the gate (:func:`with_purpose`); a page only renders its happy path: refusals,
missing records and bad input raise the service's errors, which the app renders as the page's
"refused" / "not found" / "error" state (:func:`error_page`) with the status of the API twin.
State-changing forms carry the session's CSRF token (checked by :func:`check_csrf`).

Adding a page (docs/interfaces.md): a template extending ``base.html``, and a route here::

    @router.get("/things", response_class=HTMLResponse)
    def things(request: Request, s: Purposeful) -> HTMLResponse:
        result = service(request).list_things(s.user, s.purpose)
        return render(request, "things.html", s, result, twin="/api/v1/things", items=...)
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from leds.api.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE, Authenticator, WebSession
from leds.api.schemas import AuditEntryOut, ImportOut, ProofOut, RecordOut, RejectionOut, VerifyOut
from leds.errors import LedsError, NotFound
from leds.governance.authn import AuthenticatedUser
from leds.governance.identity import PurposeStatement
from leds.model.codes import CASE_REQUIRED, Purpose, SourceSystem
from leds.service import Result, Service

HERE = Path(__file__).parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")

PURPOSE_LABELS: dict[str, str] = {
    "stop": "Stop or search of a person or vehicle",
    "process-warning": "Processing a warning or marker",
    "accident": "Road traffic collision",
    "arrest": "Arrest (case reference needed)",
    "unattended-vehicle": "Unattended or abandoned vehicle",
    "crime": "Crime investigation (case reference needed)",
    "admin-process": "Administration of the service",
    "admin-licensing": "Driver and vehicle licensing",
    "crime-support": "Crime support and analysis (case reference needed)",
    "intelligence": "Intelligence (case reference needed)",
    "safeguarding": "Safeguarding a person at risk",
    "immigration": "Immigration enforcement",
    "oversight": "Independent oversight and audit",
}
STATUS_TITLES = {
    400: "Cannot do that",
    401: "Sign in needed",
    403: "Refused",
    404: "Not found",
    409: "Conflict",
    422: "Check the input",
    503: "Not recorded, so refused",
}

router = APIRouter(include_in_schema=False)


class Redirect(Exception):
    """Raised by a page dependency to send the browser elsewhere (sign-in, purpose gate)."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def service(request: Request) -> Service:
    auth: Authenticator = request.app.state.auth
    return auth.service


def _here(request: Request) -> str:
    path = request.url.path
    return path + (f"?{request.url.query}" if request.url.query else "")


def signed_in(request: Request) -> WebSession:
    auth: Authenticator = request.app.state.auth
    session = auth.session(request)
    if session is None:
        raise Redirect(f"/login?next={quote(_here(request), safe='')}")
    return session


@dataclass(frozen=True, slots=True)
class Visit:
    """A signed-in session past the purpose gate: who, and the purpose every call records."""

    session: WebSession
    purpose: PurposeStatement

    @property
    def user(self) -> AuthenticatedUser:
        return self.session.user


def with_purpose(session: Annotated[WebSession, Depends(signed_in)], request: Request) -> Visit:
    if session.purpose is None:
        raise Redirect(f"/purpose?next={quote(_here(request), safe='')}")
    return Visit(session, session.purpose)


SignedIn = Annotated[WebSession, Depends(signed_in)]
Purposeful = Annotated[Visit, Depends(with_purpose)]


def check_csrf(request: Request, session: WebSession, field: str | None) -> None:
    presented = field or request.headers.get("x-csrf-token")
    if not session.csrf_ok(presented):
        raise LedsError(
            "the form has expired or did not come from this site", hint="reload the page"
        )


def _safe_next(target: str | None, default: str = "/search") -> str:
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def _vendor() -> dict[str, bool]:
    vendor = STATIC / "vendor"
    return {"htmx": (vendor / "htmx.min.js").exists()}


def render(
    request: Request,
    template: str,
    who: WebSession | Visit | None,
    result: Result[Any] | None = None,
    *,
    twin: str | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a page: the session (header, purpose banner, CSRF), the audit entry that
    recorded what is shown (``result.audit_seq``) and the link to the JSON twin."""
    session = who.session if isinstance(who, Visit) else who
    return templates.TemplateResponse(
        request,
        template,
        {
            "session": session,
            "audit_seq": result.audit_seq if result is not None else None,
            "twin": twin,
            "vendor": _vendor(),
            "purposes": PURPOSE_LABELS,
            "fragment": request.headers.get("hx-request") == "true",
            **context,
        },
        status_code=status,
    )


def error_page(request: Request, status: int, message: str, hint: str | None) -> HTMLResponse:
    """The refused / not found / error state of any page (the app's error handlers call it)."""
    auth: Authenticator | None = getattr(request.app.state, "auth", None)
    session = auth.session(request) if auth is not None else None
    title = STATUS_TITLES.get(status, "Something went wrong")
    return render(
        request,
        "error.html",
        session,
        status=status,
        title=title,
        message=message,
        hint=hint,
        code=status,
    )


async def _redirect(request: Request, exc: Exception) -> Response:
    location = exc.location if isinstance(exc, Redirect) else "/"
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def install(app: FastAPI) -> None:
    """Give the app the page routes' redirect handler (called by create_app)."""
    app.add_exception_handler(Redirect, _redirect)


# ---- sign-in and the purpose gate --------------------------------------------------------
@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    auth: Authenticator = request.app.state.auth
    return RedirectResponse("/search" if auth.session(request) else "/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", None, login_csrf=token, next=_safe_next(next))
    _cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=1800)
    return response


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    user_id: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/search",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        return _login_again(request, next, "The sign-in form expired; please try again.")
    auth: Authenticator = request.app.state.auth
    try:
        user = auth.service.login(user_id, password)
    except LedsError as exc:
        return _login_again(request, next, exc.message, user_id=user_id)
    old = request.cookies.get(SESSION_COOKIE)
    auth.sessions.drop(old)
    session = auth.sessions.create(user, user_id.strip())
    target = f"/purpose?next={quote(_safe_next(next), safe='')}"
    response = RedirectResponse(target, status_code=303)
    _cookie(request, response, SESSION_COOKIE, session.sid, max_age=None)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


def _login_again(request: Request, next: str, error: str, user_id: str = "") -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        None,
        status=401,
        login_csrf=token,
        next=_safe_next(next),
        error=error,
        user_id=user_id,
    )
    _cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=1800)
    return response


def _cookie(
    request: Request, response: Response, name: str, value: str, *, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=bool(request.app.state.secure_cookies),
    )


@router.post("/logout")
def logout(
    request: Request, session: SignedIn, csrf_token: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    check_csrf(request, session, csrf_token)
    auth: Authenticator = request.app.state.auth
    auth.sessions.drop(session.sid)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/purpose", response_class=HTMLResponse)
def purpose_form(request: Request, session: SignedIn, next: str | None = None) -> HTMLResponse:
    return render(
        request,
        "purpose.html",
        session,
        next=_safe_next(next),
        case_required=sorted(p.value for p in CASE_REQUIRED),
    )


@router.post("/purpose", response_class=HTMLResponse)
def purpose_set(
    request: Request,
    session: SignedIn,
    purpose: Annotated[str, Form(max_length=40)] = "",
    justification: Annotated[str, Form(max_length=2000)] = "",
    case_ref: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/search",
) -> Response:
    check_csrf(request, session, csrf_token)
    try:
        statement = PurposeStatement.of(purpose, justification, case_ref)
    except LedsError as exc:
        return render(
            request,
            "purpose.html",
            session,
            status=400,
            next=_safe_next(next),
            error=exc.message,
            hint=exc.hint,
            form={"purpose": purpose, "justification": justification, "case_ref": case_ref},
            case_required=sorted(p.value for p in CASE_REQUIRED),
        )
    session.purpose = statement
    return RedirectResponse(_safe_next(next), status_code=303)


# ---- search (shell: results arrive with the search capability) ---------------------------
SEARCH_TABS = ("person", "vehicle", "face", "fingerprint", "text")


@router.get("/search", response_class=HTMLResponse)
def search(
    request: Request,
    session: Purposeful,
    tab: Annotated[str, Query(max_length=20)] = "person",
) -> HTMLResponse:
    tab = tab if tab in SEARCH_TABS else "person"
    asked = {k: v for k, v in request.query_params.items() if k != "tab" and v.strip()}
    return render(
        request,
        "search.html",
        session,
        tab=tab,
        tabs=SEARCH_TABS,
        asked=asked,
        available=False,
    )


# ---- sources: imports and rejected rows (steward) ----------------------------------------
@router.get("/imports", response_class=HTMLResponse)
def imports(
    request: Request, s: Purposeful, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> HTMLResponse:
    result = service(request).list_imports(s.user, s.purpose, limit)
    counts = sorted(result.value.counts.items())
    return render(
        request,
        "imports.html",
        s,
        result,
        twin=f"/api/v1/imports?limit={limit}",
        imports=[ImportOut.of(i) for i in result.value.imports],
        counts=[{"source": k[0], "kind": k[1], "records": n} for k, n in counts],
    )


@router.get("/imports/{import_id}/rejections", response_class=HTMLResponse)
def rejections(
    request: Request,
    s: Purposeful,
    import_id: int,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    result = service(request).list_rejections(
        s.user,
        s.purpose,
        import_id,
        limit,
        offset,
    )
    rows = [RejectionOut.of(r) for r in result.value]
    more = f"/imports/{import_id}/rejections?limit={limit}&offset={offset + limit}"
    return render(
        request,
        "rejections.html",
        s,
        result,
        twin=f"/api/v1/imports/{import_id}/rejections?limit={limit}&offset={offset}",
        import_id=import_id,
        rows=rows,
        offset=offset,
        next_page=more if len(rows) == limit else None,
    )


# ---- records -----------------------------------------------------------------------------
@router.get("/records", response_class=HTMLResponse)
def record_lookup(
    request: Request,
    s: Purposeful,
    source: Annotated[str, Query(max_length=20)] = "",
    kind: Annotated[str, Query(max_length=200)] = "",
    record_id: Annotated[str, Query(alias="id", max_length=200)] = "",
) -> Response:
    if source and kind.strip() and record_id.strip():
        target = f"/records/{quote(source, safe='')}/{quote(kind.strip(), safe='')}/"
        return RedirectResponse(target + quote(record_id.strip(), safe=""), status_code=303)
    return render(
        request,
        "record_lookup.html",
        s,
        sources=[x.value for x in SourceSystem],
        form={"source": source, "kind": kind, "id": record_id},
    )


@router.get("/records/{source}/{kind}/{record_id:path}", response_class=HTMLResponse)
def record(
    request: Request,
    s: Purposeful,
    source: str,
    kind: str,
    record_id: str,
    sensitive: Annotated[str | None, Query(max_length=2000)] = None,
) -> HTMLResponse:
    sensitive = sensitive.strip() if sensitive and sensitive.strip() else None
    result = service(request).read_record(
        s.user,
        s.purpose,
        source,
        kind,
        record_id,
        sensitive=sensitive,
    )
    twin = f"/api/v1/records/{quote(source)}/{quote(kind)}/{quote(record_id, safe='')}"
    return render(
        request,
        "record.html",
        s,
        result,
        twin=twin,
        record=RecordOut.of(result.value),
        sensitive=sensitive,
    )


# ---- audit and oversight (auditors) ------------------------------------------------------
@router.get("/audit", response_class=HTMLResponse)
def audit(
    request: Request,
    s: Purposeful,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> HTMLResponse:
    result = service(request).audit_log(s.user, s.purpose, after, limit)
    entries = [AuditEntryOut.of(e) for e in result.value]
    next_page = f"/audit?after={entries[-1].seq}&limit={limit}" if len(entries) == limit else None
    return render(
        request,
        "audit.html",
        s,
        result,
        twin=f"/api/v1/audit/entries?after={after}&limit={limit}",
        entries=entries,
        after=after,
        next_page=next_page,
    )


@router.post("/audit/verify", response_class=HTMLResponse)
def audit_verify(
    request: Request, s: Purposeful, csrf_token: Annotated[str, Form(max_length=200)] = ""
) -> HTMLResponse:
    check_csrf(request, s.session, csrf_token)
    result = service(request).verify_audit(s.user, s.purpose)
    return render(request, "audit_verify.html", s, result, report=VerifyOut.of(result.value))


@router.get("/audit/proofs/{seq}", response_class=HTMLResponse)
def audit_proof(request: Request, s: Purposeful, seq: int) -> HTMLResponse:
    try:
        result = service(request).prove_audit(s.user, s.purpose, seq)
    except LedsError as exc:
        if type(exc) is LedsError:
            raise NotFound(exc.message, hint=exc.hint) from None
        raise
    return render(
        request,
        "audit_proof.html",
        s,
        result,
        twin=f"/api/v1/audit/proofs/{seq}",
        proof=ProofOut.of(result.value),
    )


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    """A readable API reference built from the OpenAPI document (works offline)."""
    auth: Authenticator = request.app.state.auth
    return render(request, "api_docs.html", auth.session(request), spec=request.app.openapi())


__all__ = ["STATIC", "Purpose", "error_page", "install", "router"]
