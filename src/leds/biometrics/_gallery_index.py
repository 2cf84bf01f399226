"""The fast index of a face gallery (private to :mod:`leds.biometrics.gallery`).

Three stages, each narrowing the list; the last one is exact, so what it returns is what
exact search over the shortlist returns:

1. **PQ fast scan** over every slot: FAISS ``IndexPQFastScan``, 64 sub-quantisers of 4 bits
   (32 bytes a template, SIMD look-up tables), inner product; keeps ``shortlist`` slots.
   Optionally (``max_shortlist > shortlist``) the shortlist is checked, per query: PQ's
   error is measured on the best shortlisted templates (8-bit score - PQ score; their
   inclusion did not depend on their error); if the
   last shortlisted PQ score plus the error's mean + 3 standard deviations could still reach
   the k-th best score, the shortlist is doubled and stage 1 runs again (up to
   ``max_shortlist``).
2. **8-bit codes** of the shortlist: ``round((x - mean) * scale)`` as int8 (128 bytes a
   template, in RAM), scored against the query; keeps ``rerank`` slots.
   ``(x - mean) . q`` orders templates as ``x . q`` does (``mean . q`` is the same for all).
3. **Exact re-ranking** of those from the float templates on disk (memory-mapped).

Training happens once (codebook of the PQ, ``mean`` and ``scale`` from a sample); an
enrolment then only encodes the new templates with the fixed codebook. Removed slots are
masked out before stage 3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class IndexParams:
    """Tuning of the fast index (defaults measured on 12.6M templates, see bench/)."""

    train_at: int = 100_000  # below this many slots, search scans the float templates
    train_sample: int = 200_000
    shortlist: int = 80_000  # stage 1 keeps this many (capped at the gallery size)
    # > shortlist: the list doubles, up to this, while the error check below says it may miss
    # a hit. Off by default: at 12.6M a fixed 80,000 measured recall@20 0.999 in 44 ms, the
    # growing list 0.9995 in 145 ms (it re-runs stage 1).
    max_shortlist: int = 80_000
    rerank: int = 200  # stage 2 keeps this many for exact re-ranking
    pq_m: int = 64


def train_pq(sample: F32, m: int) -> bytes:
    """Train a PQ codebook (inner product) on ``sample``; the empty index, serialised."""
    import faiss

    index = faiss.IndexPQ(sample.shape[1], m, 4, faiss.METRIC_INNER_PRODUCT)
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)  # k-means of 16 centroids: OpenMP only adds contention
    try:
        index.train(np.ascontiguousarray(sample, dtype=np.float32))
    finally:
        faiss.omp_set_num_threads(threads)
    return bytes(faiss.serialize_index(index))


def sq8_params(sample: F32) -> tuple[F32, float]:
    """Mean and scale of the 8-bit codes: 127 maps to the 99.99th percentile of |x - mean|."""
    mean: F32 = sample.mean(axis=0).astype(np.float32)
    spread = float(np.quantile(np.abs(sample - mean), 0.9999))
    return mean, 127.0 / max(spread, 1e-6)


def encode_sq8(x: F32, mean: F32, scale: float) -> npt.NDArray[np.int8]:
    codes = np.clip(np.rint((x - mean) * scale), -127, 127)
    result: npt.NDArray[np.int8] = codes.astype(np.int8)
    return result


class PQStage:
    """Stage 1: the PQ fast-scan index over all slots (rebuilt from codes on open)."""

    def __init__(self, model: bytes, codes: npt.NDArray[np.uint8]) -> None:
        import faiss

        self._faiss = faiss
        base: Any = faiss.deserialize_index(np.frombuffer(model, dtype=np.uint8))
        self.code_size = int(base.pq.code_size)
        if len(codes):
            faiss.copy_array_to_vector(np.ascontiguousarray(codes).ravel(), base.codes)
            base.ntotal = len(codes)
        self.pq = base.pq
        self._base = base
        self.index = faiss.IndexPQFastScan(base)
        base.reset()  # the fast-scan index holds its own packed copy

    def encode(self, x: F32) -> npt.NDArray[np.uint8]:
        codes: npt.NDArray[np.uint8] = self.pq.compute_codes(np.ascontiguousarray(x))
        return codes

    def add(self, x: F32) -> None:
        self.index.add(np.ascontiguousarray(x, dtype=np.float32))

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    def search(self, q: F32, k: int) -> tuple[I64, F32]:
        """The ``k`` best slots by approximate inner product, and those approximations."""
        scores, ids = self.index.search(q.reshape(1, -1), k)
        keep = ids[0] >= 0
        found: I64 = ids[0][keep].astype(np.int64)
        approx: F32 = scores[0][keep].astype(np.float32)
        return found, approx

    def nbytes(self) -> int:
        return self.ntotal * self.code_size


def top_k(slots: I64, scores: F32, k: int) -> tuple[I64, F32]:
    """The k best (highest score, then lowest slot) of ``slots``."""
    if len(slots) > k:
        part = np.argpartition(-scores, k - 1)[:k]
        slots, scores = slots[part], scores[part]
    order = np.lexsort((slots, -scores))
    return slots[order], scores[order]
