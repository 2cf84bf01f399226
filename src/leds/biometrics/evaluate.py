"""Biometric performance the NIST way (ISO/IEC 19795-1, NIST FRTE conventions).

Input is what a 1:N system returns: per search (probe) the candidate scores in rank order, whether
the probe has a mate in the gallery and, if the mate was returned, its rank. Each search carries
the demographic group **recorded in the person record** (sex, age band from the date of birth,
recorded ethnicity) — never anything inferred from the image.

Definitions (N = gallery size, L = candidate list length, T = threshold, R <= L = rank):

* FNIR(N, R, T): share of mated searches whose mate is *not* returned at rank <= R with a score
  >= T. A mated probe that failed to be acquired (quality refusal) or whose mate failed to enrol
  counts as a miss: failures are counted, never dropped.
* FPIR(N, T): share of non-mated searches returning any candidate with score >= T (the rank-1
  score decides). A non-mated probe that failed to be acquired returns nothing (no false
  positive) and stays in the denominator.
* Identification mode: FNIR at the threshold where FPIR = 0.003 (set on all non-mated searches;
  the same threshold is then applied to every demographic group, which is what exposes
  differentials). Investigation mode: FNIR at rank 1 and rank R with no threshold (NIST's
  "T = 0"; here T = -inf so that negative cosine scores count too).
* 1:1: FNMR at fixed FMR (1e-2, 1e-3, 1e-4) from genuine and impostor comparison scores.

With n non-mated searches FPIR moves in steps of 1/n: below n = 334 an FPIR of 0.003 is not
resolvable and the threshold is set just above the highest non-mated score (reported as such).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, select

from leds.errors import LedsError
from leds.store.schema import records

FPIR_TARGET = 0.003
FMR_TARGETS = (1e-2, 1e-3, 1e-4)
DIMENSIONS = ("sex", "age_band", "ethnic_group", "ethnicity")
AGE_BANDS: tuple[tuple[int, int, str], ...] = (
    (0, 18, "under 18"),
    (18, 25, "18-24"),
    (25, 35, "25-34"),
    (35, 45, "35-44"),
    (45, 55, "45-54"),
    (55, 65, "55-64"),
    (65, 200, "65+"),
)
UNKNOWN = "not recorded"
ETHNIC_GROUPS = {
    "A": "Asian",
    "B": "Black",
    "M": "Mixed",
    "W": "White",
    "O": "Other",
}
DET_POINTS = 400

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class EvaluationError(LedsError, ValueError):
    """The evaluation input is unusable (no searches, inconsistent ranks, bad targets)."""


@dataclass(frozen=True, slots=True, order=True)
class Group:
    """A demographic group as recorded in the person record."""

    sex: str = UNKNOWN
    age_band: str = UNKNOWN
    ethnicity: str = UNKNOWN

    @property
    def ethnic_group(self) -> str:
        """The broad group of the recorded code (W1 -> White); 'Not stated' stays apart."""
        if self.ethnicity in (UNKNOWN, "NS"):
            return "not stated" if self.ethnicity == "NS" else UNKNOWN
        return ETHNIC_GROUPS.get(self.ethnicity[:1], UNKNOWN)

    def value(self, dimension: str) -> str:
        if dimension not in DIMENSIONS:
            raise EvaluationError(f"unknown dimension {dimension!r}", hint=f"one of {DIMENSIONS}")
        return str(getattr(self, dimension))


def age_band(dob: date | None, on: date) -> str:
    """The age band of a date of birth on a day (``not recorded`` without a DOB)."""
    if dob is None:
        return UNKNOWN
    age = on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))
    for low, high, label in AGE_BANDS:
        if low <= age < high:
            return label
    return UNKNOWN


def group_of(sex: str | None, dob: date | None, ethnicity: str | None, on: date) -> Group:
    """The group of a person record's recorded sex, date of birth and ethnicity."""
    s = (sex or "").strip().upper()
    e = (ethnicity or "").strip().upper()
    return Group(
        sex=s if s in ("M", "F") else UNKNOWN,
        age_band=age_band(dob, on),
        ethnicity=e or UNKNOWN,
    )


