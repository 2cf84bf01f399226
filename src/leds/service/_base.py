"""The shared workflow of the one door: authenticate, authorise, audit."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Generic, NoReturn, Self, TypeVar

from sqlalchemy import Connection, select
from sqlalchemy.exc import SQLAlchemyError

from leds.config import data_dir, store_target
from leds.errors import (
    AccessDenied,
    AuditFailure,
    LedsError,
    PurposeRequired,
)
from leds.governance.audit.events import AuditEvent
from leds.governance.audit.group import GroupCommitter
from leds.governance.audit.keys import load_or_create_signer
from leds.governance.audit.log import AuditLog
from leds.governance.audit.notes import NoteVerifier
from leds.governance.authn import (
    Account,
    AuthenticatedUser,
    authenticate,
    authenticate_token,
    hash_api_token,
)
from leds.governance.identity import Actor, PurposeStatement, Role
from leds.governance.minimise import MinimisedRecord
from leds.governance.policy import Decision, decide_many, decide_request, request_for
from leds.model.codes import AuditKind, SourceSystem
from leds.model.records import ImportSummary
from leds.store import Store, open_store
from leds.store.schema import accounts, api_tokens

T = TypeVar("T")
SOURCES: tuple[str, ...] = tuple(s.value for s in SourceSystem)

BATCH = 20_000  # records per transaction while importing
BOOTSTRAP = Actor("bootstrap", Role.ADMINISTRATOR.value, "LEDS")


@dataclass(frozen=True, slots=True)
class Result(Generic[T]):
    """A service response: the value and the sequence number of its committed audit entry."""

    value: T
    audit_seq: int


@dataclass(frozen=True, slots=True)
class SourceOverview:
    """Imports and stored record counts (what ``leds sources`` shows)."""

    imports: list[ImportSummary]
    counts: dict[tuple[str, str], int]


@dataclass(frozen=True, slots=True)
class RecordView:
    """A source record as one user may see it: minimised, with its provenance."""

    source_record_id: str
    record: MinimisedRecord
    file: str
    line: int
    import_id: int
    imported_at: datetime
    sensitive_step: bool


@dataclass(frozen=True, slots=True)
class NewAccount:
    """What an administrator gives to create a local account."""

    user_id: str
    display_name: str
    role: str
    organisation: str
    unit: str
    password: str
    vetting_expires: date
    training_expires: date


def _require_purpose(purpose: object) -> None:
    if not isinstance(purpose, PurposeStatement):
        raise PurposeRequired(
            "a purpose, a justification and (where needed) a case reference are required",
            hint="build one with PurposeStatement.of(code, justification, case_ref)",
        )


def _today() -> date:
    return datetime.now(UTC).date()


class ServiceBase:
    """What every operation shares: the store, the audit log, authentication, authorisation
    and the audit entry. The operations live in the area mixins (``accounts``, ``records``,
    ``audit``...)."""

    def __init__(
        self,
        store: Store,
        log: AuditLog,
        *,
        group_commit: bool = False,
        data: Path | None = None,
    ) -> None:
        """``group_commit``: consultations from concurrent callers (a server's threads) are
        appended to the log in shared transactions; each caller still waits for its own
        entry to be committed before it gets its result. ``data``: the data directory that
        holds what lives beside the store (the linkage model, the biometric galleries)."""
        self._store = store
        self._log = log
        self._data = data
        self._committer = GroupCommitter(log) if group_commit else None

    @classmethod
    def open(
        cls, data: Path | None = None, store_url: str | None = None, *, group_commit: bool = False
    ) -> Self:
        """Open the store (SQLite in the data directory, or PostgreSQL) and its audit log.

        The log's signing key lives in ``DATA/keys/audit-log.key`` for either backend.
        """
        store = open_store(store_target(data, store_url))
        signer = load_or_create_signer(data_dir(data) / "keys" / "audit-log.key")
        return cls(store, AuditLog(store, signer), group_commit=group_commit, data=data_dir(data))

    @property
    def data_dir(self) -> Path:
        """The data directory (linkage model, galleries); refused when the service has none."""
        if self._data is None:
            raise LedsError(
                "this service was opened without a data directory",
                hint="open it with Service.open(DATA) or pass data= to Service(...)",
            )
        return self._data

    @property
    def log_verifier(self) -> NoteVerifier:
        """The audit log's public key (what a witness or an oversight body checks against)."""
        return self._log.verifier

    def close(self) -> None:
        if self._committer is not None:
            self._committer.close()
        self._store.close()

    # ---- authenticate --------------------------------------------------------------------
    def _account(self, user_id: str) -> Account | None:
        with self._store.engine.connect() as conn:
            row = conn.execute(select(accounts).where(accounts.c.user_id == user_id)).first()
        if row is None:
            return None
        values = dict(row._mapping)
        values.pop("created_at")
        return Account(**values)

    def login(self, user_id: str, password: str) -> AuthenticatedUser:
        """Authenticate a local account (constant-time; same error for unknown or wrong)."""
        return authenticate(self._account(user_id.strip()), password, today=_today())

    def login_token(self, token: str) -> AuthenticatedUser:
        """Authenticate an API token (only its SHA-256 is stored)."""
        digest = hash_api_token(token)
        with self._store.engine.connect() as conn:
            row = conn.execute(
                select(api_tokens).where(
                    api_tokens.c.token_hash == digest,
                    api_tokens.c.expires_at > datetime.now(UTC),
                )
            ).first()
        account = self._account(row.user_id) if row is not None else None
        stored = row.token_hash if row is not None else None
        return authenticate_token(account, stored, token, today=_today())

    # ---- shared workflow -----------------------------------------------------------------
    def _authorise(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        action: str,
        query: dict[str, Any],
        *,
        source: str | None = None,
    ) -> Decision:
        _require_purpose(purpose)
        request = request_for(
            user.actor,
            action,
            purpose,
            source=source,
            vetting_valid=user.vetting_valid,
            training_valid=user.training_valid,
        )
        decision = decide_request(request)
        if not decision.allowed:
            self._refuse(user, purpose, action, query, decision)
        return decision

    def _refuse(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        action: str,
        query: dict[str, Any],
        decision: Decision,
    ) -> NoReturn:
        """Record a refusal and raise it; the refusal stands even if that record fails."""
        event = AuditEvent(
            AuditKind.CONSULTATION,
            action,
            user.actor,
            purpose,
            query,
            decision=f"deny:{decision.rule}",
            outcome={"refused": decision.reason},
        )
        try:
            with self._store.transaction() as conn:
                self._log.append(conn, event)
        except SQLAlchemyError:
            pass
        raise AccessDenied(decision.reason, hint="ask a data steward if you need access")

    def _authorise_sources(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        action: str,
        query: dict[str, Any],
        sources: Sequence[str] = SOURCES,
    ) -> tuple[Decision, frozenset[str]]:
        """Authorise ``action`` source by source (a search reaches every source the user may
        search, and only those). Refused, and the refusal recorded, when no source is allowed;
        otherwise returns the first allowing decision and the allowed sources."""
        _require_purpose(purpose)
        decisions = self._decisions(user, purpose, action, sources)
        allowed = frozenset(s for s, d in zip(sources, decisions, strict=True) if d.allowed)
        if not allowed:
            self._refuse(user, purpose, action, query, decisions[0])
        first = next(d for d in decisions if d.allowed)
        return first, allowed

    def _decisions(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        action: str,
        sources: Sequence[str | None],
        *,
        field_class: str | None = None,
        sensitive_step: bool = False,
    ) -> list[Decision]:
        """The policy's decisions on ``action`` for each of ``sources`` (None: ``field_class``
        if given, else the System), in order; a question only: nothing is read or recorded."""
        return decide_many(
            [
                request_for(
                    user.actor,
                    action,
                    purpose,
                    source=source,
                    field_class=field_class if source is None else None,
                    sensitive_step=sensitive_step,
                    vetting_valid=user.vetting_valid,
                    training_valid=user.training_valid,
                )
                for source in sources
            ]
        )

    def _unenrol(self, conn: Connection, record_id: int, reason: str) -> int:
        """Hook: take a record's biometric templates out of the galleries before it is erased
        (the biometric operations override it). Returns how many were removed."""
        return 0

    @contextmanager
    def _audited(self) -> Iterator[Connection]:
        """A transaction whose failure is reported as a refused, audit-less operation."""
        try:
            with self._store.transaction() as conn:
                yield conn
        except SQLAlchemyError as exc:
            cause = getattr(exc, "orig", exc)
            raise AuditFailure(
                f"the operation was refused because it could not be recorded: {cause}"
            ) from exc

    def _record(
        self,
        kind: AuditKind,
        user: AuthenticatedUser | Actor,
        purpose: PurposeStatement,
        action: str,
        query: dict[str, Any],
        decision: Decision,
        subjects: list[str],
        outcome: dict[str, Any],
        conn: Connection | None = None,
        *,
        recipients: list[str] | None = None,
    ) -> int:
        actor = user.actor if isinstance(user, AuthenticatedUser) else user
        event = AuditEvent(
            kind,
            action,
            actor,
            purpose,
            query,
            subjects=subjects,
            recipients=recipients or [],
            decision=f"allow:{decision.rule}",
            outcome=outcome,
        )
        if conn is not None:
            return self._log.append(conn, event)
        if self._committer is not None:
            return self._committer.submit(event)  # raises AuditFailure if not committed
        with self._audited() as own:
            return self._log.append(own, event)
