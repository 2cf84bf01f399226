"""What the biometric performance screen (UI.md screen 9) shows, kept where the service can
read it back: one ``biometric_evaluations`` row per report written through the service.

Why a table (migration 0007) rather than re-reading report directories or the audit log: the
screen must answer "what is the latest evaluation of face 1:N?" with one indexed query, and an
audit entry is a record of an act, not a place to keep figures. The row holds the report's
directory and the SHA-256 of its manifest (``report.json``, which itself holds the SHA-256 of
every other file: the same chain a threshold proposal rests on, so a proposal's report is
recognised by that hash), and the figures read from the report when it was written
(:func:`figures_of`: ``report.json`` and ``summary.csv``), as JSON. A later edit of the files
does not change what the screen shows; a plot is served only if its bytes still match the
SHA-256 recorded with it (:func:`read_plot`), and only by a name the row lists — never by a
path taken from a request.

Functions take a SQLAlchemy ``Connection`` inside the caller's transaction and write no audit
events (the service does).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from leds.biometrics.report import MANIFEST, ReportError, ReportManifest
from leds.errors import NotFound
from leds.store.tables_biometrics import biometric_evaluations as E

FORMAT = "leds-evaluation-figures/1"
GROUP_DIMENSIONS = ("sex", "age_band", "ethnic_group")  # summary.csv also has the fine codes
PLOT_NAME = re.compile(r"[a-z0-9_]{1,40}\.png")
PLOT_CAPTIONS = {
    "det.png": "DET, all searches: FNIR against FPIR (log axes)",
    "det_sex.png": "DET by recorded sex",
    "det_age_band.png": "DET by age band (from the recorded date of birth)",
    "det_ethnic_group.png": "DET by recorded ethnic group",
    "cmc.png": "Cumulative match characteristic: identification rate by rank",
    "histogram.png": "Mated and non-mated score histograms (dashed: evaluated thresholds)",
    "det_1to1.png": "DET, 1:1 verification: FNMR against FMR (log axes)",
}


@dataclass(frozen=True, slots=True)
class EvaluationRecord:
    """A recorded evaluation: where its report is, and the figures read from it."""

    evaluation_id: int
    modality: str
    algorithm: str
    created_at: datetime
    actor_id: str
    report_path: str
    report_sha256: str
    figures: dict[str, Any]

    @property
    def plots(self) -> list[dict[str, str]]:
        return list(self.figures.get("plots", []))


def _number(text: str) -> float | None:
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _rates() -> dict[str, Any]:
    return {
        "mated": 0,
        "nonmated": 0,
        "failure_to_acquire_mated": 0,
        "failure_to_acquire_nonmated": 0,
        "enrolment_attempts": 0,
        "failure_to_enrol": 0,
        "fnir_at_fpir_target": None,
        "fpir_at_operating_threshold": None,
        "fnir_rank1": None,
        "fnir_rank_r": None,
        "at_thresholds": [],
        "genuine": 0,
        "impostor": 0,
        "fnmr_at_fmr": [],
    }


_COUNTS = {
    "mated_searches": "mated",
    "nonmated_searches": "nonmated",
    "failure_to_acquire_mated": "failure_to_acquire_mated",
    "failure_to_acquire_nonmated": "failure_to_acquire_nonmated",
    "enrolment_attempts": "enrolment_attempts",
    "failure_to_enrol": "failure_to_enrol",
    "genuine_comparisons": "genuine",
    "impostor_comparisons": "impostor",
}
_RATES = {
    "fnir_at_fpir_target": "fnir_at_fpir_target",
    "fpir_at_operating_threshold": "fpir_at_operating_threshold",
    "fnir_rank1_no_threshold": "fnir_rank1",
    "fnir_rankR_no_threshold": "fnir_rank_r",
}


def _fold(rows: Iterable[dict[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The long rows of ``summary.csv`` as one dict of figures per (dimension, group)."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    at: dict[tuple[str, str], dict[float, dict[str, float | None]]] = {}
    fmr: dict[tuple[str, str], dict[str, dict[str, float | None]]] = {}
    for row in rows:
        key = (row["dimension"], row["group"])
        rates = out.setdefault(key, _rates())
        metric, value = row["metric"], _number(row["value"])
        threshold = _number(row["threshold"])
        if metric in _COUNTS:
            rates[_COUNTS[metric]] = int(value or 0)
        elif metric in _RATES:
            rates[_RATES[metric]] = value
        elif metric in ("fnir_at_threshold", "fpir_at_threshold") and threshold is not None:
            point = at.setdefault(key, {}).setdefault(threshold, {"fnir": None, "fpir": None})
            point[metric[:4]] = value
        elif metric.startswith(("fnmr_at_fmr_", "fmr_achieved_")):
            target = metric.rsplit("_", 1)[1]
            entry = fmr.setdefault(key, {}).setdefault(
                target, {"threshold": None, "fnmr": None, "fmr_achieved": None}
            )
            entry["threshold"] = threshold
            entry["fnmr" if metric.startswith("fnmr") else "fmr_achieved"] = value
    for key, points in at.items():
        out[key]["at_thresholds"] = [
            {"threshold": t, **p} for t, p in sorted(points.items(), key=lambda kv: kv[0])
        ]
    for key, targets in fmr.items():
        out[key]["fnmr_at_fmr"] = [
            {"fmr_target": float(t), **v}
            for t, v in sorted(targets.items(), key=lambda kv: -float(kv[0]))
        ]
    return out


def figures_of(manifest: ReportManifest) -> dict[str, Any]:
    """The figures of a written (and checked) report, as the screen shows them."""
    directory = manifest.directory
    try:
        body = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        with (directory / "summary.csv").open(newline="", encoding="utf-8") as f:
            folded = _fold(csv.DictReader(f))
    except (OSError, ValueError, KeyError) as exc:
        raise ReportError(f"cannot read the figures of the report at {directory}: {exc}") from exc
    overall = folded.get(("all", "all"), _rates())
    groups = [
        {"dimension": dim, "group": group, **rates}
        for (dim, group), rates in sorted(folded.items())
        if dim in GROUP_DIMENSIONS
    ]
    parameters = body.get("parameters") or {}
    plots = [
        {"name": name, "caption": PLOT_CAPTIONS.get(name, name), "sha256": digest}
        for name, digest in sorted(manifest.files.items(), key=lambda kv: _plot_order(kv[0]))
        if PLOT_NAME.fullmatch(name)
    ]
    return {
        "format": FORMAT,
        "title": str(body.get("title", "")),
        "list_length": int(body.get("list_length") or 0),
        "fpir_target": manifest.fpir_target,
        "operating_threshold": manifest.operating_threshold,
        "thresholds_evaluated": list(manifest.thresholds),
        "gallery": {
            "size": body.get("gallery_size"),
            "persons": parameters.get("gallery_persons"),
            "enrolment_attempts": overall["enrolment_attempts"],
            "failure_to_enrol": overall["failure_to_enrol"],
        },
        "probes": {
            "mated": overall["mated"],
            "nonmated": overall["nonmated"],
            "failure_to_acquire_mated": overall["failure_to_acquire_mated"],
            "failure_to_acquire_nonmated": overall["failure_to_acquire_nonmated"],
            "data": parameters.get("data"),
        },
        "overall": overall,
        "groups": groups,
        "demographics": str(body.get("demographics", "")),
        "parameters": {
            str(k): v for k, v in parameters.items() if isinstance(v, str | int | float)
        },
        "notes": [str(n) for n in body.get("notes", [])],
        "plots": plots,
    }


def _plot_order(name: str) -> tuple[int, str]:
    order = list(PLOT_CAPTIONS)
    return (order.index(name) if name in order else len(order), name)


def record(conn: Connection, manifest: ReportManifest, actor_id: str) -> int:
    """Record a written report (and its figures); returns the evaluation's id."""
    figures = figures_of(manifest)
    created = datetime.fromisoformat(manifest.created_at)
    row = conn.execute(
        E.insert().returning(E.c.id),
        {
            "modality": manifest.modality,
            "algorithm": manifest.algorithm,
            "created_at": created if created.tzinfo else created.replace(tzinfo=UTC),
            "actor_id": actor_id,
            "report_path": str(manifest.directory.resolve()),
            "report_sha256": manifest.sha256,
            "figures": json.dumps(figures, sort_keys=True),
        },
    ).one()
    return int(row.id)