def groups_for_records(conn: Connection, record_ids: Iterable[int], on: date) -> dict[int, Group]:
    """Groups of person records read from the store (the recorded values, nothing inferred)."""
    ids = sorted(set(record_ids))
    out: dict[int, Group] = {}
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        rows = conn.execute(
            select(records.c.id, records.c.sex, records.c.dob, records.c.ethnicity).where(
                records.c.id.in_(chunk)
            )
        )
        for rid, sex, dob, eth in rows:
            out[int(rid)] = group_of(sex, dob, eth, on)
    return out


@dataclass(frozen=True, slots=True)
class Search:
    """One 1:N search as returned: scores in rank order (rank 1 first)."""

    probe_id: str
    group: Group
    mated: bool
    scores: tuple[float, ...] = ()
    mate_rank: int | None = None  # 1-based rank of the mate in ``scores``; None = not returned
    failed_to_acquire: bool = False


@dataclass(frozen=True, slots=True)
class Comparison:
    """One 1:1 comparison (genuine when ``mated``)."""

    score: float
    mated: bool
    group: Group
    failed_to_acquire: bool = False


def search_from_candidates(
    probe_id: str,
    group: Group,
    candidates: Iterable[tuple[str, float]],
    mate_id: str | None,
    *,
    failed_to_acquire: bool = False,
) -> Search:
    """A :class:`Search` from a matcher's (candidate id, score) list: the hook for any matcher.

    ``mate_id`` is the probe's true mate in the gallery (None for a non-mated search). The
    list is ranked here by descending score (ties by id), so unranked output is fine too.
    """
    ranked = sorted(candidates, key=lambda c: (-c[1], c[0]))
    rank = next((i + 1 for i, (cid, _) in enumerate(ranked) if cid == mate_id), None)
    if failed_to_acquire:
        ranked, rank = [], None
    return Search(
        probe_id,
        group,
        mate_id is not None,
        tuple(float(s) for _, s in ranked),
        rank,
        failed_to_acquire,
    )


@dataclass(frozen=True, slots=True)
class Rates:
    """Every figure for one set of searches (all, or one demographic group)."""

    mated: int
    nonmated: int
    mated_fta: int
    nonmated_fta: int
    mates_not_returned: int
    fnir_at_fpir: float | None  # at the global operating threshold
    fpir_at_operating: float | None
    fnir_rank1: float | None
    fnir_rank_r: float | None
    at_thresholds: dict[float, tuple[float | None, float | None]]  # T -> (FNIR, FPIR)
    enrol_attempts: int = 0
    enrol_failures: int = 0


@dataclass(frozen=True, slots=True)
class OneToOne:
    genuine: int
    impostor: int
    genuine_fta: int
    fnmr_at_fmr: dict[float, tuple[float, float | None, float]]  # target -> (T, FNMR, FMR)


@dataclass
class Evaluation:
    """The result of :func:`evaluate`; :mod:`leds.biometrics.report` writes it out."""

    modality: str
    algorithm: str
    list_length: int
    fpir_target: float
    operating_threshold: float
    fpir_resolution: float
    thresholds: tuple[float, ...]
    overall: Rates
    by_group: dict[str, dict[str, Rates]]
    det: FloatArray  # rows: (threshold, FPIR, FNIR)
    cmc: FloatArray  # rows: (rank, hit rate)
    det_by_group: dict[str, dict[str, FloatArray]]
    mated_scores: FloatArray
    nonmated_scores: FloatArray
    one_to_one: OneToOne | None = None
    one_to_one_by_group: dict[str, dict[str, OneToOne]] = field(default_factory=dict)
    one_to_one_scores: tuple[FloatArray, FloatArray] | None = None
    gallery_size: int | None = None
    notes: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def evaluated_thresholds(self) -> tuple[float, ...]:
        """Every threshold with figures in the report (requested ones + the operating one)."""
        return tuple(sorted({*self.thresholds, self.operating_threshold}))


