"""The pre-filter's pose (Hough) vote: distorted mates ranked first, tail and index agree."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from leds.biometrics.fingerprint import mcc, minutiae_synth
from leds.biometrics.fingerprint.extract import Template
from leds.biometrics.fingerprint.gallery import FingerprintGallery

SEED = 13
N = 150
HARD = (2, 31, 58, 77, 104, 140)


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> FingerprintGallery:
    gal = FingerprintGallery(tmp_path_factory.mktemp("hough") / "fp")
    gal.enrol(minutiae_synth.impression_minutiae(SEED, f, 0, 0.45) for f in range(N))
    gal.rebuild()
    return gal


def _plain_vote(gal: FingerprintGallery, probe: Template) -> np.ndarray:
    """The same collisions summed per slot without the pose: what the Hough vote improves."""
    row, _pc, w, _m = gal.collisions(mcc.template_keys(probe))
    geo = np.load(gal.path / "cylinders.npy")  # (rebuilt: every row is in the index)
    return np.bincount(geo["slot"][row], weights=w, minlength=len(gal))


def test_strongly_distorted_mates_are_ranked_first(gallery: FingerprintGallery) -> None:
    plain_ranks = []
    for f in HARD:
        probe = minutiae_synth.impression_minutiae(SEED, f, 1, 0.85)  # large elastic shift
        votes = gallery.prefilter(probe)
        assert int((votes > votes[f]).sum()) == 0, (f, votes[f], np.sort(votes)[-3:])
        found = gallery.search(probe, candidates=3, shortlist=5)
        assert found[0].slot == f, found
        plain = _plain_vote(gallery, probe)
        plain_ranks.append(int((plain > plain[f]).sum()))
    # without the pose the same collisions rank some of these mates below distractors
    assert max(plain_ranks) > 0, plain_ranks


def test_rigid_copy_votes_in_one_pose_cell(tmp_path: Path) -> None:
    gal = FingerprintGallery(tmp_path / "fp")
    base = [minutiae_synth.impression_minutiae(SEED, f, 0, 0.2) for f in range(40)]
    gal.enrol(base)
    t = base[7]
    a, (dx, dy) = 0.35, (25.0, -30.0)
    m = t.minutiae.copy()
    cx, cy = t.width / 2, t.height / 2
    x, y = m[:, 0] - cx, cy - m[:, 1]  # centred, y up
    m[:, 0] = cx + np.cos(a) * x - np.sin(a) * y + dx
    m[:, 1] = cy - (np.sin(a) * x + np.cos(a) * y + dy)
    m[:, 2] = np.mod(m[:, 2] + a, 2 * np.pi)
    keep = (m[:, 0] >= 0) & (m[:, 0] < t.width) & (m[:, 1] >= 0) & (m[:, 1] < t.height)
    probe = Template(m[keep], t.width, t.height).quantised()
    before = gal.prefilter(probe)  # every key in the unsorted tail
    gal.rebuild()
    after = gal.prefilter(probe)
    assert np.allclose(before, after)
    assert int(np.argmax(after)) == 7
    assert after[7] > 3 * np.sort(after)[-2], np.sort(after)[-3:]
    gal.remove([7])
    assert gal.prefilter(probe)[7] == 0.0


def _reference_vote(gal: FingerprintGallery, probe: Template) -> np.ndarray:
    """The pose vote written plainly: every collision's two cells, exact sums in a dict."""
    from leds.biometrics.fingerprint import gallery as g

    row, pc, w, _m = gal.collisions(mcc.template_keys(probe))
    geo = np.load(gal.path / "cylinders.npy")
    _keys, where = mcc.template_keys_at(probe)
    sums: dict[tuple[int, int, int], float] = {}
    cells = []
    for r, p, wt in zip(row, pc, w.astype(np.float32), strict=True):
        rot = float(np.mod(where[p, 2] - geo["theta"][r], 2 * np.pi))
        c, s = np.cos(rot), np.sin(rot)
        tx = where[p, 0] - (c * geo["x"][r] - s * geo["y"][r])
        ty = where[p, 1] - (s * geo["x"][r] + c * geo["y"][r])
        mine = []
        for grid, off in enumerate((0.0, 0.5)):
            rb = int(rot * g.ROT_BINS / (2 * np.pi) + off) % g.ROT_BINS
            bx = min(max(int(tx / g.TRANS_CELL + off + g.TRANS_BINS // 2), 0), g.TRANS_BINS - 1)
            by = min(max(int(ty / g.TRANS_CELL + off + g.TRANS_BINS // 2), 0), g.TRANS_BINS - 1)
            key = (int(geo["slot"][r]), grid, (rb * g.TRANS_BINS + bx) * g.TRANS_BINS + by)
            sums[key] = sums.get(key, 0.0) + float(wt)
            mine.append(key)
        cells.append(mine)
    votes = np.zeros(len(gal))
    for mine in cells:
        slot = mine[0][0]
        votes[slot] = max(votes[slot], *(sums[k] for k in mine))
    return votes


def test_vote_is_exact_and_independent_of_threads(gallery: FingerprintGallery) -> None:
    """Every (template, pose cell) has its own sum (a shared table of hashed sums let
    unrelated templates borrow votes), whatever the number of threads."""
    import numba

    for f in (3, 77):
        probe = minutiae_synth.impression_minutiae(SEED, f, 1, 0.6)
        want = _reference_vote(gallery, probe)
        assert int(np.argmax(want)) == f
        got = gallery.prefilter(probe)
        # float32 sums in one order, float64 in the reference: equal to rounding
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
        threads = numba.get_num_threads()
        try:
            numba.set_num_threads(1)
            single = gallery.prefilter(probe)
        finally:
            numba.set_num_threads(threads)
        assert np.array_equal(single, got)
