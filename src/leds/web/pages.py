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

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from leds.api.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE, Authenticator, WebSession
from leds.api.errors import status_of
from leds.api.routes import MAX_UPLOAD, read_upload
from leds.api.schemas import ImportOut, ProofOut, RecordOut, RejectionOut, VerifyOut
from leds.api.schemas_search import (
    ExplanationOut,
    IdentifierHitOut,
    PersonViewOut,
    PropertyHitOut,
    ReviewItemOut,
    TextHitOut,
    VehicleViewOut,
)
from leds.errors import AccessDenied, LedsError, NotFound
from leds.governance.authn import AuthenticatedUser
from leds.governance.identity import PurposeStatement
from leds.model.codes import CASE_REQUIRED, Purpose, SourceSystem
from leds.search.property import PropertyQuery
from leds.search.text import TextQuery
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
    auth: Authenticator = request.app.state.auth
    auth.sessions.set_purpose(session, statement)
    return RedirectResponse(_safe_next(next), status_code=303)


# ---- search: person, vehicle, identifier, property, free text ---------------------------
SEARCH_TABS = ("person", "vehicle", "identifier", "property", "text", "face", "fingerprint")
TAB_LABELS = {
    "person": "Person",
    "vehicle": "Vehicle",
    "identifier": "Identifier",
    "property": "Property",
    "text": "Free text",
    "face": "Face",
    "fingerprint": "Fingerprint",
}
PAGE_SIZE = 20
TOO_MANY = 200  # more persons than this: suggest narrowing


class SearchInputError(LedsError):
    """A search form field that cannot be read (a date, a range)."""


_YEAR_RANGE = re.compile(r"^(\d{4})\s*(?:-|to)\s*(\d{4})$")
_AGE_RANGE = re.compile(r"^(\d{1,3})\s*(?:-|to)\s*(\d{1,3})$")


def _dob_fields(text: str) -> dict[str, Any]:
    """``1984-03-02`` (a date), ``1984`` (a year) or ``1980-1985`` (a year range)."""
    text = text.strip()
    if not text:
        return {}
    if re.fullmatch(r"\d{4}", text):
        return {"year": int(text)}
    ranged = _YEAR_RANGE.match(text)
    if ranged:
        lo, hi = sorted((int(ranged.group(1)), int(ranged.group(2))))
        return {"dob_from": date(lo, 1, 1), "dob_to": date(hi, 12, 31)}
    try:
        return {"dob": date.fromisoformat(text)}
    except ValueError:
        pass
    raise SearchInputError(
        f"cannot read the date of birth {text!r}",
        hint="give a date (1984-03-02), a year (1984) or a year range (1980-1985)",
    )


def _age_fields(text: str) -> dict[str, Any]:
    text = text.strip()
    if not text:
        return {}
    if re.fullmatch(r"\d{1,3}", text):
        return {"age_from": int(text), "age_to": int(text)}
    ranged = _AGE_RANGE.match(text)
    if not ranged:
        raise SearchInputError(
            f"cannot read the age range {text!r}", hint="give an age (34) or a range (30-40)"
        )
    lo, hi = sorted((int(ranged.group(1)), int(ranged.group(2))))
    return {"age_from": lo, "age_to": hi}


def _offset(asked: dict[str, str]) -> int:
    raw = asked.get("offset", "0")
    return max(0, min(int(raw), 10_000)) if raw.isdigit() else 0


def _text(asked: dict[str, str], key: str) -> str | None:
    value = asked.get(key, "").strip()
    return value or None


def _run_person(request: Request, s: Visit, asked: dict[str, str]) -> dict[str, Any]:
    from leds.web.pages_results import run_person  # the results screen: facets, sort, export

    return run_person(request, s, asked)


def _run_vehicle(request: Request, s: Visit, asked: dict[str, str]) -> dict[str, Any]:
    from leds.web.pages_results import run_vehicle  # the results screen: facets, sort, export

    return run_vehicle(request, s, asked)


def _run_identifier(request: Request, s: Visit, asked: dict[str, str]) -> dict[str, Any]:
    value = asked.get("value", "").strip()
    kind = _text(asked, "kind")
    result = service(request).lookup_identifier(s.user, s.purpose, value, kind)
    found = result.value
    rows = [IdentifierHitOut.of(r, found.person_ids) for r in found.records]
    params = {"value": value, **({"kind": kind} if kind else {})}
    return {
        "result": result,
        "twin": "/api/v1/search/identifiers?" + urlencode(params),
        "records": rows,
        "total": len(rows),
        "understood": {f"{k} (as checked)": v for k, v in found.kinds},
    }


