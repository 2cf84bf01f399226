"""The FastAPI application: the REST API (``/api/v1``), its OpenAPI 3.1 document
(``/openapi.json``, readable at ``/api/docs``) and the web UI (``/``), over one service."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leds.api.auth import Authenticator, SessionStore
from leds.api.errors import envelope, from_error
from leds.api.routes import PREFIX, router
from leds.api.routes_audit import router as audit_api
from leds.api.routes_fingerprint import router as fingerprint_api
from leds.api.routes_panels import router as panels_api
from leds.api.routes_person import router as person_router
from leds.api.routes_quality import router as quality_api
from leds.config import data_dir
from leds.errors import LedsError
from leds.governance.oidc import OidcSettings, OidcVerifier
from leds.service import Service

log = logging.getLogger("leds.api")

ServiceSource = Service | Callable[[], Service] | None

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ),
}


def create_app(
    service: ServiceSource = None,
    *,
    data: Path | None = None,
    store_url: str | None = None,
    oidc: OidcSettings | None = None,
    import_root: Path | None = None,
    secure_cookies: bool = False,
) -> FastAPI:
    """The leds web application.

    ``service``: a :class:`Service` to use (the caller closes it), or a factory called at
    start-up (its service is closed at shut-down), or None to open ``data``/``store_url``
    (as the CLI does) with group commit for concurrent requests. ``oidc``: accept OIDC access
    tokens from that identity provider as bearer tokens. ``import_root``: the folder
    ``POST /api/v1/imports`` paths are relative to (default: the data directory).
    ``secure_cookies``: mark cookies Secure (set it when served over HTTPS).
    """
    from leds.web.pages import STATIC
    from leds.web.pages import install as install_pages
    from leds.web.pages import router as pages
    from leds.web.pages_audit import router as audit_pages
    from leds.web.pages_fingerprint import router as fingerprint_pages
    from leds.web.pages_panels import router as panel_pages
    from leds.web.pages_person import router as person_pages
    from leds.web.pages_quality import router as quality_pages
    from leds.web.pages_results import router as results_pages

    def install(app: FastAPI, svc: Service) -> None:
        verifier = OidcVerifier(oidc) if oidc is not None else None
        app.state.auth = Authenticator(svc, SessionStore(svc), verifier)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if isinstance(service, Service):
            yield
            return
        opened = (
            service() if service is not None else Service.open(data, store_url, group_commit=True)
        )
        install(app, opened)
        try:
            yield
        finally:
            opened.close()

    app = FastAPI(
        title="leds",
        summary="Law Enforcement Data Service (synthetic data only). Access is recorded.",
        description=(
            "Every data request needs credentials (bearer token) and a purpose: headers "
            "`X-Leds-Purpose`, `X-Leds-Justification` (at least 3 words) and, for crime, "
            "arrest, intelligence and crime-support, `X-Leds-Case` (or the same fields in a "
            "JSON body). Every data response carries `audit_seq`, the sequence number of the "
            'audit entry that recorded it. Errors: `{"error": {status, code, message, hint}}`.'
        ),
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.import_root = import_root or data_dir(data)
    app.state.secure_cookies = secure_cookies
    if isinstance(service, Service):
        install(app, service)
    app.include_router(router)
    app.include_router(person_router)
    app.include_router(panels_api)
    app.include_router(audit_api)
    app.include_router(fingerprint_api)
    app.include_router(quality_api)
    app.include_router(audit_pages)  # before pages: /audit is served here
    app.include_router(fingerprint_pages)
    app.include_router(pages)
    app.include_router(results_pages)
    app.include_router(person_pages)
    app.include_router(panel_pages)
    app.include_router(quality_pages)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _handlers(app)
    install_pages(app)

    app.add_middleware(SecurityHeaders)
    return app


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every HTTP response that does not set them itself.

    A pure ASGI middleware: it edits the response's start message as it passes, with no extra
    task or body stream per request (``@app.middleware("http")`` costs both)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in SECURITY_HEADERS.items():
                    if key not in headers:
                        headers[key] = value
            await send(message)

        await self.app(scope, receive, with_headers)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(PREFIX)


def _json(
    status: int,
    code: str,
    message: str,
    hint: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = envelope(status, code, message, hint).model_dump()
    sent = dict(headers or {})
    if status == 401:
        sent["WWW-Authenticate"] = 'Bearer realm="leds"'
    return JSONResponse(body, status_code=status, headers=sent)


def _allowed(request: Request) -> list[str]:
    """The methods the OpenAPI document gives for the request's path (for a 405's Allow:
    Starlette names only the first route that matched the path)."""
    patterns: list[tuple[re.Pattern[str], list[str]]] | None = getattr(
        request.app.state, "allow_patterns", None
    )
    if patterns is None:
        patterns = []
        for template, ops in request.app.openapi()["paths"].items():
            regex = re.escape(template).replace(r"\{record_id\}", ".+")  # ids hold "/"
            regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", regex)
            patterns.append((re.compile(f"^{regex}$"), sorted(m.upper() for m in ops)))
        request.app.state.allow_patterns = patterns
    path = request.url.path
    return sorted({m for pattern, methods in patterns if pattern.match(path) for m in methods})


def _handlers(app: FastAPI) -> None:
    from leds.web.pages import error_page as render_error

    async def error_page(request: Request, status: int, message: str, hint: str | None) -> Response:
        # The page names the signed-in user, whose session is read from the store: off the loop.
        return await run_in_threadpool(render_error, request, status, message, hint)

    @app.exception_handler(LedsError)
    async def leds_error(request: Request, exc: LedsError) -> Response:
        err = from_error(exc)
        if not _is_api(request):
            return await error_page(request, err.error.status, exc.message, exc.hint)
        return _json(err.error.status, err.error.code, exc.message, exc.hint)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        auth: Authenticator = request.app.state.auth
        if _is_api(request) and not await run_in_threadpool(auth.is_authenticated, request):
            # Credentials are checked before anything else: never 422 without them.
            return _json(401, "authentication_failed", "sign in first",
                         "send 'Authorization: Bearer <token>'")  # fmt: skip
        problems = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error.get("loc", ()))
            problems.append(f"{where}: {error.get('msg', 'invalid')}")
        message = "; ".join(problems) or "invalid request"
        if not _is_api(request):
            return await error_page(request, 422, message, None)
        return _json(422, "invalid_request", message, "see /openapi.json for the schema")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = str(exc.detail)
        if not _is_api(request):
            return await error_page(request, exc.status_code, message, None)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed(request))
        return _json(exc.status_code, "http_error", message, headers=headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        message = "internal error; it has been logged"
        if not _is_api(request):
            return await error_page(request, 500, message, None)
        return _json(500, "internal_error", message)


SERVE_DATA_ENV = "LEDS_SERVE_DATA"
SERVE_STORE_ENV = "LEDS_SERVE_STORE"


def app_from_environment() -> FastAPI:
    """The app of one process of ``leds serve --workers N`` (uvicorn imports it by name in
    each worker): the store named by ``LEDS_SERVE_DATA`` / ``LEDS_SERVE_STORE``."""
    data = os.environ.get(SERVE_DATA_ENV)
    store_url = os.environ.get(SERVE_STORE_ENV) or None
    return create_app(data=Path(data) if data else None, store_url=store_url)


def serve(
    data: Path | None = None,
    store_url: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    oidc: OidcSettings | None = None,
    access_log: bool = True,
    workers: int = 1,
) -> None:
    """Run the API and web UI with uvicorn until interrupted (what ``leds serve`` calls).

    Requests run in each process's thread pool and their audit entries are group-committed.
    With ``workers`` > 1, that many processes share the port: web sessions and API tokens live
    in the store and each audit append reads the log's head inside its own transaction, so the
    processes serve the same users and write one log (the store is migrated and the log's
    signing key made once, first)."""
    import uvicorn

    from leds.biometrics.fingerprint.gallery import warm_up

    warm_up()  # compile the fingerprint search's kernels before the first request waits
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "info" if access_log else "warning",
        "access_log": access_log,
        "proxy_headers": False,
    }
    if workers <= 1:
        uvicorn.run(create_app(data=data, store_url=store_url, oidc=oidc), **options)
        return
    if oidc is not None:
        raise LedsError(
            "OIDC settings are not passed to several server processes yet",
            hint="serve with --workers 1 when OIDC tokens are accepted",
        )
    Service.open(data, store_url).close()  # migrate, and make the log's key, once
    os.environ[SERVE_DATA_ENV] = str(data_dir(data))
    os.environ[SERVE_STORE_ENV] = store_url or ""
    uvicorn.run("leds.api.app:app_from_environment", factory=True, workers=workers, **options)
