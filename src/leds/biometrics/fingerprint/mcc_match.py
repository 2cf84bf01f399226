"""Minutia Cylinder-Code matching (LSS-R), compiled with numba: the 1:N re-ranker.

After Cappelli, Ferrara and Maltoni, "Minutia Cylinder-Code: a new representation and
matching technique for fingerprint recognition" (TPAMI 2010), the bit-based variant:

* one **cylinder** per minutia, ``NS x NS`` spatial cells (those inside radius ``R``) times
  ``ND`` direction cells in the minutia's frame; a cell's value sums, over the neighbouring
  minutiae, a normalised spatial Gaussian (``SIGMA_S``) of the distance to the cell centre
  times the share of a directional Gaussian (``SIGMA_D``) that falls in the cell's angular
  range; the **bit** is set where the value exceeds ``MU_PSI``. A cell is *valid* where it
  lies inside the print's footprint (the convex hull of its minutiae widened by ``OMEGA``
  px), so cells a partial print never saw count for nothing; a cylinder is kept when at
  least ``MIN_VC`` of its cells are valid and at least ``MIN_M`` minutiae lie near it.
* **cylinder similarity**: for two cylinders whose minutia directions differ by at most
  ``DELTA_THETA``, over the cells valid in both (at least ``MIN_ME`` of all):
  ``1 - sqrt(|a xor b|) / (sqrt(|a|) + sqrt(|b|))``.
* **LSS-R** (local similarity sort with relaxation): the ``N_R`` best one-to-one pairs
  (greedy by similarity) are relaxed ``N_REL`` times by their geometric compatibility
  (distances and relative angles agree, ``rho``), and the score is the mean relaxed
  similarity of the ``n_P`` most *efficient* pairs (those the relaxation kept best), ``n_P``
  growing from ``MIN_NP`` to ``MAX_NP`` with the smaller minutiae count. A score is in
  ``[0, 1]``; :func:`score_of` reports it times 100.

With ``NS = 8`` a direction layer of a cylinder is one 64-bit word (52 cells), so a cylinder
is a row of :data:`CYL_DTYPE` (72 bytes) and the gallery keeps them on disk
(``gallery.FingerprintGallery``, ``mcc.bin``). Why this and not Bozorth3 for the ranking:
on this generator's mated pairs 99.0-99.3 % score above every non-mated score of 40,000
comparisons, against 96.7 % for Bozorth3 (``docs/biometrics.md``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit, prange, types
from numba.extending import intrinsic

from leds.biometrics.fingerprint.extract import Template

R = 70.0
NS = 8
ND = 6
SIGMA_S = 28.0 / 3.0
SIGMA_D = 2.0 * math.pi / 9.0
MU_PSI = 0.01
OMEGA = 50.0
MIN_VC = 0.75
MIN_M = 2
DELTA_THETA = math.pi / 2.0
MIN_ME = 0.6
N_R = 20
W_R = 0.5
N_REL = 5
MIN_NP, MAX_NP = 4, 12
MU_P, TAU_P = 20.0, 0.4
MU_1, TAU_1 = 5.0, -8.0 / 5.0
MU_2, TAU_2 = math.pi / 12.0, -30.0
MU_3, TAU_3 = math.pi / 12.0, -30.0
VERSION = "mcc-lssr-1"  # recorded with the gallery layout and in the algorithm name

_c = (np.arange(NS) + 0.5) * (2 * R / NS) - R
_CX, _CY = np.meshgrid(_c, _c)
_IN = (_CX**2 + _CY**2) <= R**2
CELL_X = np.ascontiguousarray(_CX[_IN])
CELL_Y = np.ascontiguousarray(_CY[_IN])
N_CELLS = int(CELL_X.size)
assert N_CELLS <= 64  # one word a direction layer

CYL_DTYPE = np.dtype(
    [("x", "<f4"), ("y", "<f4"), ("theta", "<f4"), ("pad", "<u4"), ("mask", "<u8"),
     ("bits", "<u8", (ND,))]
)  # fmt: skip
F64 = npt.NDArray[np.float64]


def params() -> dict[str, Any]:
    """What a gallery's stored cylinders depend on (recorded in its ``meta.json``)."""
    return {
        "version": VERSION, "R": R, "NS": NS, "ND": ND, "sigma_s": SIGMA_S,
        "sigma_d": SIGMA_D, "mu_psi": MU_PSI, "omega": OMEGA, "min_vc": MIN_VC, "min_m": MIN_M,
    }  # fmt: skip