def _run_property(request: Request, s: Visit, asked: dict[str, str]) -> dict[str, Any]:
    query = PropertyQuery(
        serial=_text(asked, "serial"),
        partial=asked.get("partial") == "on",
        category=_text(asked, "category"),
        make=_text(asked, "make"),
        status=_text(asked, "status"),
        limit=PAGE_SIZE,
        offset=_offset(asked),
    )
    result = service(request).search_property(s.user, s.purpose, query)
    found = result.value
    keys = ("serial", "category", "make", "status")
    params: dict[str, Any] = {k: getattr(query, k) for k in keys if getattr(query, k)}
    if query.partial:
        params["partial"] = "true"
    return {
        "result": result,
        "twin": "/api/v1/search/property?" + urlencode({**params, "offset": query.offset}),
        "items": [PropertyHitOut.of(h) for h in found.hits],
        "total": found.total,
        "too_many": found.truncated,
        "understood": _understood(params),
    }


def _run_text(request: Request, s: Visit, asked: dict[str, str]) -> dict[str, Any]:
    query = TextQuery(
        text=asked.get("q", "").strip(),
        source_grade=_text(asked, "source_grade"),
        intel_grade=_text(asked, "intel_grade"),
        handling=_text(asked, "handling"),
        limit=PAGE_SIZE,
        offset=_offset(asked),
    )
    result = service(request).search_text(s.user, s.purpose, query)
    found = result.value
    keys = ("source_grade", "intel_grade", "handling")
    params = {"q": query.text, **{k: getattr(query, k) for k in keys if getattr(query, k)}}
    return {
        "result": result,
        "twin": "/api/v1/search/text?" + urlencode({**params, "offset": query.offset}),
        "items": [TextHitOut.of(h) for h in found.hits],
        "total": found.total,
        "understood": _understood(params),
    }


def _source_choices(request: Request, s: Visit, asked: dict[str, str]) -> list[dict[str, Any]]:
    from leds.web.pages_results import source_choices  # only the sources the user may search

    return source_choices(request, s, asked)


def _shaping(tab: str) -> tuple[str, ...]:
    """Query-string keys that shape a tab's result without being a search criterion."""
    from leds.web.pages_results import SHAPING, VEHICLE_SHAPING

    return {"person": SHAPING, "vehicle": VEHICLE_SHAPING}.get(tab, ("offset", "mode", "sort"))


def _understood(params: dict[str, Any]) -> dict[str, str]:
    return {k.replace("_", " "): str(v) for k, v in params.items()}


RUNNERS = {
    "person": _run_person,
    "vehicle": _run_vehicle,
    "identifier": _run_identifier,
    "property": _run_property,
    "text": _run_text,
}


@router.get("/search", response_class=HTMLResponse)
def search(
    request: Request,
    s: Purposeful,
    tab: Annotated[str, Query(max_length=20)] = "person",
) -> HTMLResponse:
    tab = tab if tab in SEARCH_TABS else "person"
    asked = {
        k: v.strip()[:200]
        for k, v in request.query_params.items()
        if k not in ("tab",) and v.strip()
    }
    shaping = _shaping(tab)
    choices = _source_choices(request, s, asked) if tab == "person" else []
    criteria = {k: v for k, v in asked.items() if k not in shaping}
    context: dict[str, Any] = {}
    result: Result[Any] | None = None
    status = 200
    if criteria and tab in RUNNERS:
        try:
            context = RUNNERS[tab](request, s, asked)
        except (AccessDenied, NotFound):
            raise  # the refused / not found state of the page, rendered by the app
        except LedsError as exc:  # a query the search cannot answer: say what to change
            status = status_of(exc)
            context = {"problem": exc.message, "problem_hint": exc.hint}
            meant = re.fullmatch(r"did you mean (\S+)\?", exc.hint or "")
            if meant and tab == "identifier":
                again = {**asked, "value": meant.group(1)}
                context["suggestion"] = (
                    meant.group(1),
                    "/search?" + urlencode({"tab": tab, **again}),
                )
        result = context.pop("result", None)
        offset = _offset(asked)
        base = {k: v for k, v in asked.items() if k != "offset"}
        total = context.get("total", 0)
        shown = len(context.get("hits") or context.get("vehicles") or context.get("items") or ())
        if offset > 0:
            context["prev_page"] = "/search?" + urlencode(
                {"tab": tab, **base, "offset": max(0, offset - PAGE_SIZE)}
            )
        if tab != "identifier" and offset + shown < total:
            context["next_page"] = "/search?" + urlencode(
                {"tab": tab, **base, "offset": offset + PAGE_SIZE}
            )
        context["offset"] = offset
    return render(
        request,
        "search.html",
        s,
        result,
        status=status,
        tab=tab,
        tabs=SEARCH_TABS,
        tab_labels=TAB_LABELS,
        asked=asked,
        source_choices=choices,
        searched=bool(criteria) and tab in RUNNERS,
        **context,
    )


