"""The one door: every read or write of personal data goes through :class:`Service`.

Each operation runs authorise -> execute -> audit -> respond (authentication is the caller's
interface's job: it hands over an :class:`~leds.governance.identity.Actor`). The audit event
is appended in the same transaction as the operation's effect; reads append theirs before the
result is returned. If the audit write fails, the operation fails (fail closed) and nothing is
returned. Every result carries the sequence number of its audit entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from leds.config import data_dir, store_target
from leds.errors import AccessDenied, AuditFailure, ExtractError, LedsError, NotFound
from leds.governance.audit.events import AuditEntry, AuditEvent
from leds.governance.audit.keys import load_or_create_signer
from leds.governance.audit.log import AuditLog
from leds.governance.identity import Actor, PurposeStatement
from leds.governance.policy import Decision, decide
from leds.model.codes import AuditKind, SourceSystem
from leds.model.records import ImportSummary, Rejection, SourceRecord
from leds.sources import get_source
from leds.store import Store, StoredRecord, open_store

T = TypeVar("T")

BATCH = 20_000  # records per transaction while importing


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


class Service:
    """The one door to the store of personal data."""

    def __init__(self, store: Store, log: AuditLog) -> None:
        self._store = store
        self._log = log

    @classmethod
    def open(cls, data: Path | None = None, store_url: str | None = None) -> Service:
        """Open the store (SQLite in the data directory, or PostgreSQL) and its audit log.

        The log's signing key lives in ``DATA/keys/audit-log.key`` for either backend.
        """
        store = open_store(store_target(data, store_url))
        signer = load_or_create_signer(data_dir(data) / "keys" / "audit-log.key")
        return cls(store, AuditLog(store, signer))

    @property
    def log(self) -> AuditLog:
        """The audit log (its public, content-free parts: checkpoints and proofs)."""
        return self._log

    def close(self) -> None:
        self._store.close()

    # ---- shared workflow -----------------------------------------------------------------
    def _authorise(
        self, actor: Actor, purpose: PurposeStatement, operation: str, query: dict[str, Any]
    ) -> Decision:
        decision = decide(actor, operation, purpose.code)
        if not decision.allowed:
            # A refusal is itself recorded; the refusal stands even if that record fails.
            event = AuditEvent(
                AuditKind.CONSULTATION,
                operation,
                actor,
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

    def _consult(
        self,
        actor: Actor,
        purpose: PurposeStatement,
        operation: str,
        query: dict[str, Any],
        decision: Decision,
        subjects: list[str],
        outcome: dict[str, Any],
    ) -> int:
        event = AuditEvent(
            AuditKind.CONSULTATION,
            operation,
            actor,
            purpose,
            query,
            subjects=subjects,
            decision=f"allow:{decision.rule}",
            outcome=outcome,
        )
        with self._audited() as conn:
            return self._log.append(conn, event)

    # ---- operations ----------------------------------------------------------------------
    def import_source(
        self,
        actor: Actor,
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
        decision = self._authorise(actor, purpose, "import_source", query)
        parser = get_source(source, mapping=mapping)
        allow = f"allow:{decision.rule}"
        with self._audited() as conn:
            import_id = self._store.begin_import(conn, parser.system, str(path), actor.user_id)
            self._log.append(
                conn,
                AuditEvent(
                    AuditKind.COLLECTION,
                    "import_source",
                    actor,
                    purpose,
                    query,
                    subjects=[f"import/{import_id}"],
                    decision=allow,
                    outcome={"status": "started"},
                ),
            )
        summary = ImportSummary(import_id=import_id, source=parser.system, path=str(path))

        def commit(accepted: list[SourceRecord], rejected: list[Rejection]) -> None:
            with self._audited() as conn:
                counts = self._store.write_records(conn, import_id, accepted)
                self._store.write_rejections(conn, import_id, rejected)
                summary.inserted += counts.inserted
                summary.updated += counts.updated
                summary.unchanged += counts.unchanged
                where = sorted({f"{r.provenance.file}" for r in accepted})
                lines = [r.provenance.line for r in accepted]
                self._log.append(
                    conn,
                    AuditEvent(
                        AuditKind.COLLECTION,
                        "import_source",
                        actor,
                        purpose,
                        query,
                        subjects=[f"import/{import_id}"],
                        decision=allow,
                        outcome={
                            "files": where,
                            "first_line": min(lines, default=0),
                            "last_line": max(lines, default=0),
                            "inserted": counts.inserted,
                            "updated": counts.updated,
                            "unchanged": counts.unchanged,
                            "rejected": len(rejected),
                        },
                    ),
                )
                if counts.updated_ids:
                    self._log.append(
                        conn,
                        AuditEvent(
                            AuditKind.ALTERATION,
                            "import_source",
                            actor,
                            purpose,
                            query,
                            subjects=[f"record/{i}" for i in counts.updated_ids],
                            decision=allow,
                            outcome={"import_id": import_id, "updated": counts.updated},
                        ),
                    )

        accepted: list[SourceRecord] = []
        rejected: list[Rejection] = []
        try:
            for item in parser.parse(path):
                summary.read += 1
                if isinstance(item, Rejection):
                    rejected.append(item)
                    summary.rejected += 1
                else:
                    accepted.append(item)
                    kind = item.kind.value
                    summary.by_kind[kind] = summary.by_kind.get(kind, 0) + 1
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
            self._finish(actor, purpose, query, allow, summary)
            raise
        summary.status = "complete"
        notes = list(parser.notices)
        if summary.rejected:
            notes.append(f"{summary.rejected} rows rejected; see `leds rejections {import_id}`")
        summary.message = "; ".join(notes) or None
        summary.audit_seq = self._finish(actor, purpose, query, allow, summary)
        return Result(summary, summary.audit_seq)

    def _finish(
        self,
        actor: Actor,
        purpose: PurposeStatement,
        query: dict[str, Any],
        decision: str,
        summary: ImportSummary,
    ) -> int:
        with self._audited() as conn:
            self._store.finish_import(conn, summary)
            return self._log.append(
                conn,
                AuditEvent(
                    AuditKind.COLLECTION,
                    "import_source",
                    actor,
                    purpose,
                    query,
                    subjects=[f"import/{summary.import_id}"],
                    decision=decision,
                    outcome={
                        "status": summary.status,
                        "read": summary.read,
                        "inserted": summary.inserted,
                        "updated": summary.updated,
                        "unchanged": summary.unchanged,
                        "rejected": summary.rejected,
                        "message": summary.message,
                    },
                ),
            )

    def list_imports(
        self, actor: Actor, purpose: PurposeStatement, limit: int = 100
    ) -> Result[SourceOverview]:
        """The imports made so far and the number of stored records per source and kind."""
        query = {"limit": limit}
        decision = self._authorise(actor, purpose, "list_imports", query)
        overview = SourceOverview(self._store.list_imports(limit), self._store.record_counts())
        seq = self._consult(
            actor,
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
        actor: Actor,
        purpose: PurposeStatement,
        import_id: int,
        limit: int = 100,
        offset: int = 0,
    ) -> Result[list[Rejection]]:
        """Rejected rows of one import, with file, line, field, reason and the row itself."""
        query = {"import_id": import_id, "limit": limit, "offset": offset}
        decision = self._authorise(actor, purpose, "list_rejections", query)
        rows = self._store.rejections_of(import_id, limit, offset)
        seq = self._consult(
            actor,
            purpose,
            "list_rejections",
            query,
            decision,
            [f"import/{import_id}"],
            {"rows": len(rows)},
        )
        return Result(rows, seq)

    def read_record(
        self, actor: Actor, purpose: PurposeStatement, source: str, kind: str, source_record_id: str
    ) -> Result[StoredRecord]:
        """One source record with its provenance."""
        query = {"source": source, "kind": kind, "id": source_record_id}
        decision = self._authorise(actor, purpose, "read_record", query)
        try:
            SourceSystem(source)
        except ValueError:
            valid = ", ".join(s.value for s in SourceSystem)
            raise LedsError(f"unknown source {source!r}", hint=f"one of: {valid}") from None
        record = self._store.get_record(source, kind, source_record_id)
        if record is None:
            self._consult(actor, purpose, "read_record", query, decision, [], {"found": False})
            raise NotFound(f"no {kind} record {source_record_id!r} in {source}")
        seq = self._consult(
            actor, purpose, "read_record", query, decision, [f"record/{record.id}"], {"found": True}
        )
        return Result(record, seq)

    def audit_log(
        self, actor: Actor, purpose: PurposeStatement, after: int = 0, limit: int = 100
    ) -> Result[list[AuditEntry]]:
        """Audit entries after ``after`` (auditors only); reading the log is itself logged."""
        query = {"after": after, "limit": limit}
        decision = self._authorise(actor, purpose, "read_audit", query)
        entries = self._store.audit_entries(after, limit)
        seq = self._consult(
            actor,
            purpose,
            "read_audit",
            query,
            decision,
            [f"audit/{entries[0].seq}-{entries[-1].seq}"] if entries else [],
            {"entries": len(entries)},
        )
        return Result(entries, seq)
