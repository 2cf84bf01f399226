"""The biometric performance report: HTML with PNG plots, CSV tables and a signed-off manifest.

A report directory holds ``report.html``, PNG plots, ``summary.csv`` (every figure, overall and
per demographic group, long format), ``det.csv``, ``cmc.csv``, ``histogram.csv`` and
``report.json``: the manifest naming the modality, algorithm, the thresholds the report
evaluated and the SHA-256 of every other file. A threshold proposal records the SHA-256 of
``report.json`` (:func:`load_manifest` re-checks every file against it), so a report cannot be
swapped or edited after the fact without the proposal noticing.

Plots are drawn on ``matplotlib.figure.Figure`` (the Agg canvas; no pyplot, no global backend).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from leds.biometrics.evaluate import (
    DIMENSIONS,
    Comparison,
    Evaluation,
    EvaluationError,
    EvaluationSet,
    FloatArray,
    Rates,
    Search,
    evaluate,
    synthetic_face_set,
)
from leds.errors import LedsError

if TYPE_CHECKING:  # matplotlib and jinja2 load only when a report is written
    from matplotlib.figure import Figure

FORMAT = "leds-biometric-report/1"
MANIFEST = "report.json"
NOTICE = "investigative lead — not an identification"
PLOT_DIMENSIONS = ("sex", "age_band", "ethnic_group")
MIN_GROUP_PLOT = 20  # fewer mated or non-mated searches than this: no curve for the group
DEFAULT_FACE_ALGORITHM = "synthetic-face-v1"


class ReportError(LedsError):
    """A report is missing, unreadable, or does not match its manifest."""


@dataclass(frozen=True, slots=True)
class ReportManifest:
    """What a written (or re-read) report says about itself."""

    directory: Path
    modality: str
    algorithm: str
    thresholds: tuple[float, ...]  # every threshold the report gives figures for
    operating_threshold: float | None
    fpir_target: float
    created_at: str
    sha256: str  # of report.json
    files: dict[str, str]

    @property
    def html(self) -> Path:
        return self.directory / "report.html"

    def evaluated(self, threshold: float) -> bool:
        """Whether the report gives figures at ``threshold``."""
        return any(math.isclose(t, threshold, rel_tol=0.0, abs_tol=1e-9) for t in self.thresholds)


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# --- plots ---


def _save(fig: Figure, path: Path) -> None:
    fig.subplots_adjust(left=0.13, right=0.97, top=0.92, bottom=0.11)  # tight_layout: 0.5 s
    fig.savefig(path, dpi=100, metadata={"Software": None})


def _det_axes(fig: Figure, title: str, x: str, y: str) -> Any:
    ax = fig.add_subplot()
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    return ax


def _plot_det(ax: Any, det: FloatArray, label: str) -> bool:
    if len(det) == 0:
        return False
    keep = (det[:, 1] > 0) & (det[:, 2] > 0)
    if not keep.any():
        return False
    ax.plot(det[keep, 1], det[keep, 2], label=label, linewidth=1.2)
    return True


def _plots(ev: Evaluation, out: Path) -> list[tuple[str, str]]:
    from matplotlib.figure import Figure

    made: list[tuple[str, str]] = []
    fig = Figure(figsize=(6.4, 4.8))
    ax = _det_axes(fig, f"DET: {ev.modality} 1:N (rank <= {ev.list_length})", "FPIR", "FNIR")
    if not _plot_det(ax, ev.det, "all searches"):
        ax.text(
            0.5, 0.5, "no point with FPIR > 0 and FNIR > 0", ha="center", transform=ax.transAxes
        )
    if ev.overall.fnir_at_fpir and ev.overall.fpir_at_operating:
        ax.plot(
            [ev.overall.fpir_at_operating],
            [ev.overall.fnir_at_fpir],
            "o",
            label=f"operating point (FPIR target {ev.fpir_target})",
        )
    for t, (fnir, fpir) in ev.overall.at_thresholds.items():
        if fnir and fpir:
            ax.plot([fpir], [fnir], "s", label=f"T = {t:g}")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    _save(fig, out / "det.png")
    made.append(("det.png", "DET, all searches (FNIR against FPIR, log axes)"))
    for dim in PLOT_DIMENSIONS:
        fig = Figure(figsize=(6.4, 4.8))
        ax = _det_axes(fig, f"DET by {dim.replace('_', ' ')}", "FPIR", "FNIR")
        drawn = False
        for value, det in ev.det_by_group[dim].items():
            rates = ev.by_group[dim][value]
            if rates.mated >= MIN_GROUP_PLOT and rates.nonmated >= MIN_GROUP_PLOT:
                drawn |= _plot_det(ax, det, f"{value} ({rates.mated}/{rates.nonmated})")
        if drawn:
            ax.legend(fontsize=8)
            _save(fig, out / f"det_{dim}.png")
            made.append((f"det_{dim}.png", f"DET by {dim.replace('_', ' ')}"))
    fig = Figure(figsize=(6.4, 4.8))
    ax = fig.add_subplot()
    ax.plot(ev.cmc[:, 0], ev.cmc[:, 1], marker=".", label="all searches")
    ax.set_xlabel("rank")
    ax.set_ylabel("identification rate (1 - FNIR, no threshold)")
    ax.set_title("CMC")
    ax.set_xlim(1, ev.list_length)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, out / "cmc.png")
    made.append(("cmc.png", "Cumulative match characteristic"))
    fig = Figure(figsize=(6.4, 4.8))
    ax = fig.add_subplot()
    bins = _bins(ev).tolist()
    if len(ev.mated_scores):
        ax.hist(ev.mated_scores, bins=bins, alpha=0.55, density=True, label="mated (mate score)")
    if len(ev.nonmated_scores):
        ax.hist(ev.nonmated_scores, bins=bins, alpha=0.55, density=True, label="non-mated (rank 1)")
    for t in ev.evaluated_thresholds:
        if math.isfinite(t):
            ax.axvline(t, color="k", linewidth=0.8, linestyle="--")
    ax.set_xlabel("score")
    ax.set_ylabel("density")
    ax.set_title("Mated and non-mated score distributions")
    ax.legend(fontsize=8)
    _save(fig, out / "histogram.png")
    made.append(("histogram.png", "Score histograms (dashed: evaluated thresholds)"))
    if ev.one_to_one_scores is not None:
        genuine, impostor = ev.one_to_one_scores
        if len(genuine) and len(impostor):
            fig = Figure(figsize=(6.4, 4.8))
            ax = _det_axes(fig, "DET: 1:1 verification", "FMR", "FNMR")
            if _plot_det(ax, _one_to_one_det(genuine, impostor), "all comparisons"):
                ax.legend(fontsize=8)
                _save(fig, out / "det_1to1.png")
                made.append(("det_1to1.png", "DET, 1:1 (FNMR against FMR, log axes)"))
    return made


def _bins(ev: Evaluation) -> FloatArray:
    both = np.concatenate([ev.mated_scores, ev.nonmated_scores])
    if len(both) == 0:
        return np.linspace(0.0, 1.0, 51)
    lo, hi = float(both.min()), float(both.max())
    if hi <= lo:
        hi = lo + 1.0
    return np.linspace(lo, hi, 61)


def _one_to_one_det(genuine: FloatArray, impostor: FloatArray) -> FloatArray:
    from leds.biometrics.evaluate import det_curve

    return det_curve(genuine, impostor)


# --- tables ---


def _rate_rows(dim: str, group: str, r: Rates, ev: Evaluation) -> list[list[Any]]:
    op = _num(ev.operating_threshold)
    rows: list[list[Any]] = [
        [dim, group, "mated_searches", None, None, r.mated, None],
        [dim, group, "nonmated_searches", None, None, r.nonmated, None],
        [dim, group, "failure_to_acquire_mated", None, None, r.mated_fta, r.mated],
        [dim, group, "failure_to_acquire_nonmated", None, None, r.nonmated_fta, r.nonmated],
        [dim, group, "enrolment_attempts", None, None, r.enrol_attempts, None],
        [dim, group, "failure_to_enrol", None, None, r.enrol_failures, r.enrol_attempts],
        [dim, group, "mates_not_returned", None, ev.list_length, r.mates_not_returned, r.mated],
        [dim, group, "fnir_at_fpir_target", op, ev.list_length, r.fnir_at_fpir, r.mated],
        [dim, group, "fpir_at_operating_threshold", op, None, r.fpir_at_operating, r.nonmated],
        [dim, group, "fnir_rank1_no_threshold", None, 1, r.fnir_rank1, r.mated],
        [dim, group, "fnir_rankR_no_threshold", None, ev.list_length, r.fnir_rank_r, r.mated],
    ]
    for t, (fnir, fpir) in r.at_thresholds.items():
        rows.append([dim, group, "fnir_at_threshold", t, ev.list_length, fnir, r.mated])
        rows.append([dim, group, "fpir_at_threshold", t, None, fpir, r.nonmated])
    return rows


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        for row in rows:
            w.writerow(["" if v is None else v for v in row])


def _tables(ev: Evaluation, out: Path) -> None:
    rows = _rate_rows("all", "all", ev.overall, ev)
    for dim in DIMENSIONS:
        for group, r in ev.by_group[dim].items():
            rows.extend(_rate_rows(dim, group, r, ev))
    one_sets = [("all", "all", ev.one_to_one)] if ev.one_to_one else []
    for dim, groups in ev.one_to_one_by_group.items():
        one_sets.extend((dim, g, o) for g, o in groups.items())
    for dim, group, o in one_sets:
        assert o is not None
        rows.append([dim, group, "genuine_comparisons", None, None, o.genuine, None])
        rows.append([dim, group, "impostor_comparisons", None, None, o.impostor, None])
        rows.append([dim, group, "failure_to_acquire_genuine", None, None, o.genuine_fta, None])
        for target, (t, fnmr, fmr) in o.fnmr_at_fmr.items():
            rows.append([dim, group, f"fnmr_at_fmr_{target:g}", _num(t), None, fnmr, o.genuine])
            rows.append([dim, group, f"fmr_achieved_{target:g}", _num(t), None, fmr, o.impostor])
    header = ("dimension", "group", "metric", "threshold", "rank", "value", "denominator")
    _write_csv(out / "summary.csv", header, rows)
    det_rows: list[list[Any]] = [["all", "all", *row] for row in ev.det.tolist()]
    for dim, curves in ev.det_by_group.items():
        for group, det in curves.items():
            det_rows.extend([dim, group, *row] for row in det.tolist())
    _write_csv(out / "det.csv", ("dimension", "group", "threshold", "fpir", "fnir"), det_rows)
    _write_csv(
        out / "cmc.csv",
        ("rank", "identification_rate", "fnir"),
        ([int(r), h, 1.0 - h] for r, h in ev.cmc.tolist()),
    )
    bins = _bins(ev)
    mated, _ = np.histogram(ev.mated_scores, bins=bins)
    nonmated, _ = np.histogram(ev.nonmated_scores, bins=bins)
    _write_csv(
        out / "histogram.csv",
        ("bin_low", "bin_high", "mated", "nonmated_rank1"),
        zip(bins[:-1].tolist(), bins[1:].tolist(), mated.tolist(), nonmated.tolist(), strict=True),
    )


# --- HTML and manifest ---


def _fmt(x: float | None, digits: int = 4) -> str:
    if x is None:
        return "—"
    if not math.isfinite(x):
        return "none" if x < 0 else "above all scores"
    return f"{x:.{digits}g}"


def _html(ev: Evaluation, plots: list[tuple[str, str]], created: str, title: str) -> str:
    from jinja2 import Environment

    from leds.biometrics._report_template import HTML_TEMPLATE

    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["f"] = _fmt
    return env.from_string(HTML_TEMPLATE).render(
        ev=ev,
        title=title,
        created=created,
        plots=plots,
        dimensions=DIMENSIONS,
        notice=NOTICE,
        thresholds=ev.thresholds,
    )


def write_report(
    evaluation: Evaluation, directory: Path, *, title: str | None = None
) -> ReportManifest:
    """Write the report of an evaluation into ``directory`` (created; files overwritten)."""
    out = Path(directory)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"cannot create the report directory {out}: {exc}") from exc
    ev = evaluation
    created = datetime.now(UTC).isoformat(timespec="seconds")
    heading = title or f"{ev.modality.capitalize()} 1:N performance — {ev.algorithm}"
    plots = _plots(ev, out)
    _tables(ev, out)
    (out / "report.html").write_text(_html(ev, plots, created, heading), encoding="utf-8")
    names = ["report.html", "summary.csv", "det.csv", "cmc.csv", "histogram.csv"]
    names += [p for p, _ in plots]
    files = {name: _sha256(out / name) for name in names}
    overall = ev.overall
    body = {
        "format": FORMAT,
        "title": heading,
        "modality": ev.modality,
        "algorithm": ev.algorithm,
        "created_at": created,
        "list_length": ev.list_length,
        "gallery_size": ev.gallery_size,
        "fpir_target": ev.fpir_target,
        "operating_threshold": _num(ev.operating_threshold),
        "thresholds_evaluated": [t for t in ev.evaluated_thresholds if math.isfinite(t)],
        "demographics": "recorded in the person record (sex, age band from DOB, ethnicity); "
        "never inferred from images",
        "overall": {
            "mated_searches": overall.mated,
            "nonmated_searches": overall.nonmated,
            "fnir_at_fpir_target": overall.fnir_at_fpir,
            "fnir_rank1": overall.fnir_rank1,
            "fnir_rankR": overall.fnir_rank_r,
            "failure_to_acquire": overall.mated_fta + overall.nonmated_fta,
            "failure_to_enrol": overall.enrol_failures,
            "at_thresholds": [
                {"threshold": t, "fnir": fnir, "fpir": fpir}
                for t, (fnir, fpir) in overall.at_thresholds.items()
            ],
        },
        "parameters": ev.parameters,
        "notes": ev.notes,
        "files": files,
    }
    (out / MANIFEST).write_text(json.dumps(body, indent=2, sort_keys=True), encoding="utf-8")
    return load_manifest(out)


def load_manifest(path: Path | str) -> ReportManifest:
    """Read a report (its directory, ``report.json`` or ``report.html``) and check its files.

    Raises :class:`ReportError` when the manifest is missing or unreadable, or when any file it
    lists is missing or differs from the SHA-256 it recorded.
    """
    p = Path(path)
    directory = p if p.is_dir() else p.parent
    manifest = directory / MANIFEST
    if not manifest.is_file():
        raise ReportError(
            f"no biometric report at {p} (no {MANIFEST})",
            hint="write one with `leds biometrics evaluate --out DIR` and give that directory",
        )
    try:
        body = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"cannot read {manifest}: {exc}") from exc
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise ReportError(f"{manifest} is not a leds biometric report ({FORMAT})")
    files = body.get("files")
    if not isinstance(files, dict) or "report.html" not in files:
        raise ReportError(f"{manifest} lists no report files")
    problems = []
    for name, digest in sorted(files.items()):
        target = directory / name
        if Path(name).name != name:
            problems.append(f"{name}: not a plain file name")
        elif not target.is_file():
            problems.append(f"{name}: missing")
        elif _sha256(target) != digest:
            problems.append(f"{name}: changed since the report was written")
    if problems:
        raise ReportError(
            f"the report at {directory} does not match its manifest: " + "; ".join(problems)
        )
    try:
        thresholds = tuple(float(t) for t in body["thresholds_evaluated"])
        op = body.get("operating_threshold")
        return ReportManifest(
            directory=directory,
            modality=str(body["modality"]),
            algorithm=str(body["algorithm"]),
            thresholds=thresholds,
            operating_threshold=None if op is None else float(op),
            fpir_target=float(body["fpir_target"]),
            created_at=str(body["created_at"]),
            sha256=_sha256(manifest),
            files={str(k): str(v) for k, v in files.items()},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ReportError(f"{manifest} is incomplete: {exc}") from exc


# --- runs ---

SYNTHETIC_NOTE = (
    "{what}: the generative model has no demographic effect by construction, so differences "
    "between groups here are sampling noise (and failures to enrol or acquire). This checks "
    "the method; it says nothing about a real algorithm's bias."
)


def _write_set(
    directory: Path,
    data: EvaluationSet,
    *,
    modality: str,
    algorithm: str,
    list_length: int,
    thresholds: Sequence[float],
    notes: Sequence[str] = (),
) -> ReportManifest:
    """Evaluate a set's searches (and 1:1 comparisons) and write the report: every run."""
    ev = evaluate(
        data.searches,
        modality=modality,
        algorithm=algorithm,
        list_length=list_length,
        thresholds=thresholds,
        comparisons=data.comparisons,
        enrol_attempts=data.enrol_attempts,
        enrol_failures=data.enrol_failures,
        gallery_size=data.gallery_size,
        parameters=data.parameters,
    )
    ev.notes.extend(notes)
    return write_report(ev, directory)