@njit(cache=True, inline="always")
def _adiff(a: float, b: float) -> float:
    d = a - b
    while d < -math.pi:
        d += 2.0 * math.pi
    while d >= math.pi:
        d -= 2.0 * math.pi
    return d


@njit(cache=True, inline="always")
def _push(hx: F64, hy: F64, k: int, low: int, x: float, y: float) -> int:
    """Add a point to a monotone chain, first dropping the points it makes non-convex."""
    while (
        k >= low
        and (hx[k - 1] - hx[k - 2]) * (y - hy[k - 2]) - (hy[k - 1] - hy[k - 2]) * (x - hx[k - 2])
        <= 0
    ):
        k -= 1
    hx[k] = x
    hy[k] = y
    return k + 1


@njit(cache=True)
def _hull(x: F64, y: F64) -> tuple[F64, F64]:
    """Convex hull (counter-clockwise, Andrew's monotone chain)."""
    n = x.size
    order = np.argsort(x * 1e5 + y)  # by x, then y (coordinates are pixels, |y| < 1e4)
    px = x[order]
    py = y[order]
    hx = np.empty(2 * n + 1)
    hy = np.empty(2 * n + 1)
    k = 0
    for i in range(n):  # lower chain
        k = _push(hx, hy, k, 2, px[i], py[i])
    upper = k + 1
    for i in range(n - 2, -1, -1):  # upper chain
        k = _push(hx, hy, k, upper, px[i], py[i])
    return hx[: max(k - 1, 0)].copy(), hy[: max(k - 1, 0)].copy()


@njit(cache=True)
def _in_footprint(px: float, py: float, hx: F64, hy: F64) -> bool:
    m = hx.size
    if m < 3:
        return False
    inside = True
    best = 1e18
    for i in range(m):
        ax = hx[i]
        ay = hy[i]
        bx = hx[(i + 1) % m]
        by = hy[(i + 1) % m]
        ex = bx - ax
        ey = by - ay
        if ex * (py - ay) - ey * (px - ax) < 0:
            inside = False
        l2 = ex * ex + ey * ey
        t = 0.0
        if l2 > 0:
            t = min(1.0, max(0.0, ((px - ax) * ex + (py - ay) * ey) / l2))
        dx = ax + t * ex - px
        dy = ay + t * ey - py
        best = min(best, dx * dx + dy * dy)
    return inside or best <= OMEGA * OMEGA


@njit(cache=True)
def _build(x: F64, y: F64, th: F64, cx: F64, cy: F64) -> tuple[Any, Any, Any]:
    """Bits (n, ND) and masks (n,) as uint64 words, and which cylinders are kept (n,)."""
    n = x.size
    nc = cx.size
    bits = np.zeros((n, ND), np.uint64)
    mask = np.zeros(n, np.uint64)
    keep = np.zeros(n, np.bool_)
    if n < 3:
        return bits, mask, keep
    hx, hy = _hull(x, y)
    reach2 = (R + 3.0 * SIGMA_S) ** 2
    lim2 = (3.0 * SIGMA_S) ** 2
    norm_s = 1.0 / (SIGMA_S * math.sqrt(2.0 * math.pi))
    half = math.pi / ND
    sq = SIGMA_D * math.sqrt(2.0)
    vals = np.zeros((nc, ND))
    gd = np.empty(ND)
    for i in range(n):
        c = math.cos(th[i])
        s = math.sin(th[i])
        near = 0
        for j in range(n):
            if j != i and (x[j] - x[i]) ** 2 + (y[j] - y[i]) ** 2 <= reach2:
                near += 1
        valid_cells = 0
        m = np.uint64(0)
        for q in range(nc):
            if _in_footprint(x[i] + c * cx[q] - s * cy[q], y[i] + s * cx[q] + c * cy[q], hx, hy):
                valid_cells += 1
                m |= np.uint64(1) << np.uint64(q)
        mask[i] = m
        if near < MIN_M or valid_cells < MIN_VC * nc:
            continue
        keep[i] = True
        vals[:, :] = 0.0
        for j in range(n):
            if j == i:
                continue
            dx = x[j] - x[i]
            dy = y[j] - y[i]
            if dx * dx + dy * dy > reach2:
                continue
            lx = c * dx + s * dy
            ly = -s * dx + c * dy
            rel = _adiff(th[j], th[i])
            for k in range(ND):
                d = _adiff(rel, (k + 0.5) * (2.0 * math.pi / ND) - math.pi)
                gd[k] = 0.5 * (math.erf((d + half) / sq) - math.erf((d - half) / sq))
            for q in range(nc):
                e2 = (lx - cx[q]) ** 2 + (ly - cy[q]) ** 2
                if e2 > lim2:
                    continue
                g = math.exp(-e2 / (2.0 * SIGMA_S * SIGMA_S)) * norm_s
                for k in range(ND):
                    vals[q, k] += g * gd[k]
        for k in range(ND):
            w = np.uint64(0)
            for q in range(nc):
                if vals[q, k] > MU_PSI:
                    w |= np.uint64(1) << np.uint64(q)
            bits[i, k] = w
    return bits, mask, keep


