"""Minutiae-level synthetic fingerprints: the image model without the image, for bulk galleries.

Rendering and extracting an image costs ~0.2 s a print, hours for a 100k gallery on 2 cores.
This generator draws the *same* finger and the *same* impression as the image generator
(``leds.biometrics.fingerprint.model``: pattern class, singular points, orientation field,
finger outline, rigid + elastic displacement, contact region with partial cuts, difficulty)
and works on minutiae directly:

1. **Master minutiae** per finger (``seed, finger_id``): a Matern hard-core point process
   inside the finger outline (minimum spacing ``SPACING`` px, about ``DENSITY`` per px^2), each
   minutia's direction the ridge orientation of the model at its place, turned by pi with
   probability 1/2 (ending vs bifurcation sense), kind ending/bifurcation 60/40.
2. **Impression** (``seed, finger_id, impression``): each master minutia is carried through
   ``Impression.forward`` (the same displacement the image generator resamples with) and its
   direction through the local Jacobian; kept only inside the contact region and the image
   frame (partial prints fall out of this); dropped with probability
   ``DROP0 + DROP1 * d`` (missed by the extractor); position jitter ``JITTER0 + JITTER1 * d`` px
   and direction jitter ``ANGLE0 + ANGLE1 * d`` rad; ``SPURIOUS0 + SPURIOUS1 * d`` spurious
   minutiae per 10,000 px^2 of contact area, placed at random with the local orientation
   (false minutiae from noise, scars and the contact border).
3. Quantised as an ISO/IEC 19794-2 record quantises them, so the gallery holds what the
   image pipeline would store.

Calibration: the constants below were set so that Bozorth3 score distributions of this
generator match the image pipeline's (``impression_image`` + MINDTCT) on the same
(seed, finger, impression) triples. The figures (``bench/biometrics.py --fp-calibrate``) are
in ``docs/biometrics.md``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from leds.biometrics.fingerprint.extract import Template
from leds.biometrics.fingerprint.model import (
    IMAGE_H,
    IMAGE_W,
    Finger,
    Impression,
    finger_rng,
    impression_rng,
)

F64 = npt.NDArray[np.float64]

SPACING = 11.0
DENSITY = 1.0 / 760.0
DROP0, DROP1 = 0.04, 0.12
JITTER0, JITTER1 = 0.45, 0.6
ANGLE0, ANGLE1 = 0.025, 0.035
SPURIOUS0, SPURIOUS1 = 1.0, 3.0
MASTER_TAG = 0x3A
SPUR_TAG = 0x5B


def _hard_core(rng: np.random.Generator, finger: Finger, n_target: int) -> F64:
    """Matern type-II hard-core process in the finger outline (minimum spacing SPACING).

    Poisson points with random marks; a point is removed when a neighbour closer than
    ``SPACING`` has a smaller mark. Over-sampled so that about ``n_target`` survive.
    """
    from scipy.spatial import cKDTree  # type: ignore[import-untyped]

    cx, cy = finger.centre
    ax, ay = finger.axes
    m = int(n_target * 1.6) + 8
    uv = rng.uniform(-1, 1, size=(m * 2, 2))
    uv = uv[(uv**2).sum(axis=1) <= 0.97][:m]
    pts = np.column_stack([cx + uv[:, 0] * ax, cy + uv[:, 1] * ay])
    marks = rng.random(len(pts))
    pairs = cKDTree(pts).query_pairs(SPACING, output_type="ndarray")
    dead = np.zeros(len(pts), dtype=bool)
    if len(pairs):
        i, j = pairs[:, 0], pairs[:, 1]
        loser = np.where(marks[i] > marks[j], i, j)
        dead[loser] = True
    out = pts[~dead]
    return out[:n_target]


def master_minutiae(seed: int, finger_id: int) -> F64:
    """Master minutiae of a finger on the master canvas: (N, 5) x, y, theta, kind, reliability."""
    finger = Finger.make(seed, finger_id)
    rng = np.random.default_rng([seed & 0xFFFFFFFF, finger_id, MASTER_TAG])
    finger_rng(seed, finger_id)  # (the finger's own stream is Finger.make's)
    area = np.pi * finger.axes[0] * finger.axes[1]
    n = int(rng.poisson(area * DENSITY))
    xy = _hard_core(rng, finger, n)
    theta = finger.orientation(xy[:, 0], xy[:, 1]) + np.pi * (rng.random(len(xy)) < 0.5)
    kind = (rng.random(len(xy)) < 0.4).astype(np.float64)
    # reliability is a property of the place (clear or scarred ridges), so it is the master's
    reliability = rng.uniform(0.45, 0.95, len(xy))
    return np.column_stack([xy, np.mod(theta, 2 * np.pi), kind, reliability])


def impression_minutiae(
    seed: int,
    finger_id: int,
    impression: int,
    difficulty: float | None = None,
    *,
    finger_position: int = 0,
    master: F64 | None = None,
) -> Template:
    """The minutiae template of one impression (quantised like an ISO record)."""
    finger = Finger.make(seed, finger_id)
    imp = Impression.make(seed, finger, impression, difficulty)
    d = imp.difficulty
    m = master_minutiae(seed, finger_id) if master is None else master
    rng = np.random.default_rng([seed & 0xFFFFFFFF, finger_id, SPUR_TAG, impression])
    impression_rng(seed, finger_id, impression)
    x, y, th = m[:, 0], m[:, 1], m[:, 2]
    u, v = imp.forward(x, y)
    ang = imp.forward_angle(x, y, th)
    w = imp.contact(u, v, x, y) * finger.inside(x, y)
    keep = (w > 0.5) & (rng.random(len(m)) >= DROP0 + DROP1 * d)
    keep &= (u >= 6) & (u < IMAGE_W - 6) & (v >= 6) & (v < IMAGE_H - 6)
    n = int(keep.sum())
    u = u[keep] + rng.normal(0, JITTER0 + JITTER1 * d, n)
    v = v[keep] + rng.normal(0, JITTER0 + JITTER1 * d, n)
    ang = ang[keep] + rng.normal(0, ANGLE0 + ANGLE1 * d, n)
    kind = m[keep, 3].copy()
    flip = rng.random(n) < 0.1 + 0.2 * d  # ending <-> bifurcation confusion
    kind[flip] = 1 - kind[flip]
    # spurious minutiae inside the contact region
    contact_area = float(np.sum(w > 0.5)) / max(len(m), 1) * np.pi * finger.axes[0] * finger.axes[1]
    n_sp = int(rng.poisson((SPURIOUS0 + SPURIOUS1 * d) * contact_area / 10_000))
    su = rng.uniform(6, IMAGE_W - 6, n_sp * 3)
    sv = rng.uniform(6, IMAGE_H - 6, n_sp * 3)
    mx, my = imp.backward(su, sv)
    inside = (imp.contact(su, sv, mx, my) * finger.inside(mx, my)) > 0.5
    su, sv, mx, my = su[inside][:n_sp], sv[inside][:n_sp], mx[inside][:n_sp], my[inside][:n_sp]
    sth = imp.forward_angle(mx, my, finger.orientation(mx, my)) + np.pi * (
        rng.random(len(su)) < 0.5
    )
    # reliability as an extractor reports it: true minutiae higher than spurious ones
    qual = np.clip(
        np.concatenate(
            [
                m[keep, 4] - 0.2 * d + rng.normal(0, 0.05, n),
                rng.normal(0.35 - 0.1 * d, 0.12, len(su)),
            ]
        ),
        0.05,
        0.99,
    )
    rows = np.column_stack(
        [
            np.concatenate([u, su]),
            np.concatenate([v, sv]),
            # afis/ISO angles are counter-clockwise with y up: mirror the image-frame angle
            np.mod(-np.concatenate([ang, sth]), 2 * np.pi),
            np.concatenate([kind, (rng.random(len(su)) < 0.5).astype(np.float64)]),
            qual,
        ]
    )
    rows[:, 0] = np.clip(rows[:, 0], 0, IMAGE_W - 1)
    rows[:, 1] = np.clip(rows[:, 1], 0, IMAGE_H - 1)
    order = np.lexsort((rows[:, 1], rows[:, 0]))
    rows = rows[order][:150]
    quality = int(np.clip(round(95 - 70 * d + rng.normal(0, 5)), 1, 100))
    return Template(rows, IMAGE_W, IMAGE_H, finger_position, quality).quantised()


def difficulty_for_quality(quality: int) -> float:
    """Impression difficulty for a recorded capture quality (0-100; 100 easiest)."""
    return float(np.clip((100 - quality) / 100.0, 0.0, 0.9))
