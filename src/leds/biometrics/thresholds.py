"""Thresholds are versioned configuration (Bridges 2020; NPL 2023).

* Version 0 of each modality is the shipped default (``thresholds.toml``), in force until a
  version is approved.
* :func:`propose` records a new version with the SHA-256 of a performance report, and is refused
  unless that report (see :mod:`leds.biometrics.report`) is intact, is for the same modality and
  gives figures *at that threshold*.
* :func:`approve` puts a proposed version in force; only a user with the oversight role
  (``auditor``) may, and never the proposer. The report is re-checked against the SHA-256
  recorded at proposal. The version it replaces becomes ``superseded``; :func:`refuse` closes a
  proposal. Nothing is deleted: :func:`history` lists every version.
* :func:`in_force` is what every search records (version and value).

Functions take a SQLAlchemy ``Connection`` inside the caller's transaction and never write
audit events; each returns a :class:`ThresholdChange` for the caller's audit entry.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.exc import IntegrityError

from leds.biometrics.report import ReportError, load_manifest
from leds.errors import AccessDenied, LedsError, NotFound
from leds.governance.identity import Role
from leds.store.tables_biometrics import biometric_thresholds as T

MODALITIES = ("face", "fingerprint")
OVERSIGHT_ROLES = frozenset({Role.AUDITOR.value})
MIN_RATIONALE_WORDS = 3
DEFAULTS_FILE = Path(__file__).with_name("thresholds.toml")
ANY_ALGORITHM = "*"


class ThresholdError(LedsError, ValueError):
    """A threshold proposal or decision is not acceptable (say what to fix)."""


class ThresholdApprovalDenied(AccessDenied):
    """The user may not approve or refuse a threshold."""


@dataclass(frozen=True, slots=True)
class ThresholdInForce:
    """The threshold a search records: version 0 is the shipped default."""

    modality: str
    version: int
    threshold: float
    algorithm: str  # '*' for the shipped default: it applies to any algorithm
    report_sha256: str | None

    def applies_to(self, algorithm: str) -> bool:
        return self.algorithm in (ANY_ALGORITHM, algorithm)


@dataclass(frozen=True, slots=True)
class ThresholdVersion:
    modality: str
    version: int
    algorithm: str
    threshold: float
    status: str
    report_path: str
    report_sha256: str
    proposed_by: str
    proposed_at: datetime
    rationale: str
    approved_by: str | None
    approved_at: datetime | None
    refused_by: str | None
    refused_at: datetime | None
    decision_note: str | None
    superseded_at: datetime | None


@dataclass(frozen=True, slots=True)
class ThresholdChange:
    """What changed, for the caller's audit entry."""

    action: str  # propose | approve | refuse
    modality: str
    version: int
    threshold: float
    algorithm: str
    status: str
    report_sha256: str
    previous: ThresholdInForce | None  # the version in force before (approve)

    def as_dict(self) -> dict[str, Any]:
        prev = self.previous
        return {
            "action": self.action,
            "modality": self.modality,
            "version": self.version,
            "threshold": self.threshold,
            "algorithm": self.algorithm,
            "status": self.status,
            "report_sha256": self.report_sha256,
            "previous": None
            if prev is None
            else {"version": prev.version, "threshold": prev.threshold},
        }


def _modality(value: str) -> str:
    m = (value or "").strip().lower()
    if m not in MODALITIES:
        raise ThresholdError(f"unknown modality {value!r}", hint=f"one of: {', '.join(MODALITIES)}")
    return m


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@cache
def shipped_defaults() -> dict[str, float]:
    """Version 0 of each modality, from ``thresholds.toml``."""
    with DEFAULTS_FILE.open("rb") as f:
        body = tomllib.load(f)
    out: dict[str, float] = {}
    for m in MODALITIES:
        value = float(body[m]["threshold"])
        if not math.isfinite(value):
            raise ThresholdError(f"{DEFAULTS_FILE}: threshold of {m} is not a number")
        out[m] = value
    return out


