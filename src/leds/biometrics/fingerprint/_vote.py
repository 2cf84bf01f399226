"""The pre-filter's pose (Hough) vote, compiled with numba (``gallery.FingerprintGallery``).

A *segment* is one LSH bucket a probe cylinder fell in: rows ``lo : lo + count`` of one
table's sorted rows, each a gallery cylinder colliding with probe cylinder ``probe``, all
with the bucket's weight. Each collision votes, with that weight, for the pose (rotation,
translation) bringing the gallery minutia onto the probe minutia, in its template's
``rot_bins x trans_bins^2`` cells on two grids offset by half a cell; a template's score is
its best cell.

Three passes, each on numba's threads:

1. **cells**: each collision's slot, its cell on either grid and its weight (segments in
   parallel; the gallery reads are random, so this pass is bound by memory latency);
2. **partition** the collisions by slot range (a stable counting sort into ``parts``
   ranges of about ``PART_TARGET`` collisions: each range's cell sums then fit in a core's
   cache);
3. **sum and best**, one slot range a task: exact (slot, grid, cell) sums in an
   open-addressing table of the range's own (keys kept, so two cells never share a sum --
   a shared table of hashed sums let unrelated templates borrow each other's votes), then
   each slot takes the largest sum among its collisions' cells.

Sums are added in collision order within a slot range, so the votes do not depend on the
number of threads. Rotations are read from a 4,096-step sine table (0.09 degree steps:
under 0.2 px at the edge of a print).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import get_num_threads, njit, prange

_STEPS = 4096
_SIN = np.sin(np.arange(_STEPS) * (2 * np.pi / _STEPS))
_COS = np.cos(np.arange(_STEPS) * (2 * np.pi / _STEPS))
PART_TARGET = 4096  # collisions a slot range holds on average (its table: 16k entries)


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


@njit(cache=True, parallel=True)
def _cells(
    seg_table: Any, seg_lo: Any, seg_count: Any, seg_out: Any, seg_probe: Any, seg_weight: Any,
    rows: Any, gslot: Any, gx: Any, gy: Any, gt: Any,
    px: Any, py: Any, pt: Any,
    rot_bins: int, trans_bins: int, trans_cell: float,
    sin_t: Any, cos_t: Any, out_slot: Any, out_c0: Any, out_c1: Any, out_w: Any,
) -> None:  # fmt: skip
    """Each collision's slot, its cell on either grid and its weight; segment ``s`` writes
    from ``seg_out[s]`` on."""
    two_pi = 2.0 * math.pi
    steps = sin_t.size
    to_step = steps / two_pi
    rot_scale = rot_bins / two_pi
    inv_cell = 1.0 / trans_cell
    half = trans_bins // 2
    for s in prange(seg_table.size):
        t = seg_table[s]
        p = seg_probe[s]
        w = seg_weight[s]
        ppx = px[p]
        ppy = py[p]
        ppt = pt[p]
        i = seg_out[s]
        for k in range(seg_lo[s], seg_lo[s] + seg_count[s]):
            r = rows[t, k]
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
            out_slot[i] = gslot[r]
            out_c0[i] = _cell(rot, tx, ty, 0.0, rot_scale, rot_bins, trans_bins, half, inv_cell)
            out_c1[i] = _cell(rot, tx, ty, 0.5, rot_scale, rot_bins, trans_bins, half, inv_cell)
            out_w[i] = w
            i += 1


@njit(cache=True, parallel=True)
def _partition(
    slot: Any, c0: Any, c1: Any, w: Any, n_slots: int, parts: int, chunks: int
) -> tuple[Any, Any, Any, Any, Any]:
    """Collisions in slot-range order (stable): ``(slot, c0, c1, w, starts)``; range ``p``
    holds slots ``p * n_slots // parts`` up to the next range's first. A counting sort in
    ``chunks`` contiguous chunks on the threads (each chunk's own counts, then offsets in
    range-major, chunk-minor order: the order within a range is the input's)."""
    n = slot.size
    per = (n + chunks - 1) // chunks
    counts = np.zeros((chunks, parts), dtype=np.int64)
    for c in prange(chunks):
        for i in range(c * per, min(n, (c + 1) * per)):
            counts[c, np.int64(slot[i]) * parts // n_slots] += 1
    starts = np.zeros(parts + 1, dtype=np.int64)
    at = np.empty((chunks, parts), dtype=np.int64)
    total = 0
    for p in range(parts):
        starts[p] = total
        for c in range(chunks):
            at[c, p] = total
            total += counts[c, p]
    starts[parts] = total
    o_slot = np.empty(n, dtype=slot.dtype)
    o_c0 = np.empty(n, dtype=c0.dtype)
    o_c1 = np.empty(n, dtype=c1.dtype)
    o_w = np.empty(n, dtype=w.dtype)
    for c in prange(chunks):
        mine = at[c]
        for i in range(c * per, min(n, (c + 1) * per)):
            r = np.int64(slot[i]) * parts // n_slots
            j = mine[r]
            mine[r] = j + 1
            o_slot[j] = slot[i]
            o_c0[j] = c0[i]
            o_c1[j] = c1[i]
            o_w[j] = w[i]
    return o_slot, o_c0, o_c1, o_w, starts


@njit(cache=True, inline="always")
def _entry(keys: Any, key: int, mask: int) -> int:
    """The table entry of ``key`` (inserted if new): Fibonacci hash, linear probing."""
    h = int((np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(40)) & mask
    while keys[h] != key:
        if keys[h] == -1:
            keys[h] = key
            break
        h = (h + 1) & mask
    return h


@njit(cache=True, parallel=True)
def _sum_and_best(slot: Any, c0: Any, c1: Any, w: Any, starts: Any, cells: int, votes: Any) -> None:
    """Exact cell sums within each slot range, then each slot's best cell (see module)."""
    for p in prange(starts.size - 1):
        lo = starts[p]
        k = starts[p + 1] - lo
        if k == 0:
            continue
        size = 16
        while size < 4 * k:  # two keys a collision at most: load factor <= 1/2
            size *= 2
        mask = size - 1
        keys = np.full(size, -1, dtype=np.int64)
        sums = np.zeros(size, dtype=np.float32)
        e0 = np.empty(k, dtype=np.int64)
        e1 = np.empty(k, dtype=np.int64)
        for j in range(k):
            base = np.int64(slot[lo + j]) * cells
            a = _entry(keys, 2 * (base + c0[lo + j]), mask)
            b = _entry(keys, 2 * (base + c1[lo + j]) + 1, mask)
            sums[a] += w[lo + j]
            sums[b] += w[lo + j]
            e0[j] = a
            e1[j] = b
        for j in range(k):
            best = max(sums[e0[j]], sums[e1[j]])
            s = slot[lo + j]
            if best > votes[s]:
                votes[s] = best


def pose_vote(
    parts: list[tuple[Any, ...]],
    probe_xyt: Any,
    n_slots: int,
    *,
    rot_bins: int,
    trans_bins: int,
    trans_cell: float,
) -> Any:
    """Votes ``(n_slots,)`` from segment groups ``parts``: each ``(table, lo, count, probe,
    weight, rows (L, n), slot, x, y, theta)`` -- one group for the sorted index, one for
    the rows enrolled since the last rebuild."""
    votes = np.zeros(n_slots, dtype=np.float64)
    px = np.ascontiguousarray(probe_xyt[:, 0], dtype=np.float64)
    py = np.ascontiguousarray(probe_xyt[:, 1], dtype=np.float64)
    pt = np.ascontiguousarray(probe_xyt[:, 2], dtype=np.float64)
    n = sum(int(part[2].sum()) for part in parts)
    if n == 0 or n_slots == 0:
        return votes
    slot = np.empty(n, dtype=np.int32)
    c0 = np.empty(n, dtype=np.int32)
    c1 = np.empty(n, dtype=np.int32)
    w = np.empty(n, dtype=np.float32)
    done = 0
    for seg_t, lo, cnt, probe, weight, rows, gslot, x, y, theta in parts:
        out = done + np.cumsum(cnt) - cnt
        _cells(
            seg_t, lo, cnt, out, probe, weight.astype(np.float32), rows, gslot, x, y, theta,
            px, py, pt, rot_bins, trans_bins, trans_cell, _SIN, _COS, slot, c0, c1, w,
        )  # fmt: skip
        done += int(cnt.sum())
    n_parts = max(1, min(n_slots, -(-n // PART_TARGET)))
    slot, c0, c1, w, starts = _partition(slot, c0, c1, w, n_slots, n_parts, get_num_threads())
    _sum_and_best(slot, c0, c1, w, starts, rot_bins * trans_bins * trans_bins, votes)
    return votes