class _Arrays:
    """Column arrays of the searches, for vectorised rates."""

    def __init__(self, searches: Sequence[Search], list_length: int) -> None:
        mated = [s for s in searches if s.mated]
        nonmated = [s for s in searches if not s.mated]
        self.m_groups = [s.group for s in mated]
        self.n_groups = [s.group for s in nonmated]
        self.m_rank = np.full(len(mated), np.inf)
        self.m_score = np.full(len(mated), -np.inf)
        self.m_fta = np.array([s.failed_to_acquire for s in mated], dtype=bool)
        for i, s in enumerate(mated):
            if s.failed_to_acquire or s.mate_rank is None or s.mate_rank > list_length:
                continue
            self.m_rank[i] = s.mate_rank
            self.m_score[i] = s.scores[s.mate_rank - 1]
        self.n_top = np.array(
            [s.scores[0] if s.scores and not s.failed_to_acquire else -np.inf for s in nonmated],
            dtype=np.float64,
        )
        self.n_fta = np.array([s.failed_to_acquire for s in nonmated], dtype=bool)


def _check(searches: Sequence[Search], list_length: int) -> None:
    problems: list[str] = []
    for s in searches:
        if any(b > a for a, b in zip(s.scores, s.scores[1:], strict=False)):
            problems.append(f"{s.probe_id}: scores are not in descending rank order")
        if s.mate_rank is not None and not 1 <= s.mate_rank <= len(s.scores):
            problems.append(f"{s.probe_id}: mate rank {s.mate_rank} outside its list")
        if not s.mated and s.mate_rank is not None:
            problems.append(f"{s.probe_id}: a non-mated search cannot have a mate rank")
        if len(s.scores) > list_length:
            problems.append(f"{s.probe_id}: {len(s.scores)} candidates > list length")
        if any(not math.isfinite(x) for x in s.scores):
            problems.append(f"{s.probe_id}: a score is not a finite number")
        if len(problems) >= 10:
            break
    if problems:
        raise EvaluationError("bad search results: " + "; ".join(problems))


def threshold_at_rate(impostor: FloatArray, target: float) -> tuple[float, float]:
    """The lowest threshold whose false-positive rate over ``impostor`` scores is <= target.

    Returns (threshold, achieved rate). Scores >= threshold are positives.
    """
    n = len(impostor)
    if n == 0:
        return math.inf, 0.0
    top = np.sort(impostor)[::-1]
    allowed = math.floor(target * n + 1e-9)
    if allowed >= n or not np.isfinite(top[allowed]):
        return -math.inf, float(np.mean(impostor >= -np.inf))
    t = float(np.nextafter(top[allowed], np.inf))
    return t, float(np.mean(impostor >= t))


def _fnir(a: _Arrays, idx: IntArray, threshold: float, rank: float) -> float | None:
    if len(idx) == 0:
        return None
    hit = (a.m_rank[idx] <= rank) & (a.m_score[idx] >= threshold)
    return float(1.0 - np.mean(hit))


def _fpir(a: _Arrays, idx: IntArray, threshold: float) -> float | None:
    if len(idx) == 0:
        return None
    return float(np.mean(a.n_top[idx] >= threshold))