def in_force(conn: Connection, modality: str) -> ThresholdInForce:
    """The threshold version in force for a modality (the shipped default if none approved)."""
    m = _modality(modality)
    row = conn.execute(
        select(T.c.version, T.c.threshold, T.c.algorithm, T.c.report_sha256)
        .where(T.c.modality == m, T.c.status == "in-force")
        .order_by(T.c.version.desc())
        .limit(1)
    ).first()
    if row is None:
        return ThresholdInForce(m, 0, shipped_defaults()[m], ANY_ALGORITHM, None)
    return ThresholdInForce(
        m, int(row.version), float(row.threshold), row.algorithm, row.report_sha256
    )


def _version_row(row: Any) -> ThresholdVersion:
    return ThresholdVersion(
        modality=row.modality,
        version=int(row.version),
        algorithm=row.algorithm,
        threshold=float(row.threshold),
        status=row.status,
        report_path=row.report_path,
        report_sha256=row.report_sha256,
        proposed_by=row.proposed_by,
        proposed_at=_utc(row.proposed_at) or row.proposed_at,
        rationale=row.rationale,
        approved_by=row.approved_by,
        approved_at=_utc(row.approved_at),
        refused_by=row.refused_by,
        refused_at=_utc(row.refused_at),
        decision_note=row.decision_note,
        superseded_at=_utc(row.superseded_at),
    )


def history(conn: Connection, modality: str) -> list[ThresholdVersion]:
    """Every proposed version of a modality, oldest first (version 0 is not a row)."""
    m = _modality(modality)
    rows = conn.execute(select(T).where(T.c.modality == m).order_by(T.c.version))
    return [_version_row(r) for r in rows]


def get_version(conn: Connection, modality: str, version: int) -> ThresholdVersion:
    m = _modality(modality)
    row = conn.execute(select(T).where(T.c.modality == m, T.c.version == version)).first()
    if row is None:
        raise NotFound(
            f"no {m} threshold version {version}",
            hint=f"see the history: leds biometrics threshold history {m}",
        )
    return _version_row(row)


def _rationale(text: str | None, what: str) -> str:
    clean = " ".join((text or "").split())
    if len(clean.split()) < MIN_RATIONALE_WORDS:
        raise ThresholdError(
            f"{what} needs a rationale", hint=f"say why in at least {MIN_RATIONALE_WORDS} words"
        )
    return clean


def propose(
    conn: Connection,
    *,
    modality: str,
    threshold: float,
    report_path: Path | str,
    proposer_id: str,
    rationale: str,
    now: datetime | None = None,
) -> ThresholdChange:
    """Record a proposed threshold version, backed by a report that evaluated it."""
    m = _modality(modality)
    if not isinstance(threshold, int | float) or not math.isfinite(threshold):
        raise ThresholdError(f"threshold {threshold!r} is not a finite number")
    if not proposer_id.strip():
        raise ThresholdError("a proposal needs the proposer's user id")
    why = _rationale(rationale, "a threshold proposal")
    try:
        report = load_manifest(report_path)
    except ReportError as exc:
        raise ThresholdError(
            f"refused: {exc.message}",
            hint="a threshold change needs a performance report at the new threshold "
            "(leds biometrics evaluate --threshold T --out DIR)",
        ) from exc
    if report.modality != m:
        raise ThresholdError(
            f"refused: the report at {report.directory} evaluates {report.modality}, not {m}"
        )
    if not report.evaluated(float(threshold)):
        evaluated = ", ".join(f"{t:g}" for t in report.thresholds) or "none"
        raise ThresholdError(
            f"refused: the report at {report.directory} has no figures at threshold "
            f"{threshold:g} (it evaluated: {evaluated})",
            hint=f"run the evaluation with --threshold {threshold:g} and propose with that report",
        )
    when = now or datetime.now(UTC)
    latest = conn.execute(select(func.max(T.c.version)).where(T.c.modality == m)).scalar()
    version = int(latest or 0) + 1
    try:
        conn.execute(
            T.insert().values(
                modality=m,
                version=version,
                algorithm=report.algorithm,
                threshold=float(threshold),
                report_path=str(report.directory.resolve()),
                report_sha256=report.sha256,
                proposed_by=proposer_id,
                proposed_at=when,
                status="proposed",
                rationale=why,
            )
        )
    except IntegrityError as exc:
        raise ThresholdError(
            f"another {m} threshold version {version} was proposed at the same time; try again"
        ) from exc
    return ThresholdChange(
        "propose", m, version, float(threshold), report.algorithm, "proposed", report.sha256, None
    )


