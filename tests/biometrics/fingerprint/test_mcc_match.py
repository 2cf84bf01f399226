"""MCC LSS-R matching: mates above non-mates, invariance to pose, partial prints, edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from leds.biometrics.fingerprint import mcc_match, minutiae_synth
from leds.biometrics.fingerprint.extract import Template

SEED = 31


@pytest.fixture(scope="module")
def pairs() -> list[tuple[Template, Template]]:
    return [
        (
            minutiae_synth.impression_minutiae(SEED, f, 0, 0.3),
            minutiae_synth.impression_minutiae(SEED, f, 1, 0.3),
        )
        for f in range(25)
    ]


def test_every_mate_scores_above_every_non_mate(pairs: list[tuple[Template, Template]]) -> None:
    cyl = [(mcc_match.cylinders(g), mcc_match.cylinders(p)) for g, p in pairs]
    mated = [mcc_match.similarity(p, g) for g, p in cyl]
    non = [
        mcc_match.similarity(cyl[i][1], cyl[j][0]) for i in range(25) for j in range(25) if i != j
    ]
    assert min(mated) > max(non), (sorted(mated)[:3], sorted(non)[-3:])
    assert max(non) < 0.1 < 0.2 < float(np.median(mated))


def test_one_probe_against_many_agrees_with_one_to_one(
    pairs: list[tuple[Template, Template]],
) -> None:
    gal = [mcc_match.cylinders(g) for g, _ in pairs]
    probe = mcc_match.cylinders(pairs[4][1])
    counts = np.array([len(c) for c in gal], dtype=np.int64)
    starts = np.cumsum(counts) - counts
    many = mcc_match.similarity_many(probe, np.concatenate(gal), starts, counts)
    one = [mcc_match.similarity(probe, c) for c in gal]
    assert np.allclose(many, one)
    assert int(np.argmax(many)) == 4


def test_a_template_matches_itself_and_a_moved_copy() -> None:
    t = minutiae_synth.impression_minutiae(SEED, 3, 0, 0.2)
    assert mcc_match.match(t, t) > 95
    a, (dx, dy) = 0.4, (20.0, -15.0)
    m = t.minutiae.copy()
    cx, cy = t.width / 2, t.height / 2
    x, y = m[:, 0] - cx, cy - m[:, 1]
    m[:, 0] = cx + np.cos(a) * x - np.sin(a) * y + dx
    m[:, 1] = cy - (np.sin(a) * x + np.cos(a) * y + dy)
    m[:, 2] = np.mod(m[:, 2] + a, 2 * np.pi)
    moved = Template(m, t.width, t.height)
    assert mcc_match.match(moved, t) > 90  # cylinders are in each minutia's own frame


def test_a_partial_copy_still_matches_its_whole(pairs: list[tuple[Template, Template]]) -> None:
    whole = pairs[7][0]
    m = whole.minutiae
    half = Template(m[m[:, 0] < np.median(m[:, 0])], whole.width, whole.height)
    # cells outside the half print's footprint are not counted against it
    others = [mcc_match.match(half, g) for i, (g, _) in enumerate(pairs) if i != 7]
    assert mcc_match.match(half, whole) > 3 * max(others)


def test_too_few_minutiae_give_no_cylinders_and_score_zero() -> None:
    t = minutiae_synth.impression_minutiae(SEED, 1, 0)
    few = Template(t.minutiae[:2], t.width, t.height)
    assert len(mcc_match.cylinders(few)) == 0
    assert mcc_match.match(few, t) == 0.0
    assert mcc_match.match(t, few) == 0.0
    empty = mcc_match.cylinders(few)
    assert mcc_match.similarity_many(
        empty, empty, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    ).shape == (0,)
