"""Accounts and API tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from leds.errors import (
    AccessDenied,
    AuditFailure,
    LedsError,
)
from leds.governance.authn import (
    Account,
    AuthenticatedUser,
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
)
from leds.store.schema import accounts, api_tokens


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