# ---- consolidated person and vehicle ----------------------------------------------------
@router.get("/persons/{key}", response_class=HTMLResponse)
def person(request: Request, s: Purposeful, key: str) -> HTMLResponse:
    from leds.web.pages_panels import overview_panels  # linkage panel, "viewed by"

    result = service(request).show_person(s.user, s.purpose, key)
    view = PersonViewOut.of(result.value)
    return render(
        request,
        "person.html",
        s,
        result,
        twin=f"/api/v1/persons/{quote(key, safe='')}",
        p=view,
        **overview_panels(request, s, view),
    )


@router.get("/vehicles/{vrm}", response_class=HTMLResponse)
def vehicle(request: Request, s: Purposeful, vrm: str) -> HTMLResponse:
    result = service(request).show_vehicle(s.user, s.purpose, vrm)
    view = VehicleViewOut.of(result.value)
    return render(
        request,
        "vehicle.html",
        s,
        result,
        twin=f"/api/v1/vehicles/{quote(vrm, safe='')}",
        v=view,
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
# GET /audit (filtered entries, integrity status, exports): leds.web.pages_audit
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


# ---- face search and candidate review ---------------------------------------------------
@router.get("/faces", response_class=HTMLResponse)
def face_form(request: Request, s: Purposeful) -> HTMLResponse:
    return render(request, "face_search.html", s, max_mb=MAX_UPLOAD // (1024 * 1024))


@router.post("/faces/quality", response_class=HTMLResponse)
def face_quality(
    request: Request,
    s: Purposeful,
    image: Annotated[UploadFile, File()],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse:
    """The probe's quality before the search: a fragment for the upload form's script
    (``static/face-search.js``), a page when the form's "Check quality" button posts without
    JavaScript. Bad images render the error state (the search's errors)."""
    check_csrf(request, s.session, csrf_token)
    result = service(request).face_quality(s.user, s.purpose, read_upload(image))
    return render(request, "face_quality.html", s, result, checked=result.value)


BIOMETRIC_DECISIONS = ("possible-match", "not-a-match", "inconclusive")


def add_review_routes(
    target: APIRouter,
    base: str,
    label: str,
    search: str,
    read: Callable[[UploadFile], bytes],
) -> None:
    """A 1:N search and its candidate review under ``base`` (``/faces``, ``/fingerprints``):
    the upload (``POST base``, the probe read by ``read`` and searched by the service's
    ``search`` operation), the ranked list, a decision per candidate (first or second
    review), the closing, post/redirect/get, and the decision record's download
    (``GET base/{id}/record?format=json|csv``); one review template (``face_review.html``)
    for every modality, its context from :mod:`leds.web.pages_review`."""

    @target.post(base, response_class=HTMLResponse)
    def run_search(
        request: Request,
        s: Purposeful,
        image: Annotated[UploadFile, File()],
        list_length: Annotated[int, Form(ge=2, le=50)] = 20,
        csrf_token: Annotated[str, Form(max_length=200)] = "",
    ) -> Response:
        check_csrf(request, s.session, csrf_token)
        operation = getattr(service(request), search)
        result = operation(s.user, s.purpose, read(image), list_length=list_length)
        return RedirectResponse(f"{base}/{result.value.search_id}", status_code=303)

    @target.get(base + "/{search_id}", response_class=HTMLResponse)
    def review(request: Request, s: Purposeful, search_id: int) -> HTMLResponse:
        from leds.web.pages_review import identity_hidden, review_context

        hidden = identity_hidden(request)  # a wrong setting refuses before anything is read
        result = service(request).biometric_candidates(s.user, s.purpose, search_id)
        return render(
            request,
            "face_review.html",
            s,
            result,
            twin=f"/api/v1/biometrics/searches/{search_id}",
            decisions=BIOMETRIC_DECISIONS,
            **review_context(s, result, base, label, hidden=hidden),
        )

    @target.get(base + "/{search_id}/record")
    def record(
        request: Request,
        s: Purposeful,
        search_id: int,
        format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
    ) -> Response:
        from leds.web.pages_review import record_download

        return record_download(request, s, search_id, format)

    @target.post(base + "/{search_id}/decisions", response_class=HTMLResponse)
    def decide(
        request: Request,
        s: Purposeful,
        search_id: int,
        rank: Annotated[int, Form(ge=1, le=50)],
        decision: Annotated[str, Form(max_length=40)],
        rationale: Annotated[str, Form(max_length=2000)] = "",
        second: Annotated[str, Form(max_length=10)] = "",
        csrf_token: Annotated[str, Form(max_length=200)] = "",
    ) -> Response:
        check_csrf(request, s.session, csrf_token)
        service(request).biometric_decide(
            s.user, s.purpose, search_id, rank, decision, rationale, second=second == "on"
        )
        return RedirectResponse(f"{base}/{search_id}#rank-{rank}", status_code=303)

    @target.post(base + "/{search_id}/close", response_class=HTMLResponse)
    def close(
        request: Request,
        s: Purposeful,
        search_id: int,
        require_second_review: Annotated[str, Form(max_length=10)] = "",
        csrf_token: Annotated[str, Form(max_length=200)] = "",
    ) -> Response:
        check_csrf(request, s.session, csrf_token)
        service(request).biometric_close(
            s.user, s.purpose, search_id, require_second_review=require_second_review == "on"
        )
        return RedirectResponse(f"{base}/{search_id}", status_code=303)


add_review_routes(router, "/faces", "Face search", "face_search", read_upload)


# ---- record linkage review (data stewards) ----------------------------------------------
LINK_DECISIONS = (("match", "Match"), ("not-a-match", "Not a match"), ("unsure", "Unsure"))


@router.get("/links", response_class=HTMLResponse)
def link_queue(
    request: Request,
    s: Purposeful,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
    decided: Annotated[int | None, Query(ge=1)] = None,
    undone: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    result = service(request).link_review_queue(s.user, s.purpose, 50, offset)
    items = [ReviewItemOut.of(i) for i in result.value]
    return render(
        request,
        "link_queue.html",
        s,
        result,
        twin=f"/api/v1/links/queue?limit=50&offset={offset}",
        items=items,
        offset=offset,
        next_page=f"/links?offset={offset + 50}" if len(items) == 50 else None,
        decided=decided,
        undone=undone,
        choices=LINK_DECISIONS,
    )


@router.get("/links/explain", response_class=HTMLResponse)
def link_explain(
    request: Request,
    s: Purposeful,
    a: Annotated[str, Query(max_length=205)],
    b: Annotated[str, Query(max_length=205)],
) -> HTMLResponse:
    result = service(request).link_explain(s.user, s.purpose, a, b)
    return render(
        request,
        "link_explain.html",
        s,
        result,
        twin="/api/v1/links/explain?" + urlencode({"a": a, "b": b}),
        x=ExplanationOut.of(result.value),
        a=a,
        b=b,
        choices=LINK_DECISIONS,
    )


@router.post("/links/decisions", response_class=HTMLResponse)
def link_decide(
    request: Request,
    s: Purposeful,
    record_a: Annotated[str, Form(max_length=205)],
    record_b: Annotated[str, Form(max_length=205)],
    decision: Annotated[str, Form(max_length=20)],
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    check_csrf(request, s.session, csrf_token)
    if len(reason.split()) < 3:
        raise LedsError("a link decision needs a reason", hint="give a reason of at least 3 words")
    made = service(request).link_decide(s.user, s.purpose, record_a, record_b, decision, reason)
    back = _safe_next(next, "/links")  # e.g. the person page's linkage panel
    sep = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{sep}decided={made.value.id}", status_code=303)


@router.post("/links/decisions/{decision_id}/undo", response_class=HTMLResponse)
def link_undo(
    request: Request,
    s: Purposeful,
    decision_id: int,
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check_csrf(request, s.session, csrf_token)
    service(request).link_undo(s.user, s.purpose, decision_id, reason)
    return RedirectResponse(f"/links?undone={decision_id}", status_code=303)
