"""The decision record of a face or fingerprint search through the one door, as a file (JSON or
CSV) that leaves the system: recorded as a **disclosure** before it is handed over.

authenticate (the caller) -> authorise (``biometric_review`` and the search of the reviewed
modality, as for the review itself) -> execute (read the search, its candidates and every
decision) -> minimise (a candidate's identity — sample reference, source record id, person
record — is left out, with the reason, where the user may not see identity fields of its
source) -> audit (a disclosure naming the search and every record in the file, the recipient,
the format, the candidate count and the file's SHA-256) -> respond. If the audit write fails,
nothing is returned (:class:`~leds.errors.AuditFailure`). Open and closed searches alike: an
open search's record says which candidates are still undecided.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from leds.governance.authn import AuthenticatedUser
from leds.governance.identity import PurposeStatement
from leds.model.codes import AuditKind
from leds.service._base import Result
from leds.service.biometrics import BiometricOps
from leds.service.search import _Minimiser

RecordFormat = Literal["json", "csv"]
RECORD_FORMATS: tuple[RecordFormat, ...] = ("json", "csv")
MEDIA_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8"}


@dataclass(frozen=True, slots=True)
class DecisionRecordFile:
    """A decision record as handed over: ``text`` is the file (its SHA-256 is in the audit
    entry), ``data`` the same record as a value (for the API's JSON envelope)."""

    search_id: int
    format: RecordFormat
    text: str
    data: dict[str, Any]
    sha256: str
    candidates: int
    withheld: tuple[str, ...]  # sources whose candidates' identity was left out

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]

    def filename(self, audit_seq: int) -> str:
        modality = self.data["modality"]
        return f"leds-{modality}-search-{self.search_id}-record-{audit_seq}.{self.format}"


class BiometricRecordOps(BiometricOps):
    """The audited export of a search's decision record."""

    def biometric_record(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        search_id: int,
        *,
        fmt: RecordFormat = "json",
    ) -> Result[DecisionRecordFile]:
        """A search's decision record as a JSON or CSV file (:mod:`leds.biometrics.record`):
        probe hash and parameters, algorithm, threshold and its version, every candidate with
        its decisions, rationales, reviewers and times, every revision, the closure. Recorded
        as a disclosure to the caller before it is returned."""
        from leds.biometrics.candidates import SearchError
        from leds.biometrics.record import decision_record

        if fmt not in RECORD_FORMATS:
            raise SearchError(f"cannot write a decision record as {fmt!r}", hint="json or csv")
        query = {"search_id": search_id, "format": fmt}
        decision = self._authorise_review(user, purpose, query, search_id)
        with self._store.engine.connect() as conn:
            record = decision_record(conn, search_id)
        sources = {r.candidate.record_source for r in record.state.reviews}
        hidden = frozenset(s for s in sources if not self._may_see_identity(user, purpose, s))
        if hidden:
            from dataclasses import replace

            record = replace(record, hidden_sources=hidden)
        text = record.json_text() if fmt == "json" else record.csv_text()
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        seq = self._record(
            AuditKind.DISCLOSURE,
            user,
            purpose,
            "biometric_record",
            query,
            decision,
            [f"biometric-search/{search_id}", *(f"record/{r}" for r in record.records_read)],
            {
                "search_id": search_id,
                "status": record.state.status,
                "candidates": len(record.state.reviews),
                "decisions": len(record.history),
                "format": fmt,
                "sha256": digest,
                "withheld": sorted(hidden),
            },
            recipients=[f"{user.actor.user_id} ({fmt.upper()} file)"],
        )
        made = DecisionRecordFile(
            search_id,
            fmt,
            text,
            record.as_dict(),
            digest,
            len(record.state.reviews),
            tuple(sorted(hidden)),
        )
        return Result(made, seq)

    def _may_see_identity(
        self, user: AuthenticatedUser, purpose: PurposeStatement, source: str
    ) -> bool:
        return "identity" in _Minimiser(self, user, purpose)._allowed(source)[0]
