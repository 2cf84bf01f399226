"""Imports, rejections, reading and erasing source records."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from leds.errors import (
    ExtractError,
    LedsError,
    NotFound,
    PurposeRequired,
)
from leds.governance.authn import (
    AuthenticatedUser,
)
from leds.governance.identity import PurposeStatement
from leds.governance.minimise import allowed_classes, minimise
from leds.ingest import Ingest
from leds.model.codes import AuditKind, SourceSystem
from leds.model.records import ImportSummary, Rejection
from leds.service._base import (
    BATCH,
    RecordView,
    Result,
    ServiceBase,
    SourceOverview,
)
from leds.sources import get_source
from leds.store.base import PreparedRecord


class RecordOps(ServiceBase):
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
            from leds.search.index import index_import

            with self._audited() as conn:
                self._store.finish_import(conn, summary)
                index_import(conn, summary.import_id)  # search indexes follow every import
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
            from leds.search.index import unindex_record

            unindex_record(conn, record.id)  # out of every search index first
            self._unenrol(conn, record.id, reason)  # and out of the biometric galleries
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