def cylinders(t: Template) -> npt.NDArray[np.void]:
    """The kept cylinders of a template as :data:`CYL_DTYPE` rows (y up, like ``mcc``)."""
    m = t.minutiae
    x = np.ascontiguousarray(m[:, 0], dtype=np.float64)
    y = np.ascontiguousarray(-m[:, 1], dtype=np.float64)
    th = np.ascontiguousarray(m[:, 2], dtype=np.float64)
    bits, mask, keep = _build(x, y, th, CELL_X, CELL_Y)
    out = np.zeros(int(keep.sum()), dtype=CYL_DTYPE)
    out["x"], out["y"], out["theta"] = x[keep], y[keep], th[keep]
    out["mask"], out["bits"] = mask[keep], bits[keep]
    return out


@intrinsic
def _ctpop(typingctx: Any, v: Any) -> Any:
    """LLVM's population count (one POPCNT instruction where the CPU has it)."""
    sig = types.uint64(types.uint64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        fn = builder.module.declare_intrinsic("llvm.ctpop", [args[0].type])
        return builder.call(fn, [args[0]])

    return sig, codegen


@njit(cache=True, inline="always")
def _popcount(v: Any) -> int:
    return int(_ctpop(v))  # type: ignore[call-arg]  # (typingctx is numba's)


@njit(cache=True, inline="always")
def _z(v: float, mu: float, tau: float) -> float:
    return 1.0 / (1.0 + math.exp(-tau * (v - mu)))


@njit(cache=True)
def _lssr(
    ax: Any, ay: Any, at: Any, am: Any, ab: Any, bx: Any, by: Any, bt: Any, bm: Any, bb: Any,
    sim: Any,
) -> float:  # fmt: skip
    na = ax.size
    nb = bx.size
    if na < 2 or nb < 2:
        return 0.0
    min_common = MIN_ME * N_CELLS
    cos_min = math.cos(DELTA_THETA)
    ca = np.cos(at)
    sa = np.sin(at)
    cb = np.cos(bt)
    sb = np.sin(bt)
    for i in range(na):
        for j in range(nb):
            sim[i, j] = 0.0
            if ca[i] * cb[j] + sa[i] * sb[j] < cos_min - 1e-12:  # directions > DELTA_THETA apart
                continue
            m = am[i] & bm[j]
            if _popcount(m) < min_common:
                continue
            xo = 0
            pa = 0
            pb = 0
            for k in range(ND):
                a = ab[i, k] & m
                b = bb[j, k] & m
                xo += _popcount(a ^ b)
                pa += _popcount(a)
                pb += _popcount(b)
            den = math.sqrt(pa) + math.sqrt(pb)
            if den > 0:
                sim[i, j] = 1.0 - math.sqrt(xo) / den
    # the N_R best one-to-one pairs, greedily (each row's best free column, kept current)
    nr_max = min(N_R, na, nb)
    pi = np.empty(nr_max, np.int64)
    pj = np.empty(nr_max, np.int64)
    lam = np.empty(nr_max)
    used_a = np.zeros(na, np.bool_)
    used_b = np.zeros(nb, np.bool_)
    row_best = np.zeros(na)
    row_arg = np.full(na, -1, np.int64)
    for i in range(na):
        for j in range(nb):
            if sim[i, j] > row_best[i]:
                row_best[i] = sim[i, j]
                row_arg[i] = j
    nr = 0
    while nr < nr_max:
        bi = -1
        best = 0.0
        for i in range(na):
            if not used_a[i] and row_best[i] > best:
                best = row_best[i]
                bi = i
        if bi < 0:
            break
        bj = row_arg[bi]
        used_a[bi] = True
        used_b[bj] = True
        pi[nr] = bi
        pj[nr] = bj
        lam[nr] = best
        nr += 1
        for i in range(na):  # rows that wanted the taken column look again
            if used_a[i] or row_arg[i] != bj:
                continue
            row_best[i] = 0.0
            row_arg[i] = -1
            for j in range(nb):
                if not used_b[j] and sim[i, j] > row_best[i]:
                    row_best[i] = sim[i, j]
                    row_arg[i] = j
    if nr < 2:
        return 0.0
    rho = np.zeros((nr, nr))
    for t in range(nr):
        a1 = pi[t]
        b1 = pj[t]
        for u in range(nr):
            if u == t:
                continue
            a2 = pi[u]
            b2 = pj[u]
            d1 = abs(
                math.hypot(ax[a1] - ax[a2], ay[a1] - ay[a2])
                - math.hypot(bx[b1] - bx[b2], by[b1] - by[b2])
            )
            d2 = abs(_adiff(_adiff(at[a1], at[a2]), _adiff(bt[b1], bt[b2])))
            ra = _adiff(at[a1], math.atan2(ay[a2] - ay[a1], ax[a2] - ax[a1]))
            rb = _adiff(bt[b1], math.atan2(by[b2] - by[b1], bx[b2] - bx[b1]))
            d3 = abs(_adiff(ra, rb))
            rho[t, u] = _z(d1, MU_1, TAU_1) * _z(d2, MU_2, TAU_2) * _z(d3, MU_3, TAU_3)
    cur = lam[:nr].copy()
    nxt = np.empty(nr)
    for _ in range(N_REL):
        for t in range(nr):
            s = 0.0
            for u in range(nr):
                if u != t:
                    s += rho[t, u] * cur[u]
            nxt[t] = W_R * cur[t] + (1.0 - W_R) * s / (nr - 1)
        cur[:] = nxt
    eff = cur / lam[:nr]
    n_p = MIN_NP + int(np.rint(_z(min(na, nb), MU_P, TAU_P) * (MAX_NP - MIN_NP)))
    n_p = min(n_p, nr)
    order = np.argsort(-eff)
    total = 0.0
    for q in range(n_p):
        total += cur[order[q]]
    return total / n_p


_CHUNKS = 64  # work items of a one-to-many comparison (shared by numba's threads)


@njit(cache=True, parallel=True)
def _many(
    px: Any, py: Any, pt: Any, pm: Any, pb: Any,
    gx: Any, gy: Any, gt: Any, gm: Any, gb: Any, starts: Any, counts: Any,
) -> Any:  # fmt: skip
    """One probe against many templates, in chunks spread over numba's threads (each chunk
    has its own scratch matrix; the result does not depend on the thread count)."""
    n = starts.size
    out = np.zeros(n)
    most = 1
    for c in counts:
        most = max(most, c)
    chunks = min(_CHUNKS, n)
    for c in prange(chunks):
        sim = np.empty((px.size, most))
        for k in range(c * n // chunks, (c + 1) * n // chunks):
            s = starts[k]
            e = s + counts[k]
            out[k] = _lssr(px, py, pt, pm, pb, gx[s:e], gy[s:e], gt[s:e], gm[s:e], gb[s:e], sim)
    return out


def _cols(c: npt.NDArray[np.void]) -> tuple[Any, ...]:
    return (
        np.ascontiguousarray(c["x"], dtype=np.float64),
        np.ascontiguousarray(c["y"], dtype=np.float64),
        np.ascontiguousarray(c["theta"], dtype=np.float64),
        np.ascontiguousarray(c["mask"]),
        np.ascontiguousarray(c["bits"]),
    )


def similarity_many(
    probe: npt.NDArray[np.void],
    gallery: npt.NDArray[np.void],
    starts: npt.NDArray[np.int64],
    counts: npt.NDArray[np.int64],
) -> F64:
    """LSS-R similarity (0-1) of a probe's cylinders with each of several templates'.

    ``gallery`` holds the templates' cylinders one after another; template ``k`` is rows
    ``starts[k] : starts[k] + counts[k]``.
    """
    if len(starts) == 0:
        return np.zeros(0)
    out: F64 = _many(  # type: ignore[call-arg]  # (numba types a dispatcher loosely)
        *_cols(probe), *_cols(gallery),
        np.ascontiguousarray(starts, dtype=np.int64), np.ascontiguousarray(counts, dtype=np.int64),
    )  # fmt: skip
    return out


def similarity(a: npt.NDArray[np.void], b: npt.NDArray[np.void]) -> float:
    """LSS-R similarity (0-1) of two templates' cylinders."""
    z = np.zeros(1, dtype=np.int64)
    return float(similarity_many(a, b, z, np.array([len(b)], dtype=np.int64))[0])


def score_of(similarity_01: float) -> float:
    """The reported 1:N score: the LSS-R similarity times 100, two decimals."""
    return round(100.0 * float(similarity_01), 2)


def match(a: Template, b: Template) -> float:
    """MCC LSS-R score (0-100) of two templates."""
    return score_of(similarity(cylinders(a), cylinders(b)))
