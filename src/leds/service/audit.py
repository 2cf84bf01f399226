"""The audit log: reading, verifying, proving, witnessing."""

from __future__ import annotations

from collections.abc import Callable

from leds.governance.audit.events import AuditEntry
from leds.governance.audit.log import InclusionProof, VerifyReport
from leds.governance.audit.witness import Witness
from leds.governance.authn import (
    AuthenticatedUser,
)
from leds.governance.identity import PurposeStatement
from leds.model.codes import AuditKind
from leds.service._base import (
    Result,
    ServiceBase,
)


class AuditOps(ServiceBase):
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