def _rates(
    a: _Arrays,
    m_idx: IntArray,
    n_idx: IntArray,
    operating: float,
    thresholds: Sequence[float],
    list_length: int,
    enrol: tuple[int, int],
) -> Rates:
    return Rates(
        mated=len(m_idx),
        nonmated=len(n_idx),
        mated_fta=int(a.m_fta[m_idx].sum()),
        nonmated_fta=int(a.n_fta[n_idx].sum()),
        mates_not_returned=int(np.sum(~np.isfinite(a.m_rank[m_idx]) & ~a.m_fta[m_idx])),
        fnir_at_fpir=_fnir(a, m_idx, operating, list_length),
        fpir_at_operating=_fpir(a, n_idx, operating),
        fnir_rank1=_fnir(a, m_idx, -math.inf, 1),
        fnir_rank_r=_fnir(a, m_idx, -math.inf, list_length),
        at_thresholds={
            t: (_fnir(a, m_idx, t, list_length), _fpir(a, n_idx, t)) for t in thresholds
        },
        enrol_attempts=enrol[0],
        enrol_failures=enrol[1],
    )


def det_curve(
    mated_scores: FloatArray, nonmated_top: FloatArray, points: int = DET_POINTS
) -> FloatArray:
    """(threshold, FPIR, FNIR) over every distinct score, thinned to about ``points`` rows.

    ``mated_scores`` holds -inf for mates not returned (or failed), which never count as hits.
    """
    finite = np.concatenate([mated_scores[np.isfinite(mated_scores)], nonmated_top])
    finite = finite[np.isfinite(finite)]
    if len(finite) == 0 or len(mated_scores) == 0 or len(nonmated_top) == 0:
        return np.empty((0, 3))
    ts = np.unique(finite)
    if len(ts) > points:
        ts = np.unique(np.quantile(ts, np.linspace(0.0, 1.0, points)))
    m_sorted = np.sort(mated_scores)
    n_sorted = np.sort(nonmated_top)
    fnir = np.searchsorted(m_sorted, ts, side="left") / len(m_sorted)
    fpir = 1.0 - np.searchsorted(n_sorted, ts, side="left") / len(n_sorted)
    return np.column_stack([ts, fpir, fnir])


def _one_to_one(comparisons: Sequence[Comparison], targets: Sequence[float]) -> OneToOne | None:
    genuine = np.array(
        [-np.inf if c.failed_to_acquire else c.score for c in comparisons if c.mated]
    )
    impostor = np.array([c.score for c in comparisons if not c.mated and not c.failed_to_acquire])
    if len(genuine) == 0 and len(impostor) == 0:
        return None
    out: dict[float, tuple[float, float | None, float]] = {}
    for target in targets:
        t, fmr = threshold_at_rate(impostor, target)
        fnmr = float(np.mean(genuine < t)) if len(genuine) else None
        out[target] = (t, fnmr, fmr)
    fta = sum(1 for c in comparisons if c.mated and c.failed_to_acquire)
    return OneToOne(len(genuine), len(impostor), fta, out)


