"""Who is calling, and why: bearer tokens for the API, session cookies for the web UI.

API
    ``Authorization: Bearer <token>``: a local API token (``leds token``), or, when the app is
    configured with :class:`~leds.governance.oidc.OidcSettings`, a JWT from the identity
    provider (a token with two dots is treated as a JWT). A GET may instead carry the web
    session cookie, so that each page's "JSON" link opens its twin in the browser; a
    state-changing API call needs a bearer token (no cookie, hence no CSRF exposure).
Web
    Sign-in with a password creates a server-side session (random id in an HttpOnly,
    SameSite=Strict cookie); each session has its own CSRF token, sent back in a hidden form
    field or the ``X-CSRF-Token`` header (htmx) and compared in constant time. The sign-in form
    itself uses a double-submit cookie. Sessions expire after :data:`IDLE_SECONDS` idle or
    :data:`MAX_SECONDS` in all; they live in the store (only the id's SHA-256), so several
    server processes share them, and a disabled account's sessions end at once.
Purpose
    ``X-Leds-Purpose``, ``X-Leds-Justification``, ``X-Leds-Case`` headers (or the same fields in
    a JSON body), or the purpose set on the web session. Missing or unfit: the service's
    :class:`~leds.errors.PurposeRequired`.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request

from leds.governance.authn import AuthenticatedUser, AuthenticationFailed
from leds.governance.identity import PurposeStatement
from leds.governance.oidc import OidcVerifier
from leds.service import Service

SESSION_COOKIE = "leds_session"
LOGIN_CSRF_COOKIE = "leds_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
IDLE_SECONDS = 30 * 60
MAX_SECONDS = 12 * 60 * 60
MAX_BEARER_LENGTH = 16_384
MAX_SESSION_ID_LENGTH = 128
SAFE_METHODS = frozenset({"GET", "HEAD"})


@dataclass(slots=True)
class WebSession:
    """One signed-in browser: who, the CSRF token, and the purpose chosen at the gate."""

    sid: str
    user: AuthenticatedUser
    display_name: str
    csrf: str
    purpose: PurposeStatement | None = None

    def csrf_ok(self, presented: str | None) -> bool:
        return hmac.compare_digest(self.csrf.encode(), (presented or "").encode("utf-8"))


class SessionStore:
    """Web sessions, kept in the service's store so that every server process sees them
    (``leds serve --workers N``); expired ones end when read and are swept at each sign-in."""

    def __init__(
        self, service: Service, idle: float = IDLE_SECONDS, maximum: float = MAX_SECONDS
    ) -> None:
        self._service = service
        self._idle = timedelta(seconds=idle)
        self._max = timedelta(seconds=maximum)

    def create(self, user: AuthenticatedUser, display_name: str) -> WebSession:
        sid, csrf = self._service.session_open(
            user, display_name, idle=self._idle, maximum=self._max
        )
        return WebSession(sid, user, display_name, csrf)

    def get(self, sid: str | None) -> WebSession | None:
        if not sid or len(sid) > MAX_SESSION_ID_LENGTH:
            return None
        stored = self._service.session_get(sid, idle=self._idle, maximum=self._max)
        if stored is None:
            return None
        return WebSession(sid, stored.user, stored.display_name, stored.csrf, stored.purpose)

    def set_purpose(self, session: WebSession, purpose: PurposeStatement) -> None:
        self._service.session_set_purpose(session.sid, purpose)
        session.purpose = purpose

    def drop(self, sid: str | None) -> None:
        if sid and len(sid) <= MAX_SESSION_ID_LENGTH:
            self._service.session_close(sid)


@dataclass(frozen=True, slots=True)
class Authenticator:
    """Turns a request's credentials into an :class:`AuthenticatedUser` (or refuses: 401)."""

    service: Service
    sessions: SessionStore
    oidc: OidcVerifier | None = None

    def bearer(self, request: Request) -> AuthenticatedUser | None:
        """The user of the request's bearer token; None when the request has none."""
        header = request.headers.get("authorization")
        if header is None:
            return None
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationFailed(
                "malformed Authorization header", hint="send 'Authorization: Bearer <token>'"
            )
        if len(token) > MAX_BEARER_LENGTH:
            raise AuthenticationFailed("bearer token too long")
        if self.oidc is not None and token.count(".") == 2:
            return self.oidc.verify(token)
        return self.service.login_token(token)

    def session(self, request: Request) -> WebSession | None:
        return self.sessions.get(request.cookies.get(SESSION_COOKIE))

    def api_user(self, request: Request) -> tuple[AuthenticatedUser, WebSession | None]:
        """The API caller: a bearer token, or (GET only) the web session. 401 otherwise."""
        user = self.bearer(request)
        if user is not None:
            return user, None
        if request.method in SAFE_METHODS:
            session = self.session(request)
            if session is not None:
                return session.user, session
        raise AuthenticationFailed(
            "sign in first",
            hint="send 'Authorization: Bearer <token>' (create one with `leds token`)",
        )

    def is_authenticated(self, request: Request) -> bool:
        """Whether the request carries valid credentials (never raises)."""
        try:
            self.api_user(request)
        except AuthenticationFailed:
            return False
        return True


def purpose_of(
    code: str | None,
    justification: str | None,
    case_ref: str | None,
    session: WebSession | None = None,
) -> PurposeStatement:
    """The request's purpose: the given fields if any is set, else the session's purpose."""
    nothing_given = code is None and justification is None and case_ref is None
    if nothing_given and session is not None and session.purpose is not None:
        return session.purpose
    return PurposeStatement.of(code, justification, case_ref)
