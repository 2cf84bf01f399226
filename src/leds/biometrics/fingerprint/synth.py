"""Synthetic fingerprint images (our own generator; nothing here comes from a real finger).

Deterministic per ``(seed, finger_id, impression)``: the same triple always gives the same
bytes. The model (``leds.biometrics.fingerprint.model``) and the steps:

1. **Orientation field** from singular points: pattern class drawn with population-like
   frequencies (arch 5%, tented arch 5%, left loop 32%, right loop 30%, whorl 28%); loops get a
   core and a delta, whorls two cores and two deltas, tented arches a core above a delta; the
   Sherlock-Monro zero-pole model gives the orientation, plus a smooth random perturbation
   per finger (four low-frequency sine waves of 0.04-0.12 rad) so two fingers of one class differ.
2. **Ridges** (master finger, 448 x 448 px at 500 ppi): band-limited random noise is grown into
   a ridge pattern by iterated Gabor filtering (SFinGe-style): 16 orientation-tuned Gabor filters
   at the finger's ridge wavelength (8.2-10.2 px), each pixel taking the response of the filter
   for its local orientation (linear blend of the two nearest), then a soft clip; 8 rounds.
   Minutiae appear where growing ridge fronts meet -- they are a property of the finger, as in
   real fingers, and not placed by hand.
3. **Impression**: the master is resampled through the impression's displacement: a rigid
   motion (rotation with sd 6-13 degrees, shift) and an elastic field that is zero near the
   centre of contact and grows outwards; the contact region is an ellipse (smaller with
   harder impressions) and sometimes cut by a half plane (**partial prints**, 10% of easy and
   up to 60% of hard impressions).
4. **Noise** scaled by the impression's difficulty ``d`` (Beta(1.4, 3.0): most captures are
   good, a tail is poor): dry/wet ridge thickness bias, patchy pressure (low-frequency field
   that fades ridges), scratches, blur and pixel noise.

Output: 8-bit greyscale, 384 (h) x 320 (w), dark ridges on a light background, 500 ppi.
The score distributions this gives under MINDTCT + Bozorth3 are measured by
``bench/biometrics.py --fp-calibrate N`` and recorded in ``docs/biometrics.md`` (mated and
non-mated scores overlap: image-level mated p1 24, non-mated max 35 over 870 pairs).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy import fft as sfft  # type: ignore[import-untyped]
from scipy import ndimage

from leds.biometrics.fingerprint.model import (
    CANVAS,
    IMAGE_H,
    IMAGE_W,
    Finger,
    Impression,
    finger_rng,
)

NOISE_TAG = 0x7E
N_BINS = 16
ROUNDS = 8

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]


def _gabor_bank(wavelength: float, size: int) -> list[npt.NDArray[np.complex64]]:
    """FFTs of 16 orientation-tuned Gabor kernels (ridge direction = bin angle)."""
    half = 12
    yy, xx = np.mgrid[-half : half + 1, -half : half + 1].astype(np.float64)
    sigma = wavelength * 0.45
    bank = []
    for b in range(N_BINS):
        theta = np.pi * b / N_BINS
        # the kernel oscillates across the ridge: along the normal of the ridge direction
        xn = -xx * np.sin(theta) + yy * np.cos(theta)
        g = np.exp(-(xx**2 + yy**2) / (2 * sigma**2)) * np.cos(2 * np.pi * xn / wavelength)
        g -= g.mean()
        g /= np.abs(g).sum()
        k = np.zeros((size, size))
        k[: 2 * half + 1, : 2 * half + 1] = g
        k = np.roll(k, (-half, -half), axis=(0, 1))
        bank.append(sfft.rfft2(k).astype(np.complex64))
    return bank


@lru_cache(maxsize=64)
def master_ridges(seed: int, finger_id: int) -> F32:
    """The master ridge pattern of a finger, values in [-1, 1] (ridges positive)."""
    finger = Finger.make(seed, finger_id)
    rng = finger_rng(seed, finger_id)
    rng.random(64)  # keep away from the stream Finger.make used
    yy, xx = np.mgrid[0:CANVAS, 0:CANVAS].astype(np.float64)
    theta = finger.orientation(xx, yy)
    pos = theta / np.pi * N_BINS
    lo = np.floor(pos).astype(np.int64) % N_BINS
    hi = (lo + 1) % N_BINS
    w_hi = (pos - np.floor(pos)).astype(np.float32)
    w_lo = 1.0 - w_hi
    bank = _gabor_bank(finger.wavelength, CANVAS)
    img = ndimage.gaussian_filter(rng.standard_normal((CANVAS, CANVAS)), 1.5).astype(np.float32)
    for _ in range(ROUNDS):
        spec = sfft.rfft2(img)
        out = np.zeros_like(img)
        for b, k in enumerate(bank):
            sel_lo = lo == b
            sel_hi = hi == b
            if not (sel_lo.any() or sel_hi.any()):
                continue
            resp = sfft.irfft2(spec * k, s=img.shape).astype(np.float32)
            out += resp * (w_lo * sel_lo + w_hi * sel_hi)
        img = np.tanh(2.5 * out / (out.std() + 1e-9)).astype(np.float32)
    img.setflags(write=False)
    result: F32 = img
    return result


def impression_image(
    seed: int, finger_id: int, impression: int, difficulty: float | None = None
) -> U8:
    """One 8-bit impression (384 x 320, 500 ppi) of a finger; deterministic."""
    finger = Finger.make(seed, finger_id)
    imp = Impression.make(seed, finger, impression, difficulty)
    d = imp.difficulty
    rng = np.random.default_rng([seed & 0xFFFFFFFF, finger_id, NOISE_TAG, impression])
    ridges = master_ridges(seed, finger_id)
    vv, uu = np.mgrid[0:IMAGE_H, 0:IMAGE_W].astype(np.float64)
    mx, my = imp.backward(uu, vv)
    r = ndimage.map_coordinates(ridges, [my, mx], order=1, mode="constant", cval=-1.0)
    contact = imp.contact(uu, vv, mx, my) * finger.inside(mx, my)
    # dry (thin, broken ridges) or wet (thick, merged ridges)
    bias = float(rng.normal(0, 0.15 + 0.35 * d))
    # patchy pressure: low-frequency field; where it is low, ridges fade
    patch = ndimage.gaussian_filter(rng.standard_normal((IMAGE_H, IMAGE_W)), 18)
    patch = patch / (patch.std() + 1e-9)
    fade = np.clip(1.0 - (0.15 + 0.55 * d) * np.clip(-patch, 0, None), 0.0, 1.0)
    ink = 0.5 + 0.5 * np.tanh(2.2 * (r + bias))
    ink = ink * fade * contact
    # scratches: thin light lines across the print
    for _ in range(int(rng.poisson(0.5 + 3 * d))):
        a = rng.uniform(0, np.pi)
        c = rng.uniform(-200, 200)
        dist = np.abs(np.cos(a) * (uu - IMAGE_W / 2) + np.sin(a) * (vv - IMAGE_H / 2) - c)
        ink = ink * np.clip(dist / rng.uniform(1.5, 3.5), 0.0, 1.0)
    ink = ndimage.gaussian_filter(ink, 0.6 + 0.9 * d)
    contrast = 190 - 70 * d
    grey = 235 - contrast * ink + rng.normal(0, 6 + 22 * d, ink.shape)
    out: U8 = np.clip(grey, 0, 255).astype(np.uint8)
    return out