def _oversight(role: str, user_id: str, action: str) -> None:
    if role not in OVERSIGHT_ROLES:
        raise ThresholdApprovalDenied(
            f"{user_id} ({role}) may not {action} a threshold",
            hint="only a user with the oversight role (auditor) may",
        )


def _proposed(
    conn: Connection, m: str, version: int, user_id: str, action: str
) -> ThresholdVersion:
    v = get_version(conn, m, version)
    if v.status != "proposed":
        raise ThresholdError(f"{m} threshold version {version} is {v.status}, not proposed")
    if v.proposed_by == user_id:
        raise ThresholdApprovalDenied(
            f"{user_id} proposed {m} threshold version {version} and may not {action} it",
            hint="another oversight user must decide",
        )
    return v


def approve(
    conn: Connection,
    *,
    modality: str,
    version: int,
    approver_id: str,
    approver_role: str,
    note: str | None = None,
    now: datetime | None = None,
) -> ThresholdChange:
    """Put a proposed version in force (oversight role only, not the proposer)."""
    m = _modality(modality)
    _oversight(approver_role, approver_id, "approve")
    v = _proposed(conn, m, version, approver_id, "approve")
    try:
        report = load_manifest(v.report_path)
    except ReportError as exc:
        raise ThresholdError(
            f"refused: the report of version {version} can no longer be verified: {exc.message}"
        ) from exc
    if report.sha256 != v.report_sha256:
        raise ThresholdError(
            f"refused: the report at {v.report_path} changed since version {version} was "
            "proposed (SHA-256 differs)",
            hint="propose again with the report as it now stands",
        )
    previous = in_force(conn, m)
    when = now or datetime.now(UTC)
    conn.execute(
        update(T)
        .where(T.c.modality == m, T.c.status == "in-force")
        .values(status="superseded", superseded_at=when)
    )
    try:
        done = conn.execute(
            update(T)
            .where(T.c.modality == m, T.c.version == version, T.c.status == "proposed")
            .values(
                status="in-force",
                approved_by=approver_id,
                approved_at=when,
                decision_note=" ".join((note or "").split()) or None,
            )
        )
    except IntegrityError as exc:  # uq_threshold_in_force: another approval won the race
        raise ThresholdError(
            f"another {m} threshold version was approved at the same time; reload and retry"
        ) from exc
    if done.rowcount != 1:
        raise ThresholdError(f"{m} threshold version {version} was decided meanwhile; reload")
    return ThresholdChange(
        "approve", m, version, v.threshold, v.algorithm, "in-force", v.report_sha256, previous
    )


def refuse(
    conn: Connection,
    *,
    modality: str,
    version: int,
    decider_id: str,
    decider_role: str,
    note: str,
    now: datetime | None = None,
) -> ThresholdChange:
    """Refuse a proposed version (oversight role only, not the proposer; a note is required)."""
    m = _modality(modality)
    _oversight(decider_role, decider_id, "refuse")
    why = _rationale(note, "refusing a threshold")
    v = _proposed(conn, m, version, decider_id, "refuse")
    when = now or datetime.now(UTC)
    done = conn.execute(
        update(T)
        .where(T.c.modality == m, T.c.version == version, T.c.status == "proposed")
        .values(status="refused", refused_by=decider_id, refused_at=when, decision_note=why)
    )
    if done.rowcount != 1:
        raise ThresholdError(f"{m} threshold version {version} was decided meanwhile; reload")
    return ThresholdChange(
        "refuse", m, version, v.threshold, v.algorithm, "refused", v.report_sha256, None
    )
