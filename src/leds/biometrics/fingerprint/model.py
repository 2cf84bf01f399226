"""The finger model shared by the image-level and the minutiae-level generators.

Everything here is analytic, so the image generator can evaluate it on a pixel grid and the
minutiae generator at a few points, and both see *the same* finger and *the same* impression:

* :class:`Finger` -- one master finger, fixed by ``(seed, finger_id)``: pattern class, singular
  points (cores and deltas), a smooth per-finger orientation perturbation, ridge wavelength and
  the finger's outline (an ellipse on the master canvas).
* :func:`orientation` -- the ridge orientation field, Sherlock-Monro zero-pole model
  ``theta(z) = theta0 + 1/2 * (sum arg(z - delta_k) - sum arg(z - core_k))`` plus the perturbation
  (arches have no singular points and use an arch flow instead).
* :class:`Impression` -- one capture, fixed by ``(seed, finger_id, impression)``: rigid motion
  (rotation, translation), an elastic displacement field that is zero near the centre of contact
  and grows outwards (Cappelli's plastic-distortion idea: the pressed core region moves rigidly,
  the periphery stretches), the contact region (an ellipse, sometimes cut by a half plane for
  partial prints), and the difficulty ``d`` in [0, 1] that scales distortion, noise and loss.

Coordinates are pixels at 500 ppi, x to the right, y down. ``Impression.forward`` maps master
canvas points into impression image points; ``Impression.backward`` the reverse (used to
resample the master image).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]

CANVAS = 448  # master canvas (pixels, 500 ppi): about 22.8 mm square
IMAGE_H = 384  # impression image height
IMAGE_W = 320  # impression image width
PPI = 500

# Pattern classes and their frequencies (roughly the population shares reported for NIST data).
CLASSES = ("arch", "tented_arch", "left_loop", "right_loop", "whorl")
CLASS_P = (0.05, 0.05, 0.32, 0.30, 0.28)

FINGER_TAG = 0xF1
IMPRESSION_TAG = 0x1A


def finger_rng(seed: int, finger_id: int) -> np.random.Generator:
    return np.random.default_rng([seed & 0xFFFFFFFF, finger_id, FINGER_TAG])


def impression_rng(seed: int, finger_id: int, impression: int) -> np.random.Generator:
    return np.random.default_rng([seed & 0xFFFFFFFF, finger_id, IMPRESSION_TAG, impression])


@dataclass(frozen=True)
class Finger:
    """A master finger (see the module docstring)."""

    seed: int
    finger_id: int
    pattern: str
    cores: tuple[tuple[float, float], ...]
    deltas: tuple[tuple[float, float], ...]
    theta0: float
    # smooth orientation perturbation: sum of a * sin(kx x + ky y + phase)
    pert: tuple[tuple[float, float, float, float], ...]
    wavelength: float
    centre: tuple[float, float]
    axes: tuple[float, float]  # semi-axes (x, y) of the finger outline

    @classmethod
    def make(cls, seed: int, finger_id: int) -> Finger:
        rng = finger_rng(seed, finger_id)
        pattern = str(rng.choice(CLASSES, p=CLASS_P))
        cx = CANVAS / 2 + rng.normal(0, 6)
        cy = CANVAS / 2 + rng.normal(0, 6)
        cores: list[tuple[float, float]] = []
        deltas: list[tuple[float, float]] = []
        if pattern in ("left_loop", "right_loop"):
            side = -1.0 if pattern == "left_loop" else 1.0
            core = (cx + rng.normal(0, 18), cy - 30 + rng.normal(0, 20))
            delta = (
                core[0] + side * rng.uniform(70, 120),
                core[1] + rng.uniform(80, 130),
            )
            cores, deltas = [core], [delta]
        elif pattern == "tented_arch":
            core = (cx + rng.normal(0, 15), cy - 10 + rng.normal(0, 15))
            delta = (core[0] + rng.normal(0, 6), core[1] + rng.uniform(45, 75))
            cores, deltas = [core], [delta]
        elif pattern == "whorl":
            ang = rng.uniform(-0.6, 0.6)
            sep = rng.uniform(10, 40)
            c1 = (cx - sep / 2 * np.cos(ang), cy - 20 - sep / 2 * np.sin(ang))
            c2 = (cx + sep / 2 * np.cos(ang), cy - 20 + sep / 2 * np.sin(ang))
            dy = cy + rng.uniform(80, 120)
            cores = [c1, c2]
            deltas = [
                (cx - rng.uniform(95, 135), dy + rng.normal(0, 12)),
                (cx + rng.uniform(95, 135), dy + rng.normal(0, 12)),
            ]
        pert = tuple(
            (
                float(rng.uniform(0.04, 0.12)),
                float(rng.normal(0, 2 * np.pi / 260)),
                float(rng.normal(0, 2 * np.pi / 260)),
                float(rng.uniform(0, 2 * np.pi)),
            )
            for _ in range(4)
        )
        return cls(
            seed=seed,
            finger_id=finger_id,
            pattern=pattern,
            cores=tuple((float(x), float(y)) for x, y in cores),
            deltas=tuple((float(x), float(y)) for x, y in deltas),
            theta0=float(rng.normal(0, 0.08)),
            pert=pert,
            wavelength=float(rng.uniform(8.2, 10.2)),
            centre=(float(cx), float(cy)),
            axes=(float(rng.uniform(150, 175)), float(rng.uniform(195, 215))),
        )

    def orientation(self, x: F64, y: F64) -> F64:
        """Ridge orientation (radians, modulo pi, image axes) at master points ``(x, y)``."""
        # Work with y up so that angles are counter-clockwise as usual.
        if self.pattern == "arch":
            cx, cy = self.centre
            u = (x - cx) / 110.0
            w = np.exp(-np.clip(y - (cy - 40.0), 0.0, None) / 150.0)
            theta = np.arctan(-1.1 * u * np.exp(-u * u / 2.0) * w)
        else:
            theta = np.zeros_like(x, dtype=np.float64)
            for dx, dy in self.deltas:
                theta = theta + 0.5 * np.arctan2(-(y - dy), x - dx)
            for qx, qy in self.cores:
                theta = theta - 0.5 * np.arctan2(-(y - qy), x - qx)
        theta = theta + self.theta0
        for a, kx, ky, ph in self.pert:
            theta = theta + a * np.sin(kx * x + ky * y + ph)
        # convert from y-up to image (y-down) angle
        return np.mod(-theta, np.pi)

    def inside(self, x: F64, y: F64) -> F64:
        """1 inside the finger outline, 0 outside (soft edge over a few pixels)."""
        cx, cy = self.centre
        ax, ay = self.axes
        r = np.sqrt(((x - cx) / ax) ** 2 + ((y - cy) / ay) ** 2)
        return np.clip((1.0 - r) * 40.0, 0.0, 1.0)


@dataclass(frozen=True)
class Impression:
    """One capture of a finger (see the module docstring)."""

    difficulty: float
    rotation: float  # radians
    shift: tuple[float, float]
    # elastic field: per component (ax, ay, kx, ky, phase)
    waves: tuple[tuple[float, float, float, float, float], ...]
    elastic_r0: float  # radius of the (almost) rigid contact core
    contact_centre: tuple[float, float]  # in master coordinates
    contact_axes: tuple[float, float]
    cut: tuple[float, float, float] | None  # half plane a*x + b*y <= c kept (image coords)
    seed_key: tuple[int, int, int]

    @classmethod
    def make(
        cls, seed: int, finger: Finger, impression: int, difficulty: float | None = None
    ) -> Impression:
        rng = impression_rng(seed, finger.finger_id, impression)
        d = float(rng.beta(1.4, 3.0)) if difficulty is None else float(difficulty)
        rot = float(np.clip(rng.normal(0, 0.10 + 0.12 * d), -0.6, 0.6))
        shift = (float(rng.normal(0, 8 + 14 * d)), float(rng.normal(0, 10 + 16 * d)))
        amp = 3.0 + 11.0 * d
        waves = tuple(
            (
                float(rng.normal(0, amp)),
                float(rng.normal(0, amp)),
                float(rng.normal(0, 2 * np.pi / 300)),
                float(rng.normal(0, 2 * np.pi / 300)),
                float(rng.uniform(0, 2 * np.pi)),
            )
            for _ in range(4)
        )
        cx, cy = finger.centre
        ccx = cx + float(rng.normal(0, 10 + 20 * d))
        ccy = cy + float(rng.normal(0, 12 + 24 * d))
        shrink = 1.0 - 0.45 * d * float(rng.uniform(0.3, 1.0))
        caxes = (
            finger.axes[0] * shrink * float(rng.uniform(0.85, 1.0)),
            finger.axes[1] * shrink * float(rng.uniform(0.8, 1.0)),
        )
        cut: tuple[float, float, float] | None = None
        if rng.random() < 0.1 + 0.5 * d:
            ang = float(rng.uniform(0, 2 * np.pi))
            a, b = np.cos(ang), np.sin(ang)
            # keep the side containing the image centre, cut at distance r from it
            r = float(rng.uniform(25, 140)) * (1.2 - d)
            c = a * IMAGE_W / 2 + b * IMAGE_H / 2 + r
            cut = (float(a), float(b), float(c))
        return cls(
            difficulty=d,
            rotation=rot,
            shift=shift,
            waves=waves,
            elastic_r0=float(rng.uniform(40, 70)),
            contact_centre=(ccx, ccy),
            contact_axes=caxes,
            cut=cut,
            seed_key=(seed, finger.finger_id, impression),
        )

    def _elastic(self, x: F64, y: F64) -> tuple[F64, F64]:
        """Displacement (master coordinates) of master points: zero near the contact centre."""
        cx, cy = self.contact_centre
        r = np.hypot(x - cx, y - cy)
        weight = np.clip((r - self.elastic_r0) / 120.0, 0.0, None) ** 1.2
        ux = np.zeros_like(x, dtype=np.float64)
        uy = np.zeros_like(x, dtype=np.float64)
        for ax, ay, kx, ky, ph in self.waves:
            s = np.sin(kx * x + ky * y + ph)
            ux = ux + ax * s
            uy = uy + ay * s
        return ux * weight, uy * weight

    def _rigid(self, x: F64, y: F64) -> tuple[F64, F64]:
        """Master -> image: rotate about the contact centre, place it in the image centre."""
        cx, cy = self.contact_centre
        c, s = np.cos(self.rotation), np.sin(self.rotation)
        dx, dy = x - cx, y - cy
        return (
            c * dx - s * dy + IMAGE_W / 2 + self.shift[0],
            s * dx + c * dy + IMAGE_H / 2 + self.shift[1],
        )

    def forward(self, x: F64, y: F64) -> tuple[F64, F64]:
        """Master points -> impression image points (elastic, then rigid)."""
        ux, uy = self._elastic(x, y)
        return self._rigid(x + ux, y + uy)

    def backward(self, u: F64, v: F64) -> tuple[F64, F64]:
        """Impression image points -> master points (inverse by fixed-point iteration)."""
        cx, cy = self.contact_centre
        c, s = np.cos(self.rotation), np.sin(self.rotation)
        du, dv = u - IMAGE_W / 2 - self.shift[0], v - IMAGE_H / 2 - self.shift[1]
        px = c * du + s * dv + cx
        py = -s * du + c * dv + cy
        x, y = px.copy(), py.copy()
        for _ in range(4):
            ux, uy = self._elastic(x, y)
            x, y = px - ux, py - uy
        return x, y

    def forward_angle(self, x: F64, y: F64, theta: F64) -> F64:
        """Direction ``theta`` at master points, carried into the impression (numerically)."""
        eps = 2.0
        x2, y2 = x + eps * np.cos(theta), y + eps * np.sin(theta)
        u1, v1 = self.forward(x, y)
        u2, v2 = self.forward(x2, y2)
        return np.mod(np.arctan2(v2 - v1, u2 - u1), 2 * np.pi)

    def contact(self, u: F64, v: F64, mx: F64, my: F64) -> F64:
        """Contact weight (0..1) at image points ``(u, v)`` with master points ``(mx, my)``."""
        cx, cy = self.contact_centre
        ax, ay = self.contact_axes
        r = np.sqrt(((mx - cx) / ax) ** 2 + ((my - cy) / ay) ** 2)
        w = np.clip((1.0 - r) * 25.0, 0.0, 1.0)
        if self.cut is not None:
            a, b, c = self.cut
            w = w * np.clip((c - (a * u + b * v)) / 4.0, 0.0, 1.0)
        border = (u >= 0) & (u < IMAGE_W) & (v >= 0) & (v < IMAGE_H)
        return w * border
