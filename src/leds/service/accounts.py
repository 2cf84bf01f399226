"""Accounts and API tokens."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from leds.errors import (
    AccessDenied,
    AuditFailure,
    LedsError,
)
from leds.governance.authn import (
    Account,
    AuthenticatedUser,
    AuthenticationFailed,
    authenticate_session,
    hash_password,
    new_api_token,
)
from leds.governance.identity import Actor, PurposeStatement, Role
from leds.governance.policy import Decision
from leds.model.codes import AuditKind
from leds.service._base import (
    BOOTSTRAP,
    NewAccount,
    Result,
    ServiceBase,
    _require_purpose,
    _today,
)
from leds.store.schema import accounts, api_tokens, web_sessions

# A session's "last seen" time is written at most this often (a read per request, not a write).
SESSION_TOUCH = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A web session as the store keeps it (the account re-checked when it was read)."""

    user: AuthenticatedUser
    display_name: str
    csrf: str
    purpose: PurposeStatement | None


def _sid_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode("utf-8")).hexdigest()


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class AccountOps(ServiceBase):
    # ---- accounts ------------------------------------------------------------------------
    def account_exists(self, user_id: str) -> bool:
        return self._account(user_id) is not None

    def has_accounts(self) -> bool:
        with self._store.engine.connect() as conn:
            return bool(conn.execute(select(func.count()).select_from(accounts)).scalar())

    def add_account(
        self, user: AuthenticatedUser | None, purpose: PurposeStatement, new: NewAccount
    ) -> Result[str]:
        """Create a local account (administrators; or the very first account, a bootstrap).

        The account is staff personal data: its creation is a *collection*.
        """
        query = {"user_id": new.user_id, "role": new.role, "organisation": new.organisation}
        _require_purpose(purpose)
        if user is None:
            if self.has_accounts():
                raise AccessDenied(
                    "only an administrator may add accounts", hint="sign in as an administrator"
                )
            if new.role != Role.ADMINISTRATOR.value:
                raise AccessDenied("the first account must be an administrator")
            acting: AuthenticatedUser | Actor = BOOTSTRAP
            decision = Decision(True, "bootstrap-first-administrator", "no accounts exist yet")
        else:
            acting = user
            decision = self._authorise(user, purpose, "manage_users", query)
        account = Account(
            user_id=new.user_id.strip(),
            display_name=new.display_name,
            role=Role(new.role),
            organisation=new.organisation,
            unit=new.unit,
            password_hash=hash_password(new.password),
            vetting_expires=new.vetting_expires,
            training_expires=new.training_expires,
        )
        row = {
            "user_id": account.user_id,
            "display_name": account.display_name,
            "role": account.role.value,
            "organisation": account.organisation,
            "unit": account.unit,
            "password_hash": account.password_hash,
            "vetting_expires": account.vetting_expires,
            "training_expires": account.training_expires,
            "disabled": False,
            "created_at": datetime.now(UTC),
        }
        try:
            with self._audited() as conn:
                conn.execute(insert(accounts), row)
                seq = self._record(
                    AuditKind.COLLECTION,
                    acting,
                    purpose,
                    "manage_users",
                    query,
                    decision,
                    [f"account/{account.user_id}"],
                    {"created": True},
                    conn,
                )
        except AuditFailure as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise LedsError(f"account {account.user_id!r} already exists") from None
            raise
        return Result(account.user_id, seq)

    def create_token(
        self, user: AuthenticatedUser, purpose: PurposeStatement, label: str, days: int = 30
    ) -> Result[str]:
        """Create an API token for the signed-in user; the plaintext is returned only once."""
        if not 1 <= days <= 365:
            raise LedsError("a token lives 1 to 365 days", hint="give --days between 1 and 365")
        _require_purpose(purpose)
        if not user.fully_valid:
            raise AccessDenied(
                "vetting or training has lapsed: no new credentials",
                hint="renew vetting and training first",
            )
        if not self.account_exists(user.actor.user_id):
            raise AccessDenied(
                "API tokens are for local accounts",
                hint="users of an identity provider use its access tokens",
            )
        token, digest = new_api_token()
        now = datetime.now(UTC)
        query = {"label": label, "days": days}
        decision = Decision(True, "own-credentials", "users manage their own tokens")
        with self._audited() as conn:
            conn.execute(
                insert(api_tokens),
                {
                    "token_hash": digest,
                    "user_id": user.actor.user_id,
                    "label": label,
                    "created_at": now,
                    "expires_at": now + timedelta(days=days),
                },
            )
            seq = self._record(
                AuditKind.COLLECTION,
                user,
                purpose,
                "create_token",
                query,
                decision,
                [f"account/{user.actor.user_id}"],
                {"token": digest[:12]},
                conn,
            )
        return Result(token, seq)

    # ---- web sessions --------------------------------------------------------------------
    # Kept in the store, so every server process (``leds serve --workers N``) sees the same
    # sessions; only the SHA-256 of the session id (the cookie's value) is stored.
    def session_open(
        self, user: AuthenticatedUser, display_name: str, *, idle: timedelta, maximum: timedelta
    ) -> tuple[str, str]:
        """Start a web session for a user who has just signed in; returns (session id, CSRF
        token). Sessions past ``idle`` or ``maximum`` are removed on the way."""
        sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with self._store.transaction() as conn:
            conn.execute(
                delete(web_sessions).where(
                    or_(
                        web_sessions.c.seen_at < now - idle,
                        web_sessions.c.created_at < now - maximum,
                    )
                )
            )
            conn.execute(
                insert(web_sessions),
                {
                    "sid_hash": _sid_hash(sid),
                    "user_id": user.actor.user_id,
                    "display_name": display_name,
                    "csrf": csrf,
                    "purpose": None,
                    "created_at": now,
                    "seen_at": now,
                },
            )
        return sid, csrf

    def session_get(self, sid: str, *, idle: timedelta, maximum: timedelta) -> StoredSession | None:
        """The live session with this id, its account checked again; None when there is none,
        it has expired (then it is removed) or its account is disabled."""
        key = _sid_hash(sid)
        with self._store.engine.connect() as conn:
            row = conn.execute(select(web_sessions).where(web_sessions.c.sid_hash == key)).first()
        if row is None:
            return None
        now = datetime.now(UTC)
        seen, created = _utc(row.seen_at), _utc(row.created_at)
        try:
            if now - seen > idle or now - created > maximum:
                raise AuthenticationFailed("session expired")
            user = authenticate_session(self._account(row.user_id), today=_today())
        except AuthenticationFailed:
            self.session_close(sid)
            return None
        if now - seen > SESSION_TOUCH:
            with self._store.transaction() as conn:
                conn.execute(
                    update(web_sessions).where(web_sessions.c.sid_hash == key).values(seen_at=now)
                )
        purpose = None
        if row.purpose:
            stated = json.loads(row.purpose)
            purpose = PurposeStatement.of(stated["code"], stated["justification"], stated["case"])
        return StoredSession(user, row.display_name, row.csrf, purpose)

    def session_set_purpose(self, sid: str, purpose: PurposeStatement) -> None:
        """Remember the purpose chosen at the gate for the rest of the session."""
        stated = {
            "code": purpose.code.value,
            "justification": purpose.justification,
            "case": purpose.case_ref,
        }
        with self._store.transaction() as conn:
            conn.execute(
                update(web_sessions)
                .where(web_sessions.c.sid_hash == _sid_hash(sid))
                .values(purpose=json.dumps(stated))
            )

    def session_close(self, sid: str) -> None:
        """End a session (sign-out, expiry)."""
        with self._store.transaction() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.sid_hash == _sid_hash(sid)))