def _record_of(row: Any) -> EvaluationRecord:
    created = row.created_at
    return EvaluationRecord(
        evaluation_id=int(row.id),
        modality=row.modality,
        algorithm=row.algorithm,
        created_at=created if created.tzinfo else created.replace(tzinfo=UTC),
        actor_id=row.actor_id,
        report_path=row.report_path,
        report_sha256=row.report_sha256,
        figures=json.loads(row.figures),
    )


def latest(conn: Connection, modality: str) -> EvaluationRecord | None:
    """The most recent evaluation of ``modality``, or None."""
    row = conn.execute(
        select(E).where(E.c.modality == modality).order_by(E.c.id.desc()).limit(1)
    ).first()
    return None if row is None else _record_of(row)


def count(conn: Connection, modality: str) -> int:
    return int(conn.execute(select(func.count()).where(E.c.modality == modality)).scalar() or 0)


def by_report(conn: Connection, sha256s: Iterable[str]) -> dict[str, int]:
    """Evaluation ids by the SHA-256 of their manifest (what a threshold proposal records)."""
    wanted = sorted(set(sha256s))
    if not wanted:
        return {}
    rows = conn.execute(
        select(E.c.report_sha256, func.max(E.c.id))
        .where(E.c.report_sha256.in_(wanted))
        .group_by(E.c.report_sha256)
    )
    return {str(sha): int(i) for sha, i in rows}


def get(conn: Connection, evaluation_id: int) -> EvaluationRecord:
    row = conn.execute(select(E).where(E.c.id == evaluation_id)).first()
    if row is None:
        raise NotFound(f"no biometric evaluation {evaluation_id}")
    return _record_of(row)


def read_plot(evaluation: EvaluationRecord, name: str) -> bytes:
    """The bytes of one plot the evaluation lists, checked against the SHA-256 recorded with
    it. ``name`` is looked up in the row, never joined to a path as given."""
    listed = {p["name"]: p for p in evaluation.plots}
    if name not in listed:
        raise NotFound(
            f"evaluation {evaluation.evaluation_id} has no plot {name!r}",
            hint="one of: " + ", ".join(sorted(listed)) if listed else "it has no plots",
        )
    entry = listed[name]
    path = Path(evaluation.report_path) / entry["name"]
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReportError(
            f"the plot {name} of evaluation {evaluation.evaluation_id} cannot be read: "
            f"{exc.strerror or exc}",
            hint="the report directory was moved or deleted; run a new evaluation",
        ) from exc
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise ReportError(
            f"the plot {name} of evaluation {evaluation.evaluation_id} has changed since the "
            "report was written",
            hint="run a new evaluation",
        )
    return data


def report_folder(data_dir: Path, modality: str) -> Path:
    """A new folder for a report under ``DATA/biometrics/reports/`` (UTC time in its name)."""
    base = Path(data_dir) / "biometrics" / "reports"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = base / f"{modality}-{stamp}"
    k = 1
    while folder.exists():
        k += 1
        folder = base / f"{modality}-{stamp}-{k}"
    return folder