def evaluate(
    searches: Iterable[Search],
    *,
    modality: str,
    algorithm: str,
    list_length: int = 20,
    thresholds: Sequence[float] = (),
    fpir_target: float = FPIR_TARGET,
    comparisons: Iterable[Comparison] = (),
    fmr_targets: Sequence[float] = FMR_TARGETS,
    enrol_attempts: Mapping[Group, int] | None = None,
    enrol_failures: Mapping[Group, int] | None = None,
    gallery_size: int | None = None,
    parameters: Mapping[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Evaluation:
    """All the figures of a report: overall, by demographic group, DET, CMC, histograms.

    ``thresholds`` are the operating thresholds under consideration (e.g. the one in force and
    a proposed one); each gets FNIR and FPIR overall and per group. ``enrol_attempts`` and
    ``enrol_failures`` count gallery enrolments per group (failure to enrol).
    """
    if not 0.0 < fpir_target < 1.0:
        raise EvaluationError(f"FPIR target {fpir_target} must be between 0 and 1")
    if list_length < 1:
        raise EvaluationError(f"list length {list_length} must be at least 1")
    bad = [t for t in thresholds if not math.isfinite(t)]
    if bad:
        raise EvaluationError(f"thresholds must be finite numbers, got {bad}")
    items: list[Search] = []
    for s in searches:
        items.append(s)
        if progress is not None and len(items) % 1000 == 0:
            progress(1000)
    _check(items, list_length)
    a = _Arrays(items, list_length)
    if len(a.m_rank) == 0 or len(a.n_top) == 0:
        raise EvaluationError(
            f"need mated and non-mated searches (got {len(a.m_rank)} mated, "
            f"{len(a.n_top)} non-mated)",
            hint="give both: FNIR needs mated searches and FPIR non-mated ones",
        )
    operating, _ = threshold_at_rate(a.n_top, fpir_target)
    resolution = 1.0 / len(a.n_top)
    notes: list[str] = []
    if resolution > fpir_target:
        notes.append(
            f"only {len(a.n_top)} non-mated searches: FPIR moves in steps of {resolution:.4g}, "
            f"so FPIR = {fpir_target} is not resolvable; the operating threshold is set just "
            "above the highest non-mated score"
        )
    ts = tuple(float(t) for t in thresholds)
    attempts = Counter(enrol_attempts or {})
    failures = Counter(enrol_failures or {})
    m_all = np.arange(len(a.m_rank))
    n_all = np.arange(len(a.n_top))
    overall = _rates(
        a,
        m_all,
        n_all,
        operating,
        ts,
        list_length,
        (sum(attempts.values()), sum(failures.values())),
    )
    by_group: dict[str, dict[str, Rates]] = {}
    det_by_group: dict[str, dict[str, FloatArray]] = {}
    for dim in DIMENSIONS:
        m_vals = np.array([g.value(dim) for g in a.m_groups], dtype=object)
        n_vals = np.array([g.value(dim) for g in a.n_groups], dtype=object)
        values = sorted({*m_vals.tolist(), *n_vals.tolist(), *(g.value(dim) for g in attempts)})
        by_group[dim] = {}
        det_by_group[dim] = {}
        for v in values:
            m_idx = np.flatnonzero(m_vals == v)
            n_idx = np.flatnonzero(n_vals == v)
            enrol = (
                sum(c for g, c in attempts.items() if g.value(dim) == v),
                sum(c for g, c in failures.items() if g.value(dim) == v),
            )
            by_group[dim][v] = _rates(a, m_idx, n_idx, operating, ts, list_length, enrol)
            det_by_group[dim][v] = det_curve(a.m_score[m_idx], a.n_top[n_idx])
    ranks = np.arange(1, list_length + 1)
    cmc = np.column_stack([ranks, [np.mean(a.m_rank <= r) for r in ranks]])
    comps = list(comparisons)
    one = _one_to_one(comps, fmr_targets)
    one_by: dict[str, dict[str, OneToOne]] = {}
    scores_1to1: tuple[FloatArray, FloatArray] | None = None
    if one is not None:
        scores_1to1 = (  # failed genuine comparisons stay in, as misses (-inf)
            np.array([-np.inf if c.failed_to_acquire else c.score for c in comps if c.mated]),
            np.array([c.score for c in comps if not c.mated and not c.failed_to_acquire]),
        )
        for dim in DIMENSIONS:
            one_by[dim] = {}
            for v in sorted({c.group.value(dim) for c in comps}):
                sub = _one_to_one([c for c in comps if c.group.value(dim) == v], fmr_targets)
                if sub is not None:
                    one_by[dim][v] = sub
    return Evaluation(
        modality=modality,
        algorithm=algorithm,
        list_length=list_length,
        fpir_target=fpir_target,
        operating_threshold=operating,
        fpir_resolution=resolution,
        thresholds=ts,
        overall=overall,
        by_group=by_group,
        det=det_curve(a.m_score, a.n_top),
        cmc=cmc,
        det_by_group=det_by_group,
        mated_scores=a.m_score[np.isfinite(a.m_score)],
        nonmated_scores=a.n_top[np.isfinite(a.n_top)],
        one_to_one=one,
        one_to_one_by_group=one_by,
        one_to_one_scores=scores_1to1,
        gallery_size=gallery_size,
        notes=notes,
        parameters=dict(parameters or {}),
    )


# --- A synthetic face evaluation set (exact search; independent of the gallery index) ---


@dataclass
class EvaluationSet:
    """Searches, 1:1 comparisons and enrolment counts ready for :func:`evaluate`."""

    searches: list[Search]
    comparisons: list[Comparison]
    enrol_attempts: Counter[Group]
    enrol_failures: Counter[Group]
    gallery_size: int | None  # None: not known (a matcher's own search results)
    parameters: dict[str, Any]


def synthetic_groups(n: int, seed: int, on: date) -> list[Group]:
    """Recorded-style demographics for ``n`` synthetic persons (the world's own samplers).

    Sex 50/50, ethnicity by the origin-group shares and ethnicity weights of
    :mod:`leds.synth.names` (as the world samples them), ages by the world's age bands; the DOB
    gives the age band on ``on``.
    """
    from datetime import timedelta

    from leds.synth.names import ORIGIN_GROUPS, sample_ethnicity
    from leds.synth.population import AGE_BANDS as WORLD_AGE_BANDS

    rng = np.random.default_rng([seed, 0xDE40])
    female = rng.random(n) < 0.5
    shares = np.array([g.share for g in ORIGIN_GROUPS])
    origins = rng.choice(len(ORIGIN_GROUPS), size=n, p=shares / shares.sum())
    ethnicity = sample_ethnicity(rng, origins)
    weights = np.array([b[2] for b in WORLD_AGE_BANDS])
    band = rng.choice(len(WORLD_AGE_BANDS), size=n, p=weights / weights.sum())
    low = np.array([b[0] for b in WORLD_AGE_BANDS])[band]
    high = np.array([b[1] for b in WORLD_AGE_BANDS])[band]
    days = np.floor((low + rng.random(n) * (high - low)) * 365.25).astype(np.int64)
    return [
        group_of("F" if female[i] else "M", on - timedelta(days=int(days[i])), ethnicity[i], on)
        for i in range(n)
    ]


def exact_top(
    gallery: npt.NDArray[np.float32], probes: npt.NDArray[np.float32], k: int
) -> tuple[IntArray, FloatArray]:
    """Exact inner-product top-k (rows of ``probes`` against all of ``gallery``)."""
    k = min(k, len(gallery))
    sims = probes @ gallery.T
    part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    part_scores = np.take_along_axis(sims, part, axis=1)
    order = np.lexsort((part, -part_scores), axis=1)
    idx = np.take_along_axis(part, order, axis=1).astype(np.int64)
    return idx, np.take_along_axis(sims, idx, axis=1).astype(np.float64)


def synthetic_face_set(
    *,
    gallery_persons: int = 2000,
    mated_probes: int = 500,
    nonmated_probes: int = 1000,
    seed: int = 1,
    list_length: int = 20,
    min_quality: int = 36,
    on: date | None = None,
    batch: int = 256,
    progress: Callable[[int], None] | None = None,
) -> EvaluationSet:
    """Mated and non-mated 1:N searches over synthetic templates, by exact search.

    Persons ``0 .. gallery_persons-1`` are enrolled with one capture each (capture key 1);
    ``mated_probes`` of them, chosen at random, are searched with a second capture (key 2);
    ``nonmated_probes`` further persons, never enrolled, are searched likewise. Capture quality
    is uniform 35-99 (the world's range); a capture below ``min_quality`` fails: failure to enrol
    (the person's mate is then absent — a miss if searched) or failure to acquire (the search
    counts, as a miss if mated). 1:1 comparisons: each mated probe against its enrolled mate
    (genuine) and every probe against one random other enrolled template (impostor).
    """
    from leds.synth import biometrics as synth
    from leds.synth.population import REF_DATE

    if gallery_persons < 2 or mated_probes < 1 or nonmated_probes < 1:
        raise EvaluationError("need a gallery of >= 2 persons and >= 1 probe of each kind")
    if mated_probes > gallery_persons:
        raise EvaluationError(f"mated_probes {mated_probes} > gallery_persons {gallery_persons}")
    day = on or REF_DATE
    total = gallery_persons + nonmated_probes
    groups = synthetic_groups(total, seed, day)
    rng = np.random.default_rng([seed, 0xE7A1])
    q_gallery = rng.integers(35, 100, size=gallery_persons)
    q_probe = rng.integers(35, 100, size=total)
    attempts: Counter[Group] = Counter()
    failures: Counter[Group] = Counter()
    rows: list[npt.NDArray[np.float32]] = []
    row_person: list[int] = []
    slot_of: dict[int, int] = {}
    for i in range(gallery_persons):
        attempts[groups[i]] += 1
        if q_gallery[i] < min_quality:
            failures[groups[i]] += 1
            continue
        slot_of[i] = len(rows)
        rows.append(synth.capture(seed, i, 1, int(q_gallery[i])))
        row_person.append(i)
    if len(rows) < 2:
        raise EvaluationError("fewer than 2 templates enrolled", hint="raise gallery_persons")
    gallery = np.vstack(rows).astype(np.float32)
    mated_people = sorted(rng.choice(gallery_persons, size=mated_probes, replace=False).tolist())
    probe_people = [(int(p), True) for p in mated_people]
    probe_people += [(gallery_persons + j, False) for j in range(nonmated_probes)]
    searches: list[Search] = []
    comparisons: list[Comparison] = []
    for start in range(0, len(probe_people), batch):
        chunk = probe_people[start : start + batch]
        acquired = [(p, m) for p, m in chunk if q_probe[p] >= min_quality]
        vecs = (
            np.vstack([synth.capture(seed, p, 2, int(q_probe[p])) for p, _ in acquired])
            if acquired
            else np.empty((0, synth.DIM), dtype=np.float32)
        )
        idx, scores = exact_top(gallery, vecs, list_length) if acquired else (None, None)
        row = 0
        for person, mated in chunk:
            pid = f"probe-{person}"
            if q_probe[person] < min_quality:
                searches.append(Search(pid, groups[person], mated, failed_to_acquire=True))
                if mated:  # the genuine 1:1 comparison fails too: counted, not dropped
                    comparisons.append(Comparison(0.0, True, groups[person], True))
                continue
            assert idx is not None
            assert scores is not None
            hits, sc = idx[row], scores[row]
            mate_slot = slot_of.get(person) if mated else None
            rank = next((r + 1 for r, h in enumerate(hits) if h == mate_slot), None)
            searches.append(Search(pid, groups[person], mated, tuple(sc.tolist()), rank))
            vec = vecs[row]
            if mate_slot is not None:
                comparisons.append(
                    Comparison(float(vec @ gallery[mate_slot]), True, groups[person])
                )
            elif mated:  # the mate failed to enrol: no genuine comparison possible
                comparisons.append(Comparison(0.0, True, groups[person], True))
            other = int(rng.integers(len(gallery)))
            if other == mate_slot:
                other = (other + 1) % len(gallery)
            comparisons.append(Comparison(float(vec @ gallery[other]), False, groups[person]))
            row += 1
        if progress is not None:
            progress(len(chunk))
    params = {
        "data": "synthetic templates (leds.synth.biometrics), exact inner-product search",
        "seed": seed,
        "gallery_persons": gallery_persons,
        "mated_probes": mated_probes,
        "nonmated_probes": nonmated_probes,
        "min_quality": min_quality,
        "age_on": day.isoformat(),
    }
    return EvaluationSet(searches, comparisons, attempts, failures, len(gallery), params)
