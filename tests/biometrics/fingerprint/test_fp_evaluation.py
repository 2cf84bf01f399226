"""The synthetic fingerprint evaluation set: the gallery's own search over a temporary gallery
of synthetic prints gives sensible figures on the search's score scale (the scale of the
fingerprint threshold), counts failures to enrol and acquire, and leaves nothing behind."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

from leds.biometrics import thresholds as th
from leds.biometrics.evaluate import EvaluationError, EvaluationSet, evaluate
from leds.biometrics.fingerprint import SEARCH_ALGORITHM
from leds.biometrics.fingerprint.evaluation import synthetic_fingerprint_set

GALLERY, MATED, NONMATED = 150, 40, 60


def _work_dirs() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("leds-fp-eval-*"))


@pytest.fixture(scope="module")
def fp_set() -> EvaluationSet:
    before = _work_dirs()
    ticks: list[int] = []
    data = synthetic_fingerprint_set(
        gallery_persons=GALLERY,
        mated_probes=MATED,
        nonmated_probes=NONMATED,
        seed=3,
        list_length=10,
        progress=ticks.append,
    )
    assert _work_dirs() == before  # the temporary gallery is gone
    assert sum(ticks) == MATED + NONMATED  # one tick a probe
    return data


def test_searches_and_failures_are_all_counted(fp_set: EvaluationSet) -> None:
    searches = fp_set.searches
    assert len(searches) == MATED + NONMATED
    assert sum(s.mated for s in searches) == MATED
    assert sum(fp_set.enrol_attempts.values()) == GALLERY
    fte = sum(fp_set.enrol_failures.values())
    assert fp_set.gallery_size == GALLERY - fte
    assert fte < GALLERY * 0.15  # quality 40 / 12 minutiae: a few, as in the benchmark
    fta = [s for s in searches if s.failed_to_acquire]
    assert all(s.scores == () and s.mate_rank is None for s in fta)
    genuine = [c for c in fp_set.comparisons if c.mated]
    assert len(genuine) == MATED  # one each, failed ones included
    assert sum(c.failed_to_acquire for c in genuine) >= sum(s.mated for s in fta)
    assert fp_set.parameters["search_algorithm"] == SEARCH_ALGORITHM
    assert fp_set.parameters["min_quality"] == 40


def test_figures_are_sensible_on_the_threshold_scale(fp_set: EvaluationSet) -> None:
    ev = evaluate(
        fp_set.searches,
        modality="fingerprint",
        algorithm=SEARCH_ALGORITHM,
        list_length=10,
        thresholds=(th.shipped_defaults()["fingerprint"],),
        comparisons=fp_set.comparisons,
        enrol_attempts=fp_set.enrol_attempts,
        enrol_failures=fp_set.enrol_failures,
        gallery_size=fp_set.gallery_size,
    )
    acquired = [s for s in fp_set.searches if s.mated and not s.failed_to_acquire]
    rank1 = np.mean([s.mate_rank == 1 for s in acquired])
    assert rank1 > 0.9, rank1  # misses only where the mate failed to enrol, or rarely
    assert ev.overall.fnir_rank1 is not None
    assert ev.overall.fnir_rank1 < 0.15
    # scores are MCC LSS-R x 100 (0-100): mates far above non-mated top scores, which stay
    # below the shipped threshold (9.5: FPIR 1 of 985 non-mated searches at 100k)
    shipped = th.shipped_defaults()["fingerprint"]
    top = np.array([s.scores[0] for s in fp_set.searches if not s.mated and s.scores])
    assert len(top) > NONMATED * 0.8
    assert top.min() >= 0
    assert top.max() <= 100
    assert np.mean(top < shipped) > 0.95
    assert np.median(ev.mated_scores) > 3 * shipped
    fnir, fpir = ev.overall.at_thresholds[shipped]
    assert fpir is not None
    assert fpir < 0.05
    assert fnir is not None
    assert fnir < 0.2
    assert ev.one_to_one is not None
    assert ev.one_to_one.genuine == MATED
    assert set(ev.by_group["sex"]) <= {"F", "M"}


def test_one_to_one_scores_are_the_search_scores(fp_set: EvaluationSet) -> None:
    """A genuine comparison scores the mate as the search ranked it: the threshold, which
    applies to search scores, means the same for FNMR at fixed FMR."""
    genuine = iter(c for c in fp_set.comparisons if c.mated)
    checked = 0
    for s in fp_set.searches:
        if not s.mated:
            continue
        c = next(genuine)
        assert c.group == s.group
        if s.mate_rank is not None:
            assert c.score == pytest.approx(s.scores[s.mate_rank - 1], abs=1e-9)
            checked += 1
    assert checked > MATED * 0.8
    impostor = [c.score for c in fp_set.comparisons if not c.mated]
    assert len(impostor) == sum(not s.failed_to_acquire for s in fp_set.searches)
    assert max(impostor) < th.shipped_defaults()["fingerprint"]


def test_bad_sizes_are_refused_with_a_hint() -> None:
    with pytest.raises(EvaluationError, match="mated_probes 5 > gallery_persons 4") as got:
        synthetic_fingerprint_set(gallery_persons=4, mated_probes=5, nonmated_probes=1)
    assert got.value.hint
    with pytest.raises(EvaluationError, match=r">= 1 probe of each kind"):
        synthetic_fingerprint_set(gallery_persons=10, mated_probes=1, nonmated_probes=0)
