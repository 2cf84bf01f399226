"""Face and fingerprint 1:N through the one door: enrolment, searches that return candidate
lists (investigative leads, never identifications), human review, evaluation and thresholds.

Probe images are never stored and never logged: a search keeps the probe's SHA-256, its
parameters, the algorithm and the threshold version in force, and its candidates. Every search
(also one that fails on the probe: no face, poor quality), every decision, every closure and
every threshold change is an audit entry; a search's entry and its candidate rows commit in
the same transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from leds.errors import LedsError
from leds.governance.authn import AuthenticatedUser
from leds.governance.identity import PurposeStatement
from leds.model.codes import AuditKind
from leds.service._base import Result, ServiceBase
from leds.store.schema import imports

MODALITIES = ("face", "fingerprint")
GALLERY_SOURCES = {"face": ("pnd", "iabs"), "fingerprint": ("iabs",)}
SEARCH_ACTION = {"face": "face_search", "fingerprint": "fingerprint_search"}
# Synthetic persons in an evaluation's gallery by default (a fingerprint search over a
# gallery of N costs ~30 ms + ~0.15 ms x N on 2 cores, a face search far less)
EVALUATION_PERSONS = {"face": 2_000, "fingerprint": 350}


@dataclass(frozen=True, slots=True)
class EnrolOutcome:
    """What an enrolment run did, per modality."""

    modality: str
    enrolled: int
    already: int
    failed: int
    gallery_size: int


@dataclass(frozen=True, slots=True)
class FaceQualityCheck:
    """A probe's quality before a face search: faces found, the figures of the face
    (``face_width``/``face_height`` and ``eye_distance`` in pixels, ``detector_score``,
    ``outside``: share of the face box cut off) and whether it would be searched; ``reasons``
    says why not. The photo itself is not kept."""

    probe_sha256: str
    faces: int
    quality: dict[str, float]
    passed: bool
    reasons: tuple[str, ...]


def _modality(value: str) -> str:
    m = value.strip().lower()
    if m not in MODALITIES:
        raise LedsError(f"unknown modality {value!r}", hint="face or fingerprint")
    return m


class BiometricOps(ServiceBase):
    """Biometric operations; galleries live in ``DATA/biometrics/{face,fingerprint}``."""

    _bio_lock = threading.Lock()
    _face_pipeline_obj: Any = None
    _galleries: dict[str, Any] | None = None

    # ---- galleries and models (opened once per service) ----------------------------------
    def _gallery_dir(self, modality: str) -> Path:
        return self.data_dir / "biometrics" / modality

    def _gallery(self, modality: str, *, fresh: bool = False, reindex: bool = False) -> Any:
        """The modality's gallery (opened once). ``reindex``: a fingerprint gallery in an
        older layout is rebuilt from its templates instead of refused."""
        with self._bio_lock:
            if self._galleries is None:
                self._galleries = {}
            if fresh or reindex or modality not in self._galleries:
                if modality == "face":
                    from leds.biometrics.gallery import FaceGallery

                    self._galleries[modality] = FaceGallery(self._gallery_dir("face"))
                else:
                    from leds.biometrics.fingerprint import FingerprintGallery

                    self._galleries[modality] = FingerprintGallery(
                        self._gallery_dir("fingerprint"), reindex=reindex
                    )
            return self._galleries[modality]

    def _face_pipeline(self) -> Any:
        with self._bio_lock:
            if self._face_pipeline_obj is None:
                from leds.biometrics.face.pipeline import FacePipeline

                self._face_pipeline_obj = FacePipeline()
            return self._face_pipeline_obj

    @contextmanager
    def _failed_probe_recorded(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        action: str,
        query: dict[str, Any],
        decision: Any,
    ) -> Iterator[None]:
        """A probe that cannot be searched (not an image, no face, poor quality) is still an
        attempt to search: record it, then let the error reach the caller."""
        try:
            yield
        except LedsError as exc:
            self._record(
                AuditKind.CONSULTATION,
                user,
                purpose,
                action,
                query,
                decision,
                [],
                {"failed": type(exc).__name__, "message": exc.message},
            )
            raise

    def _unenrol(self, conn: Any, record_id: int, reason: str) -> int:
        """Remove the live templates of a record from their galleries (before an erasure);
        the template rows stay, marked removed, for the searches that listed them."""
        from leds.store.tables_biometrics import biometric_templates as bt

        rows = conn.execute(
            select(bt.c.id, bt.c.modality).where(
                bt.c.record_id == record_id, bt.c.removed_at.is_(None)
            )
        ).all()
        if not rows or self._data is None:
            return 0
        why = f"record erased: {reason}"
        face = [r.id for r in rows if r.modality == "face"]
        if face:
            from leds.biometrics.gallery import remove

            remove(conn, self._gallery("face"), reason=why, template_ids=face)
        for r in rows:
            if r.modality == "fingerprint":
                from leds.biometrics.fingerprint.enrol import remove as fp_remove

                fp_remove(conn, self._gallery("fingerprint"), r.id, why)
        return len(rows)

    # ---- enrolment -----------------------------------------------------------------------
    def biometric_enrol(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        modality: str = "face",
        *,
        reindex: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> Result[EnrolOutcome]:
        """Enrol every imported sample of ``modality`` not yet in its gallery (custody images
        and IABS face samples; IABS fingerprints). A *collection* into the gallery.
        ``reindex`` (fingerprints): first rebuild a gallery kept in an older layout from its
        templates (after an upgrade changed the index; such a gallery is refused otherwise)."""
        m = _modality(modality)
        query: dict[str, Any] = {"modality": m}
        if reindex:
            query["reindex"] = True
        decision = self._authorise(user, purpose, "biometric_enrol", query)
        if reindex and m == "fingerprint":
            self._gallery(m, reindex=True)
        with self._audited() as conn:
            if m == "face":
                from leds.biometrics.gallery import enrol_world

                summary = enrol_world(conn, self._gallery("face"), progress=progress)
                enrolled, already, failed = summary.enrolled, summary.already, len(summary.failed)
            else:
                from leds.biometrics.fingerprint.enrol import enrol_iabs

                paths = conn.execute(
                    select(imports.c.path)
                    .where(imports.c.source == "iabs", imports.c.status == "complete")
                    .order_by(imports.c.id)
                ).scalars()
                enrolled = already = failed = 0
                for path in dict.fromkeys(paths):
                    got = enrol_iabs(conn, self._gallery("fingerprint"), path, progress=progress)
                    enrolled += len(got.enrolled)
                    already += got.already
                    failed += len(got.failures_to_enrol)
            size = _gallery_size(self._gallery(m))
            outcome = EnrolOutcome(m, enrolled, already, failed, size)
            seq = self._record(
                AuditKind.COLLECTION,
                user,
                purpose,
                "biometric_enrol",
                query,
                decision,
                [f"gallery/{m}"],
                {"enrolled": enrolled, "already": already, "failed": failed, "gallery": size},
                conn,
            )
        return Result(outcome, seq)

    # ---- 1:N searches --------------------------------------------------------------------
    def _authorise_search(
        self, user: AuthenticatedUser, purpose: PurposeStatement, modality: str, query: Any
    ) -> Any:
        """A 1:N search reaches the whole gallery: every source of it must be allowed."""
        action = SEARCH_ACTION[modality]
        decision, allowed = self._authorise_sources(
            user, purpose, action, query, GALLERY_SOURCES[modality]
        )
        missing = set(GALLERY_SOURCES[modality]) - allowed
        if missing:
            from leds.governance.policy import Decision

            self._refuse(
                user,
                purpose,
                action,
                query,
                Decision(
                    False,
                    "default-deny",
                    f"a {modality} search reaches the whole gallery, and role "
                    f"{user.actor.role!r} may not search {', '.join(sorted(missing))}",
                ),
            )
        return decision

    def face_search(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        image: bytes,
        *,
        list_length: int | None = None,
        face_index: int | None = None,
    ) -> Result[Any]:
        """Search the face gallery with a probe photo; returns a recorded
        :class:`leds.biometrics.candidates.CandidateList` of R candidates (2-50, default 20)
        flagged *investigative lead — not an identification*. The photo is not kept."""
        from leds.biometrics import candidates

        length = candidates.check_list_length(list_length)
        query: dict[str, Any] = {"modality": "face", "list_length": length}
        if face_index is not None:
            query["face_index"] = face_index
        decision = self._authorise_search(user, purpose, "face", query)
        with self._failed_probe_recorded(user, purpose, "face_search", query, decision):
            probe = self._face_pipeline().process(bytes(image), face_index=face_index)
        query["probe_sha256"] = probe.sha256
        gallery = self._gallery("face")
        vector = probe.template

        def search(k: int) -> list[tuple[int, float]]:
            return [(int(h.slot), float(h.score)) for h in gallery.search(vector, k)]

        # Scores live in the gallery's space: the threshold in force is the one evaluated for
        # it (the probe's extractor is in the parameters).
        algorithm = str(gallery.meta.algorithm)
        return self._record_search(
            user, purpose, "face", query, decision, probe, search, length, algorithm
        )

    def face_quality(
        self, user: AuthenticatedUser, purpose: PurposeStatement, image: bytes
    ) -> Result[FaceQualityCheck]:
        """Check a probe photo's quality before a face search: decode, detect and assess it as
        :meth:`face_search` does, without embedding it or searching the gallery. Whoever may
        search may check (the same policy action); the photo is not kept, the audit entry
        keeps its SHA-256, the faces found and the quality figures. Not an image, too large,
        no face and several faces raise the search's errors (and are recorded); a face too
        poor to search with is a result that fails, with its reasons."""
        import hashlib

        data = bytes(image)
        query: dict[str, Any] = {"modality": "face", "check": "quality"}
        if data:
            query["probe_sha256"] = hashlib.sha256(data).hexdigest()
        # a refusal is recorded under the policy action asked (face_search), with this query
        decision = self._authorise_search(user, purpose, "face", query)
        with self._failed_probe_recorded(user, purpose, "face_quality", query, decision):
            checked = self._face_pipeline().check(data)
        found = FaceQualityCheck(
            probe_sha256=checked.sha256,
            faces=len(checked.detections),
            quality=checked.quality.as_dict(),
            passed=checked.passed,
            reasons=checked.reasons,
        )
        seq = self._record(
            AuditKind.CONSULTATION,
            user,
            purpose,
            "face_quality",
            query,
            decision,
            [],
            {"faces": found.faces, "quality": found.quality, "passed": found.passed},
        )
        return Result(found, seq)

    def fingerprint_search(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        image: bytes,
        *,
        list_length: int | None = None,
    ) -> Result[Any]:
        """Search the fingerprint gallery with a probe print image (500 ppi): MCC-LSH
        shortlist, MCC LSS-R re-ranking; a recorded candidate list as for faces."""
        import hashlib

        from leds.biometrics import candidates
        from leds.biometrics.fingerprint import SEARCH_ALGORITHM, extract

        length = candidates.check_list_length(list_length)
        query: dict[str, Any] = {"modality": "fingerprint", "list_length": length}
        decision = self._authorise_search(user, purpose, "fingerprint", query)
        with self._failed_probe_recorded(user, purpose, "fingerprint_search", query, decision):
            template = extract(bytes(image))
        digest = hashlib.sha256(bytes(image)).hexdigest()
        query["probe_sha256"] = digest
        gallery = self._gallery("fingerprint")

        def search(k: int) -> list[tuple[int, float]]:
            return [(int(c.slot), float(c.score)) for c in gallery.search(template, candidates=k)]

        facts = {"minutia_count": len(template.minutiae)}
        probe = _FingerprintProbe(digest, SEARCH_ALGORITHM, facts)
        return self._record_search(
            user, purpose, "fingerprint", query, decision, probe, search, length, SEARCH_ALGORITHM
        )

    def _record_search(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        modality: str,
        query: dict[str, Any],
        decision: Any,
        probe: Any,
        search: Callable[[int], list[tuple[int, float]]],
        length: int,
        algorithm: str,
    ) -> Result[Any]:
        from leds.biometrics import candidates

        with self._audited() as conn:
            found = candidates.record_search(
                conn,
                modality=modality,
                probe_sha256=probe.sha256,
                search=search,
                algorithm=algorithm,
                actor_id=user.actor.user_id,
                purpose=purpose.code.value,
                case_ref=purpose.case_ref,
                list_length=length,
                parameters={
                    **probe.parameters(),
                    "gallery_size": _gallery_size(self._gallery(modality)),
                },
            )
            seq = self._record(
                AuditKind.CONSULTATION,
                user,
                purpose,
                SEARCH_ACTION[modality],
                query,
                decision,
                [f"record/{r}" for r in found.records_read],
                {
                    "search_id": found.search_id,
                    "candidates": len(found.candidates),
                    "threshold": {"version": found.threshold_version, "value": found.threshold},
                    "algorithm": found.algorithm,
                    "above_threshold": sum(1 for c in found.candidates if c.above_threshold),
                },
                conn,
            )
        return Result(found, seq)

    # ---- human review --------------------------------------------------------------------
    def _authorise_review(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        query: dict[str, Any],
        search_id: int,
    ) -> Any:
        """Review belongs to whoever may run the searches (MATRIX.md): ``biometric_review``,
        and also the search of the reviewed search's modality on every source of its gallery
        (an immigration officer reviews fingerprint searches of IABS, not face searches). The
        reviewer is the authenticated caller, first or second alike: nobody is recorded as
        a reviewer without signing in as themselves. Refusals are recorded."""
        decision = self._authorise(user, purpose, "biometric_review", query)
        from leds.store.tables_biometrics import biometric_searches

        with self._store.engine.connect() as conn:
            modality = conn.execute(
                select(biometric_searches.c.modality).where(biometric_searches.c.id == search_id)
            ).scalar_one_or_none()
        if modality not in SEARCH_ACTION:
            from leds.errors import NotFound

            raise NotFound(f"no biometric search {search_id}")
        sources = GALLERY_SOURCES[modality]
        verdicts = self._decisions(user, purpose, SEARCH_ACTION[modality], sources)
        missing = [s for s, d in zip(sources, verdicts, strict=True) if not d.allowed]
        if missing:
            from leds.governance.policy import Decision

            self._refuse(
                user,
                purpose,
                "biometric_review",
                query,
                Decision(
                    False,
                    "review-needs-search",
                    f"a {modality} search is reviewed by those who may run one, and role "
                    f"{user.actor.role!r} may not search {', '.join(missing)} for this purpose",
                ),
            )
        return decision

    def biometric_candidates(
        self, user: AuthenticatedUser, purpose: PurposeStatement, search_id: int
    ) -> Result[Any]:
        """A search's candidates with their first and second decisions (review state)."""
        from leds.biometrics import review

        query = {"search_id": search_id}
        decision = self._authorise_review(user, purpose, query, search_id)
        with self._store.engine.connect() as conn:
            state = review.review_state(conn, search_id)
        seq = self._record(
            AuditKind.CONSULTATION,
            user,
            purpose,
            "biometric_candidates",
            query,
            decision,
            sorted(
                {
                    f"record/{r}"
                    for c in state.reviews
                    for r in (c.candidate.record_id, c.candidate.person_record_id)
                    if r is not None
                }
            ),
            {"candidates": len(state.reviews), "undecided": list(state.undecided)},
        )
        return Result(state, seq)

    def biometric_decide(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        search_id: int,
        rank: int,
        decision: str,
        rationale: str,
        *,
        second: bool = False,
    ) -> Result[Any]:
        """Decide one candidate: ``possible-match``, ``not-a-match`` or ``inconclusive``, with
        a rationale. ``second=True``: the caller is the optional second reviewer, who must be
        a different person from the first reviewer (refused otherwise), an existing one (the
        caller authenticated: a reviewer is never named by someone else) and authorised
        (``biometric_review`` and the modality's search, see :meth:`_authorise_review`)."""
        from leds.biometrics import review

        query = {"search_id": search_id, "rank": rank, "decision": decision, "second": second}
        allowed = self._authorise_review(user, purpose, query, search_id)
        with self._audited() as conn:
            change = review.decide(
                conn,
                search_id=search_id,
                rank=rank,
                reviewer_id=user.actor.user_id,
                decision=decision,
                rationale=rationale,
                second=second,
            )
            seq = self._record(
                AuditKind.ALTERATION,
                user,
                purpose,
                "biometric_decide",
                {**query, "rationale": rationale},
                allowed,
                [f"record/{r}" for r in change.records_read],
                change.as_dict(),
                conn,
            )
        return Result(change, seq)

    def biometric_close(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        search_id: int,
        *,
        require_second_review: bool = False,
    ) -> Result[Any]:
        """Close a search: refused while any candidate is undecided."""
        from leds.biometrics import review

        query = {"search_id": search_id, "require_second_review": require_second_review}
        allowed = self._authorise_review(user, purpose, query, search_id)
        with self._audited() as conn:
            closed = review.close_search(
                conn,
                search_id=search_id,
                actor_id=user.actor.user_id,
                require_second_review=require_second_review,
            )
            seq = self._record(
                AuditKind.ALTERATION,
                user,
                purpose,
                "biometric_close",
                query,
                allowed,
                [f"record/{r}" for r in closed.records_read],
                closed.as_dict(),
                conn,
            )
        return Result(closed, seq)

    # ---- evaluation and thresholds -------------------------------------------------------
    def biometric_evaluate(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        out: Path | None = None,
        *,
        modality: str = "face",
        thresholds: tuple[float, ...] = (),
        gallery_persons: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> Result[Any]:
        """Write the evaluation report (HTML + PNG plots + CSV; FNIR/FPIR, DET, CMC, by
        recorded demographic group) of ``modality`` at ``thresholds`` and the one in force,
        and record it (with its figures, for the performance screen) in the same transaction
        as its audit entry; the entry's outcome names the evaluation's id. ``out``: the
        report's folder (default: a new one under ``DATA/biometrics/reports/``).

        Face: synthetic templates, exact search (default 2,000 persons, mated probes half of
        them up to 500, non-mated as many up to 1,000). Fingerprint: synthetic prints searched
        by the fingerprint gallery's own search in a temporary gallery (default 350 persons,
        about a minute on 2 cores; mated probes half of them up to 150, non-mated as many up
        to 350: FPIR = 0.003 needs 334), under the algorithm name a fingerprint search
        records.
        ``progress`` gets probe counts."""
        from leds.biometrics import performance, report
        from leds.biometrics import thresholds as th

        m = _modality(modality)
        persons = EVALUATION_PERSONS[m] if gallery_persons is None else gallery_persons
        query = {
            "modality": m,
            "out": str(out or "DATA/biometrics/reports/"),
            "thresholds": list(thresholds),
            "gallery_persons": persons,
        }
        decision = self._authorise(user, purpose, "biometric_evaluate", query)
        out = Path(out) if out is not None else performance.report_folder(self.data_dir, m)
        query["out"] = str(out)
        with self._store.engine.connect() as conn:
            current = th.in_force(conn, m)
        evaluated = sorted({current.threshold, *thresholds})
        if m == "face":
            manifest = report.run_face_evaluation(
                out,
                thresholds=evaluated,
                algorithm=str(self._gallery("face").meta.algorithm),
                gallery_persons=persons,
                mated_probes=max(1, min(500, persons // 2)),
                nonmated_probes=max(1, min(1_000, persons)),
                progress=progress,
            )
        else:
            from leds.biometrics.fingerprint import SEARCH_ALGORITHM

            manifest = report.run_fingerprint_synthetic_evaluation(
                out,
                thresholds=evaluated,
                algorithm=SEARCH_ALGORITHM,  # what fingerprint_search records
                gallery_persons=persons,
                mated_probes=max(1, min(150, persons // 2)),
                nonmated_probes=max(1, min(350, persons)),
                progress=progress,
            )
        with self._audited() as conn:
            evaluation_id = performance.record(conn, manifest, user.actor.user_id)
            seq = self._record(
                AuditKind.CONSULTATION,
                user,
                purpose,
                "biometric_evaluate",
                query,
                decision,
                [],
                {"report": str(out), "evaluation_id": evaluation_id},
                conn,
            )
        return Result(manifest, seq)

    def threshold_propose(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        modality: str,
        threshold: float,
        report_dir: Path,
        rationale: str,
    ) -> Result[Any]:
        """Propose a new threshold; refused unless a report at that threshold exists."""
        from leds.biometrics import thresholds as th

        query = {"modality": modality, "threshold": threshold, "report": str(report_dir)}
        decision = self._authorise(user, purpose, "threshold_propose", query)
        with self._audited() as conn:
            change = th.propose(
                conn,
                modality=_modality(modality),
                threshold=threshold,
                report_path=report_dir,
                proposer_id=user.actor.user_id,
                rationale=rationale,
            )
            seq = self._record(
                AuditKind.ALTERATION,
                user,
                purpose,
                "threshold_propose",
                {**query, "rationale": rationale},
                decision,
                [],
                change.as_dict(),
                conn,
            )
        return Result(change, seq)

    def threshold_decide(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        modality: str,
        version: int,
        *,
        approve: bool,
        note: str | None = None,
    ) -> Result[Any]:
        """Approve (or refuse, with a note) a proposed threshold: the oversight role only,
        never the proposer. An approved version is in force for every later search."""
        from leds.biometrics import thresholds as th

        query = {"modality": modality, "version": version, "approve": approve, "note": note}
        decision = self._authorise(user, purpose, "threshold_approve", query)
        with self._audited() as conn:
            if approve:
                change = th.approve(
                    conn,
                    modality=_modality(modality),
                    version=version,
                    approver_id=user.actor.user_id,
                    approver_role=user.actor.role,
                    note=note,
                )
            else:
                change = th.refuse(
                    conn,
                    modality=_modality(modality),
                    version=version,
                    decider_id=user.actor.user_id,
                    decider_role=user.actor.role,
                    note=note or "",
                )
            seq = self._record(
                AuditKind.ALTERATION,
                user,
                purpose,
                "threshold_approve" if approve else "threshold_refuse",
                query,
                decision,
                [],
                change.as_dict(),
                conn,
            )
        return Result(change, seq)


@dataclass(frozen=True, slots=True)
class _FingerprintProbe:
    sha256: str
    algorithm: str
    facts: dict[str, Any]

    def parameters(self) -> dict[str, Any]:
        return {"probe_sha256": self.sha256, "algorithm": self.algorithm, **self.facts}


def _gallery_size(gallery: Any) -> int:
    for name in ("live_count", "count", "size", "active"):  # active: the fingerprint gallery
        value = getattr(gallery, name, None)
        if value is not None:
            return int(value() if callable(value) else value)
    return 0
