"""The biometric performance and data quality screens (UI.md screens 9 and 10) through the one
door: authorise (policy actions ``biometric_performance`` and ``data_quality``: aggregates,
no one's data), read, record, respond.

* :meth:`QualityOps.biometric_performance`: per modality, the operational gallery (live
  templates), the latest recorded evaluation's figures (``leds.biometrics.performance``: the
  figures are stored with the evaluation when ``biometric_evaluate`` writes its report), and
  the threshold history with the evaluation each proposal's report is (matched by the SHA-256
  of its manifest).
* :meth:`QualityOps.biometric_plot`: one plot of a recorded evaluation, by the name the
  evaluation lists, checked against the SHA-256 recorded with it; each plot read is an entry.
* :meth:`QualityOps.data_quality`: per source imports, rows, rejected rows by masked reason,
  cross-source conflicts and timeliness; linkage runs and the current model's m/u
  parameters; the (not yet built) retention queue said to be so
  (``leds.governance.quality``).

Each call writes one audit entry (a consultation) whose sequence number the result carries.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from leds.governance import quality
from leds.governance.authn import AuthenticatedUser
from leds.governance.identity import PurposeStatement
from leds.model.codes import AuditKind
from leds.service._base import Result, ServiceBase
from leds.store.tables_biometrics import biometric_templates as bt

if TYPE_CHECKING:  # numpy and the report code load only when a screen is asked for
    from leds.biometrics import thresholds as th
    from leds.biometrics.performance import EvaluationRecord

HOW_TO_EVALUATE = {
    "face": (
        "Run one with “Run a new evaluation” on this page (data stewards and auditors), or "
        "with the command leds biometrics evaluate --out DIR."
    ),
    "fingerprint": (
        "Run one with the command leds biometrics evaluate --modality fingerprint --out DIR "
        "(synthetic prints through the gallery's own search; about a minute at the default "
        "350 persons), or POST /api/v1/biometrics/evaluations with modality fingerprint."
    ),
}


@dataclass(frozen=True, slots=True)
class ModalityPerformance:
    """What screen 9 shows for one modality."""

    modality: str
    enrolled: int  # live templates in the operational gallery
    algorithms: list[str]  # of those templates
    evaluation: EvaluationRecord | None  # the latest recorded evaluation
    evaluations: int  # how many are recorded
    in_force: th.ThresholdInForce
    default_threshold: float  # version 0, the shipped default (thresholds.toml)
    default_basis: str  # why version 0 is what it is
    history: list[th.ThresholdVersion]  # oldest first
    report_evaluations: dict[int, int]  # threshold version -> evaluation id of its report
    how_to_evaluate: str


@dataclass(frozen=True, slots=True)
class PlotImage:
    evaluation_id: int
    name: str
    data: bytes
    media_type: str = "image/png"


def _default_basis(modality: str) -> str:
    from leds.biometrics import thresholds as th

    try:
        with th.DEFAULTS_FILE.open("rb") as f:
            return str(tomllib.load(f)[modality].get("basis", ""))
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return ""


class QualityOps(ServiceBase):
    """The performance and quality screens (aggregates for stewards, oversight and the
    biometric reviewers)."""

    def biometric_performance(
        self, user: AuthenticatedUser, purpose: PurposeStatement
    ) -> Result[list[ModalityPerformance]]:
        """Per modality (face, fingerprint): the gallery, the latest evaluation's figures and
        the threshold history."""
        from leds.biometrics import performance
        from leds.biometrics import thresholds as th

        decision = self._authorise(user, purpose, "biometric_performance", {})
        out = []
        with self._store.engine.connect() as conn:
            for m in th.MODALITIES:
                live = conn.execute(
                    select(bt.c.algorithm, func.count())
                    .where(bt.c.modality == m, bt.c.removed_at.is_(None))
                    .group_by(bt.c.algorithm)
                    .order_by(bt.c.algorithm)
                ).all()
                history = th.history(conn, m)
                linked = performance.by_report(conn, (v.report_sha256 for v in history))
                out.append(
                    ModalityPerformance(
                        modality=m,
                        enrolled=sum(int(n) for _, n in live),
                        algorithms=[str(a) for a, _ in live],
                        evaluation=performance.latest(conn, m),
                        evaluations=performance.count(conn, m),
                        in_force=th.in_force(conn, m),
                        default_threshold=th.shipped_defaults()[m],
                        default_basis=_default_basis(m),
                        history=history,
                        report_evaluations={
                            v.version: linked[v.report_sha256]
                            for v in history
                            if v.report_sha256 in linked
                        },
                        how_to_evaluate=HOW_TO_EVALUATE[m],
                    )
                )
        shown = [p.evaluation.evaluation_id for p in out if p.evaluation is not None]
        seq = self._record(
            AuditKind.CONSULTATION,
            user,
            purpose,
            "biometric_performance",
            {},
            decision,
            [f"evaluation/{i}" for i in shown],
            {
                "evaluations": shown,
                "thresholds": {p.modality: p.in_force.version for p in out},
            },
        )
        return Result(out, seq)

    def biometric_plot(
        self, user: AuthenticatedUser, purpose: PurposeStatement, evaluation_id: int, name: str
    ) -> Result[PlotImage]:
        """One plot (PNG) of a recorded evaluation, by a name the evaluation lists."""
        from leds.biometrics import performance

        query: dict[str, Any] = {"evaluation_id": evaluation_id, "plot": name}
        decision = self._authorise(user, purpose, "biometric_performance", query)
        with self._store.engine.connect() as conn:
            evaluation = performance.get(conn, evaluation_id)
        data = performance.read_plot(evaluation, name)
        seq = self._record(
            AuditKind.CONSULTATION,
            user,
            purpose,
            "biometric_plot",
            query,
            decision,
            [f"evaluation/{evaluation_id}"],
            {"bytes": len(data)},
        )
        return Result(PlotImage(evaluation_id, name, data), seq)

    def data_quality(
        self, user: AuthenticatedUser, purpose: PurposeStatement
    ) -> Result[quality.DataQuality]:
        """Per source imports, rows, rejected rows by reason, conflicts and timeliness;
        linkage runs and model parameters; the retention queue (not built: said so)."""
        decision = self._authorise(user, purpose, "data_quality", {})
        with self._store.engine.connect() as conn:
            found = quality.data_quality(conn, self._data, datetime.now(UTC))
        seq = self._record(
            AuditKind.CONSULTATION,
            user,
            purpose,
            "data_quality",
            {},
            decision,
            [],
            {
                "sources": sum(1 for s in found.sources if s.imports),
                "rejected": sum(s.rejected for s in found.sources),
                "persons_in_conflict": found.conflicts.any_field,
                "runs": len(found.runs),
            },
        )
        return Result(found, seq)
