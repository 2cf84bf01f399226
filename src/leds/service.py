"""The one door: every read or write of personal data goes through :class:`Service`.

Each operation runs authenticate -> authorise -> execute -> minimise -> audit -> respond.
Interfaces authenticate (password, API token or OIDC token, see :meth:`Service.login` and
:mod:`leds.governance.oidc`) and hand over an :class:`AuthenticatedUser`; the service asks
the Cedar policy (deny unless allowed), executes, removes what the user may not see, and
appends the s.62 audit event — in the same transaction as the operation's effect, and before
any result is returned. If the audit write fails, the operation fails (fail closed) and
nothing is returned. Every result carries the sequence number of its audit entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from leds.config import data_dir, store_target
from leds.errors import (
    AccessDenied,
    AuditFailure,
    ExtractError,
    LedsError,
    NotFound,
    PurposeRequired,
)
from leds.governance.audit.events import AuditEntry, AuditEvent
from leds.governance.audit.group import GroupCommitter
from leds.governance.audit.keys import load_or_create_signer
from leds.governance.audit.log import AuditLog, InclusionProof, VerifyReport
from leds.governance.audit.notes import NoteVerifier
from leds.governance.audit.witness import Witness
from leds.governance.authn import (
    Account,
    AuthenticatedUser,
    authenticate,
    authenticate_token,
    hash_api_token,
    hash_password,
    new_api_token,
)
from leds.governance.identity import Actor, PurposeStatement, Role
from leds.governance.minimise import MinimisedRecord, allowed_classes, minimise
from leds.governance.policy import Decision, decide_request, request_for
from leds.ingest import Ingest
from leds.model.codes import AuditKind, SourceSystem
from leds.model.records import ImportSummary, Rejection
from leds.sources import get_source
from leds.store import Store, open_store
from leds.store.base import PreparedRecord
from leds.store.schema import accounts, api_tokens

T = TypeVar("T")

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


class Service:
    """The one door to the store of personal data."""

    def __init__(self, store: Store, log: AuditLog, *, group_commit: bool = False) -> None:
        """``group_commit``: consultations from concurrent callers (a server's threads) are
        appended to the log in shared transactions; each caller still waits for its own
        entry to be committed before it gets its result."""
        self._store = store
        self._log = log
        self._committer = GroupCommitter(log) if group_commit else None

    @classmethod
    def open(
        cls, data: Path | None = None, store_url: str | None = None, *, group_commit: bool = False
    ) -> Service:
        """Open the store (SQLite in the data directory, or PostgreSQL) and its audit log.

        The log's signing key lives in ``DATA/keys/audit-log.key`` for either backend.
        """
        store = open_store(store_target(data, store_url))
        signer = load_or_create_signer(data_dir(data) / "keys" / "audit-log.key")
        return cls(store, AuditLog(store, signer), group_commit=group_commit)

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
            # A refusal is itself recorded; the refusal stands even if that record fails.
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
        return decision

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

    # ---- imports -------------------------------------------------------------------------
    def import_source(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        source: str,
        path: Path,
        *,
        mapping: Path | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> Result[ImportSummary]:
        """Import one extract (file or directory) of a source system: a *collection*.

        Records are written in batches, each batch committed with its audit event; rejected
        rows are kept with file, line, field and reason. Re-importing the same extract adds
        nothing (unchanged records are recognised by their content hash).
        """
        query = {"source": source, "path": str(path), "mapping": str(mapping) if mapping else None}
        system = get_source(source, mapping=mapping).system
        decision = self._authorise(user, purpose, "import_source", query, source=system.value)

        def collected(import_id: int, outcome: dict[str, Any], conn: Connection) -> int:
            return self._record(
                AuditKind.COLLECTION, user, purpose, "import_source", query, decision,
                [f"import/{import_id}"], outcome, conn,
            )  # fmt: skip

        def finish(summary: ImportSummary) -> int:
            with self._audited() as conn:
                self._store.finish_import(conn, summary)
                return collected(summary.import_id, {
                    "status": summary.status, "read": summary.read,
                    "inserted": summary.inserted, "updated": summary.updated,
                    "unchanged": summary.unchanged, "rejected": summary.rejected,
                    "message": summary.message,
                }, conn)  # fmt: skip

        with self._audited() as conn:
            import_id = self._store.begin_import(conn, system, str(path), user.actor.user_id)
            collected(import_id, {"status": "started"}, conn)
        summary = ImportSummary(import_id=import_id, source=system, path=str(path))

        def commit(accepted: list[PreparedRecord], rejected: list[Rejection]) -> None:
            with self._audited() as conn:
                counts = self._store.write_prepared(conn, import_id, accepted)
                rejected = [*rejected, *counts.duplicates]
                self._store.write_rejections(conn, import_id, rejected)
                if counts.duplicates:
                    summary.rejected += len(counts.duplicates)
                    kinds = {(r.file, r.line): r.kind for r in accepted}
                    for dup in counts.duplicates:
                        summary.by_kind[kinds[(dup.file, dup.line)]] -= 1
                summary.inserted += counts.inserted
                summary.updated += counts.updated
                summary.unchanged += counts.unchanged
                lines = [r.line for r in accepted]
                collected(
                    import_id,
                    {
                        "files": sorted({r.file for r in accepted}),
                        "first_line": min(lines, default=0),
                        "last_line": max(lines, default=0),
                        "inserted": counts.inserted,
                        "updated": counts.updated,
                        "unchanged": counts.unchanged,
                        "rejected": len(rejected),
                    },
                    conn,
                )
                if counts.updated_ids:
                    self._record(
                        AuditKind.ALTERATION,
                        user,
                        purpose,
                        "import_source",
                        query,
                        decision,
                        [f"record/{i}" for i in counts.updated_ids],
                        {"import_id": import_id, "updated": counts.updated},
                        conn,
                    )

        accepted: list[PreparedRecord] = []
        rejected: list[Rejection] = []
        notes: list[str] = []
        try:
            ingest = Ingest(source, path, mapping=mapping)
            for item in ingest.items():
                summary.read += 1
                if isinstance(item, Rejection):
                    rejected.append(item)
                    summary.rejected += 1
                else:
                    accepted.append(item)
                    summary.by_kind[item.kind] = summary.by_kind.get(item.kind, 0) + 1
                if len(accepted) + len(rejected) >= BATCH:
                    commit(accepted, rejected)
                    if progress:
                        progress(len(accepted) + len(rejected))
                    accepted, rejected = [], []
            commit(accepted, rejected)
            if progress:
                progress(len(accepted) + len(rejected))
        except ExtractError as exc:
            summary.status, summary.message = "failed", str(exc)
            finish(summary)
            raise
        summary.status = "complete"
        notes.extend(ingest.notices)
        if summary.rejected:
            notes.append(f"{summary.rejected} rows rejected; see `leds rejections {import_id}`")
        summary.message = "; ".join(notes) or None
        summary.audit_seq = finish(summary)
        return Result(summary, summary.audit_seq)

    def list_imports(
        self, user: AuthenticatedUser, purpose: PurposeStatement, limit: int = 100
    ) -> Result[SourceOverview]:
        """The imports made so far and the number of stored records per source and kind."""
        query = {"limit": limit}
        decision = self._authorise(user, purpose, "list_imports", query)
        overview = SourceOverview(self._store.list_imports(limit), self._store.record_counts())
        seq = self._record(
            AuditKind.CONSULTATION,
            user,
            purpose,
            "list_imports",
            query,
            decision,
            [f"import/{i.import_id}" for i in overview.imports],
            {"imports": len(overview.imports)},
        )
        return Result(overview, seq)

    def list_rejections(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        import_id: int,
        limit: int = 100,
        offset: int = 0,
    ) -> Result[list[Rejection]]:
        """Rejected rows of one import, with file, line, field, reason and the row itself."""
        query = {"import_id": import_id, "limit": limit, "offset": offset}
        decision = self._authorise(user, purpose, "list_rejections", query)
        rows = self._store.rejections_of(import_id, limit, offset)
        seq = self._record(
            AuditKind.CONSULTATION,
            user,
            purpose,
            "list_rejections",
            query,
            decision,
            [f"import/{import_id}"],
            {"rows": len(rows), "offset": offset},
        )
        return Result(rows, seq)

    # ---- records -------------------------------------------------------------------------
    def read_record(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        source: str,
        kind: str,
        source_record_id: str,
        *,
        sensitive: str | None = None,
    ) -> Result[RecordView]:
        """One source record with its provenance, minimised to what the user may see.

        ``sensitive`` is the justification of the explicit further step that sensitive field
        classes (intelligence, warning detail, health, images, immigration status) need; it
        is recorded with the consultation. Withheld fields are listed with the reason.
        """
        query = {
            "source": source,
            "kind": kind,
            "id": source_record_id,
            "sensitive_step": sensitive is not None,
        }
        if sensitive is not None:
            query["sensitive_justification"] = sensitive
        try:
            SourceSystem(source)
        except ValueError:
            valid = ", ".join(s.value for s in SourceSystem)
            raise LedsError(f"unknown source {source!r}", hint=f"one of: {valid}") from None
        decision = self._authorise(user, purpose, "view_record", query, source=source)
        allowed, reasons = allowed_classes(
            user.actor,
            purpose,
            source,
            sensitive_step=sensitive is not None,
            sensitive_justification=sensitive,
            vetting_valid=user.vetting_valid,
            training_valid=user.training_valid,
        )
        record = self._store.get_record(source, kind, source_record_id)
        if record is None:
            self._record(
                AuditKind.CONSULTATION,
                user,
                purpose,
                "view_record",
                query,
                decision,
                [],
                {"found": False},
            )
            raise NotFound(f"no {kind} record {source_record_id!r} in {source}")
        shown = minimise(record, allowed, reasons=reasons)
        view = RecordView(
            source_record_id=record.source_record_id,
            record=shown,
            file=record.file,
            line=record.line,
            import_id=record.import_id,
            imported_at=record.imported_at,
            sensitive_step=sensitive is not None,
        )
        seq = self._record(
            AuditKind.CONSULTATION,
            user,
            purpose,
            "view_record",
            query,
            decision,
            [f"record/{record.id}"],
            {
                "found": True,
                "classes": sorted(allowed),
                "withheld": [w.field for w in shown.withheld],
            },
        )
        return Result(view, seq)

    def erase_record(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        source: str,
        kind: str,
        source_record_id: str,
        reason: str,
    ) -> Result[int]:
        """Erase one source record (an *erasure*). The audit entry identifies what was erased
        (internal id, source, kind, a hash of the source's id and of the content) and why,
        and holds none of the erased content. Returns the erased record's internal id."""
        if len(reason.split()) < 3:
            raise PurposeRequired("an erasure needs a reason", hint="say why in at least 3 words")
        key_hash = hashlib.sha256(source_record_id.encode("utf-8")).hexdigest()
        query = {"source": source, "kind": kind, "id_sha256": key_hash, "reason": reason}
        decision = self._authorise(user, purpose, "erase_record", query, source=source)
        record = self._store.get_record(source, kind, source_record_id)
        if record is None:
            raise NotFound(f"no {kind} record {source_record_id!r} in {source}")
        with self._audited() as conn:
            self._store.erase_record(conn, record.id)
            seq = self._record(
                AuditKind.ERASURE,
                user,
                purpose,
                "erase_record",
                query,
                decision,
                [f"record/{record.id}"],
                {"erased": 1, "content_sha256": record.content_hash, "import_id": record.import_id},
                conn,
            )
        return Result(record.id, seq)

    # ---- the audit log -------------------------------------------------------------------
    def audit_log(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        after: int = 0,
        limit: int = 100,
    ) -> Result[list[AuditEntry]]:
        """Audit entries after ``after`` (auditors only); reading the log is itself logged."""
        query = {"after": after, "limit": limit}
        decision = self._authorise(user, purpose, "read_audit", query)
        entries = self._store.audit_entries(after, limit)
        seq = self._record(
            AuditKind.CONSULTATION,
            user,
            purpose,
            "read_audit",
            query,
            decision,
            [f"audit/{entries[0].seq}-{entries[-1].seq}"] if entries else [],
            {"entries": len(entries)},
        )
        return Result(entries, seq)

    def verify_audit(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        *,
        trusted: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> Result[VerifyReport]:
        """Recompute the whole log and its checkpoints (raises AuditIntegrityError)."""
        query = {"trusted": trusted is not None}
        decision = self._authorise(user, purpose, "verify_audit", query)
        report = self._log.verify(trusted=trusted, progress=progress)
        seq = self._record(
            AuditKind.CONSULTATION,
            user,
            purpose,
            "verify_audit",
            query,
            decision,
            [f"audit/1-{report.entries}"] if report.entries else [],
            {"entries": report.entries, "root": report.root.hex()},
        )
        return Result(report, seq)

    def prove_audit(
        self, user: AuthenticatedUser, purpose: PurposeStatement, seq: int
    ) -> Result[InclusionProof]:
        """An inclusion proof of one entry against the signed head (no content in it)."""
        query = {"seq": seq}
        decision = self._authorise(user, purpose, "verify_audit", query)
        proof = self._log.prove_inclusion(seq)
        logged = self._record(
            AuditKind.CONSULTATION,
            user,
            purpose,
            "verify_audit",
            query,
            decision,
            [f"audit/{seq}"],
            {"proof": len(proof.proof)},
        )
        return Result(proof, logged)

    def witness_cosign(
        self, user: AuthenticatedUser, purpose: PurposeStatement, witness: Witness
    ) -> Result[str]:
        """Have ``witness`` cosign the current head after checking consistency with the last
        checkpoint it cosigned; keep the cosignature with the log. Returns the cosigned note."""
        query = {"witness": witness.verifier_key_string()}
        decision = self._authorise(user, purpose, "verify_audit", query)
        state = witness.state()
        note, proof = self._log.prove_consistency(state.size if state else 0)
        line = witness.cosign(note, proof)
        self._log.record_cosignature(note, line)
        size = int(note.split("\n")[1])
        seq = self._record(
            AuditKind.DISCLOSURE,
            user,
            purpose,
            "verify_audit",
            query,
            decision,
            [f"checkpoint/{size}"],
            {"cosigned": size},
            recipients=[witness.verifier_key_string().split("+")[0]],
        )
        return Result(note + line, seq)
