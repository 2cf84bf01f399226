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