def run_face_evaluation(
    directory: Path,
    *,
    gallery_persons: int = 2000,
    mated_probes: int = 500,
    nonmated_probes: int = 1000,
    seed: int = 1,
    list_length: int = 20,
    thresholds: Sequence[float] = (),
    algorithm: str = DEFAULT_FACE_ALGORITHM,
    min_quality: int = 36,
    on: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> ReportManifest:
    """Evaluate face 1:N on synthetic templates (exact search) and write the report.

    Pass the gallery's algorithm name as ``algorithm`` so that a threshold proposed from this
    report applies to the searches that gallery runs. ``progress`` gets probe counts.
    """
    data = synthetic_face_set(
        gallery_persons=gallery_persons,
        mated_probes=mated_probes,
        nonmated_probes=nonmated_probes,
        seed=seed,
        list_length=list_length,
        min_quality=min_quality,
        on=on,
        progress=progress,
    )
    return _write_set(
        directory,
        data,
        modality="face",
        algorithm=algorithm,
        list_length=list_length,
        thresholds=thresholds,
        notes=[SYNTHETIC_NOTE.format(what="Synthetic templates")],
    )


def run_fingerprint_synthetic_evaluation(
    directory: Path,
    *,
    gallery_persons: int = 350,
    mated_probes: int = 150,
    nonmated_probes: int = 350,
    seed: int = 1,
    list_length: int = 20,
    thresholds: Sequence[float] = (),
    algorithm: str | None = None,
    min_quality: int | None = None,
    on: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> ReportManifest:
    """Evaluate fingerprint 1:N on synthetic prints with the gallery's own search (MCC-LSH
    pre-filter + MCC LSS-R, in a temporary gallery) and write the report.

    ``algorithm`` defaults to the search's name (``gallery.SEARCH_ALGORITHM``), which is what
    a fingerprint search records, so that a threshold proposed from this report applies to
    those searches. ``min_quality`` defaults to the benchmark's gate (40). ``progress`` gets
    one tick a probe.
    """
    from leds.biometrics.fingerprint import evaluation

    data = evaluation.synthetic_fingerprint_set(
        gallery_persons=gallery_persons,
        mated_probes=mated_probes,
        nonmated_probes=nonmated_probes,
        seed=seed,
        list_length=list_length,
        min_quality=evaluation.MIN_QUALITY if min_quality is None else min_quality,
        on=on,
        progress=progress,
    )
    size = f"{data.gallery_size:,}"
    return _write_set(
        directory,
        data,
        modality="fingerprint",
        algorithm=algorithm or str(data.parameters["search_algorithm"]),
        list_length=list_length,
        thresholds=thresholds,
        notes=[
            SYNTHETIC_NOTE.format(what="Synthetic prints (minutiae-level generator)"),
            f"The gallery holds {size} prints: the highest non-mated score, and so FPIR at a "
            "given threshold, grows with the gallery, so a threshold that holds FPIR here is "
            "optimistic for a larger operational gallery (docs/biometrics.md has the "
            "benchmark's non-mated top scores at 10k and 100k).",
        ],
    )


def run_fingerprint_evaluation(
    directory: Path,
    searches: Iterable[Search],
    *,
    algorithm: str,
    list_length: int = 20,
    thresholds: Sequence[float] = (),
    comparisons: Iterable[Comparison] = (),
    enrol_attempts: dict[Any, int] | None = None,
    enrol_failures: dict[Any, int] | None = None,
    gallery_size: int | None = None,
    parameters: dict[str, Any] | None = None,
) -> ReportManifest:
    """The fingerprint hook: a matcher's search results (see ``search_from_candidates``) in,
    report out. Scores are the matcher's own (e.g. MCC LSS-R x 100), higher = more similar.
    :func:`run_fingerprint_synthetic_evaluation` runs the gallery's own search instead."""
    items = list(searches)
    if not items:
        raise EvaluationError("no fingerprint searches given")
    data = EvaluationSet(
        items,
        list(comparisons),
        Counter(enrol_attempts or {}),
        Counter(enrol_failures or {}),
        gallery_size,
        dict(parameters or {}),
    )
    return _write_set(
        directory,
        data,
        modality="fingerprint",
        algorithm=algorithm,
        list_length=list_length,
        thresholds=thresholds,
    )
