"""Synthetic face templates: a documented generative model, never derived from real faces.

Model (d = 128)
---------------
* Population mean direction ``mu``: a fixed unit vector (from ``default_rng(MU_SEED)``).
* Identity of a person: ``identity = normalise(A * mu + B * z)`` with ``z`` a unit-normalised
  N(0, I_d) vector drawn from ``default_rng([world seed, person index, IDENTITY_TAG])`` (the
  person id fixes it: every capture of a person shares it, in every source).
* Capture (one image / sample): ``template = normalise(identity + s * g)`` with
  ``g ~ N(0, I_d)`` from ``default_rng([world seed, person index, CAPTURE_TAG, capture key])``
  and ``s = SIGMA * exp(QUALITY_SLOPE * (70 - quality) / 30)``: poorer captures vary more.

Calibration (``A = 0.87, B = 0.4931, SIGMA = 0.0283, QUALITY_SLOPE = 0.35``, qualities uniform
35-99): measured on 2,000 persons x 2 captures (``tests/synth/test_synth_biometrics.py`` re-checks):
mated Euclidean distances median 0.453 (5th-95th percentile 0.35-0.57), non-mated median 0.800
(5th-95th 0.72-0.89). Two independent random unit vectors in 128-d would be ~1.41 apart;
the shared ``mu`` pulls non-mated pairs to ~0.8, as real face embeddings cluster.

Templates are written as 128 float32 little-endian values, unit length (``TEMPLATE_BYTES``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

DIM = 128
TEMPLATE_BYTES = DIM * 4
A = 0.87
B = 0.4931
SIGMA = 0.0283
QUALITY_SLOPE = 0.35
MU_SEED = 20_260_101
IDENTITY_TAG = 0xFACE
CAPTURE_TAG = 0xCA97

_MU: npt.NDArray[np.float64] | None = None

FloatVec = npt.NDArray[np.float64]


def _normalise(v: FloatVec) -> FloatVec:
    result: FloatVec = v / np.linalg.norm(v, axis=-1, keepdims=True)
    return result


def population_mean() -> FloatVec:
    global _MU
    if _MU is None:
        _MU = _normalise(np.random.default_rng(MU_SEED).standard_normal(DIM))
    return _MU


def identity(seed: int, person_index: int) -> FloatVec:
    """The identity vector of a person (unit length)."""
    z = _normalise(np.random.default_rng([seed, person_index, IDENTITY_TAG]).standard_normal(DIM))
    return _normalise(A * population_mean() + B * z)


def capture(
    seed: int, person_index: int, capture_key: int, quality: int, ident: FloatVec | None = None
) -> npt.NDArray[np.float32]:
    """One capture's template (unit length, float32). ``capture_key`` names the capture."""
    base = identity(seed, person_index) if ident is None else ident
    rng = np.random.default_rng([seed, person_index, CAPTURE_TAG, capture_key])
    s = SIGMA * float(np.exp(QUALITY_SLOPE * (70 - quality) / 30))
    return _normalise(base + s * rng.standard_normal(DIM)).astype(np.float32)


def sample_key(sample_ref: str) -> int:
    """The capture key of a sample or image reference (its digits)."""
    return int("".join(c for c in sample_ref if c.isdigit()) or "0")


def template_for(seed: int, person_index: int, sample_ref: str, quality: int) -> bytes:
    """Packed float32 little-endian template of a sample, e.g. a custody image ``CI...``.

    Custody images are not written as template files (the extract contract has none for
    PND); the facial-search gallery can regenerate them from the truth with this function.
    """
    return capture(seed, person_index, sample_key(sample_ref), quality).astype("<f4").tobytes()


def unpack(data: bytes) -> npt.NDArray[np.float32]:
    """Templates packed back to back -> array of shape (n, 128)."""
    return np.frombuffer(data, dtype="<f4").reshape(-1, DIM)
