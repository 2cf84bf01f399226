"""The pre-filter's pose (Hough) vote, compiled with numba (``gallery.FingerprintGallery``).

A *segment* is one LSH bucket a probe cylinder fell in: rows ``lo : lo + count`` of one
table's sorted rows, each a gallery cylinder colliding with probe cylinder ``probe``, all
with the bucket's weight. Each collision votes, with that weight, for the pose (rotation,
translation) bringing the gallery minutia onto the probe minutia, in its template's
``rot_bins x trans_bins^2`` cells on two grids offset by half a cell; a template's score is
its best cell. Cell sums live in two hashed tables (one a grid) of ``2^hash_bits`` entries
keyed by (slot, cell) (Fibonacci hashing): linear time, and an unrelated (slot, cell)
sharing an entry only adds a little noise. Each collision's cells are computed first (a
sequential pass), then summed, then each slot takes the largest sum among its collisions'
cells. Rotations are read from a 4,096-step sine table
(0.09 degree steps: under 0.2 px at the edge of a print).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

_STEPS = 4096
_SIN = np.sin(np.arange(_STEPS) * (2 * np.pi / _STEPS))
_COS = np.cos(np.arange(_STEPS) * (2 * np.pi / _STEPS))


@njit(cache=True, inline="always")
def _cell(rot: float, tx: float, ty: float, off: float, rot_scale: float, rot_bins: int,
          trans_bins: int, half: int, inv_cell: float) -> int:  # fmt: skip
    # int() truncates: the floor for non-negative values (the rotation, a translation within
    # the grid once shifted by half of it); below the grid both clip to cell 0
    rb = int(rot * rot_scale + off)
    if rb >= rot_bins:
        rb -= rot_bins
    bx = min(max(int(tx * inv_cell + off + half), 0), trans_bins - 1)
    by = min(max(int(ty * inv_cell + off + half), 0), trans_bins - 1)
    return (rb * trans_bins + bx) * trans_bins + by


@njit(cache=True, inline="always")
def _hash(key: Any, shift: Any) -> int:
    """Fibonacci hashing of a (slot, cell) key to ``64 - shift`` bits (no division)."""
    return int((np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)) >> shift)


@njit(cache=True)
def _cells(
    seg_table: Any, seg_lo: Any, seg_count: Any, seg_probe: Any, seg_weight: Any,
    rows: Any, gslot: Any, gx: Any, gy: Any, gt: Any,
    px: Any, py: Any, pt: Any,
    rot_bins: int, trans_bins: int, trans_cell: float, size_bits: int,
    sin_t: Any, cos_t: Any, out_slot: Any, out_h0: Any, out_h1: Any, out_w: Any, start: int,
) -> int:  # fmt: skip
    """Each collision's slot, its two cells' hash entries and weight, from ``start`` on."""
    cells = rot_bins * trans_bins * trans_bins
    two_pi = 2.0 * math.pi
    steps = sin_t.size
    to_step = steps / two_pi
    rot_scale = rot_bins / two_pi
    inv_cell = 1.0 / trans_cell
    shift = np.uint64(64 - size_bits)
    half = trans_bins // 2
    i = start
    for s in range(seg_table.size):
        t = seg_table[s]
        p = seg_probe[s]
        w = seg_weight[s]
        ppx = px[p]
        ppy = py[p]
        ppt = pt[p]
        for k in range(seg_lo[s], seg_lo[s] + seg_count[s]):
            r = rows[t, k]
            slot = np.int64(gslot[r])
            rot = ppt - gt[r]
            if rot < 0.0:
                rot += two_pi
            if rot >= two_pi:
                rot -= two_pi
            q = int(rot * to_step + 0.5)
            if q >= steps:
                q -= steps
            c = cos_t[q]
            sn = sin_t[q]
            x = gx[r]
            y = gy[r]
            tx = ppx - (c * x - sn * y)
            ty = ppy - (sn * x + c * y)
            base = slot * cells
            out_slot[i] = slot
            c0 = _cell(rot, tx, ty, 0.0, rot_scale, rot_bins, trans_bins, half, inv_cell)
            c1 = _cell(rot, tx, ty, 0.5, rot_scale, rot_bins, trans_bins, half, inv_cell)
            out_h0[i] = _hash(base + c0, shift)
            out_h1[i] = _hash(base + c1, shift)
            out_w[i] = w
            i += 1
    return i


@njit(cache=True)
def _sum_and_best(slot: Any, h0: Any, h1: Any, w: Any, size_bits: int, votes: Any) -> None:
    """Sum the collisions into their cells, then give each slot its best cell's sum."""
    s0 = np.zeros(1 << size_bits, dtype=np.float32)
    s1 = np.zeros(1 << size_bits, dtype=np.float32)
    for i in range(slot.size):
        s0[h0[i]] += w[i]
        s1[h1[i]] += w[i]
    for i in range(slot.size):
        best = max(s0[h0[i]], s1[h1[i]])
        if best > votes[slot[i]]:
            votes[slot[i]] = best


def pose_vote(
    parts: list[tuple[Any, ...]],
    probe_xyt: Any,
    n_slots: int,
    *,
    rot_bins: int,
    trans_bins: int,
    trans_cell: float,
    hash_bits: int,
) -> Any:
    """Votes ``(n_slots,)`` from segment groups ``parts``: each ``(table, lo, count, probe,
    weight, rows (L, n), slot, x, y, theta)`` -- one group for the sorted index, one for
    the rows enrolled since the last rebuild."""
    votes = np.zeros(n_slots, dtype=np.float64)
    px = np.ascontiguousarray(probe_xyt[:, 0], dtype=np.float64)
    py = np.ascontiguousarray(probe_xyt[:, 1], dtype=np.float64)
    pt = np.ascontiguousarray(probe_xyt[:, 2], dtype=np.float64)
    n = sum(int(part[2].sum()) for part in parts)
    slot = np.empty(n, dtype=np.int32)
    h0 = np.empty(n, dtype=np.int32)
    h1 = np.empty(n, dtype=np.int32)
    w = np.empty(n, dtype=np.float32)
    done = 0
    for seg_t, lo, cnt, probe, weight, rows, gslot, x, y, theta in parts:
        done = _cells(
            seg_t, lo, cnt, probe, weight.astype(np.float32), rows, gslot, x, y, theta,
            px, py, pt, rot_bins, trans_bins, trans_cell, hash_bits, _SIN, _COS,
            slot, h0, h1, w, done,
        )  # fmt: skip
    _sum_and_best(slot, h0, h1, w, hash_bits, votes)
    return votes
