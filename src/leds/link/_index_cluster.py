"""Constrained clustering and id carry-over on numpy arrays (no database; used by the index).

Clustering is the greedy single-linkage union-find of the linkage literature, made
constrained: edges are taken must-links first, then in descending probability (ties by the
smaller node, then the other node); an edge is refused when it would put two cannot-linked
nodes, or two nodes with different ``tag`` (two existing persons in an incremental attach),
into one cluster. Refused edges are kept as ``blocked`` (the strongest per pair of final
clusters).

The unconstrained bulk of the graph is done in C (scipy's Kruskal gives the maximum spanning
forest in that same order, and its connected components); only components that contain a
cannot-link, or two different tags, are replayed in Python. The result is identical to the
plain greedy algorithm over all edges, because the greedy union-find never looks beyond a
connected component.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix  # type: ignore[import-untyped]
from scipy.sparse.csgraph import (  # type: ignore[import-untyped]
    connected_components,
    minimum_spanning_tree,
)

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

KIND_MODEL = 0
KIND_DECISION = 1


@dataclass(frozen=True, slots=True)
class Clustering:
    """Clusters of ``n`` nodes: ``labels[i]`` in 0..count-1, numbered by smallest node."""

    labels: I64
    count: int
    forest_l: I64  # edges that hold the clusters together (node indices, l < r)
    forest_r: I64
    forest_p: F64
    forest_decision: B  # True: a must-link (review decision), False: a model link
    blocked_l: I64  # strongest refused edge per pair of clusters
    blocked_r: I64
    blocked_p: F64


def _empty_i() -> I64:
    return np.zeros(0, dtype=np.int64)


def order_edges(el: I64, er: I64, ep: F64, must_l: I64, must_r: I64) -> tuple[I64, I64, F64, B]:
    """Must-links first, then model edges by descending probability (ties: l, then r);
    orientation l < r; duplicates keep their first (strongest) occurrence."""
    lo = np.minimum(el, er)
    hi = np.maximum(el, er)
    order = np.lexsort((hi, lo, -ep))
    mlo = np.minimum(must_l, must_r)
    mhi = np.maximum(must_l, must_r)
    morder = np.lexsort((mhi, mlo))
    l_all = np.concatenate([mlo[morder], lo[order]])
    r_all = np.concatenate([mhi[morder], hi[order]])
    p_all = np.concatenate([np.ones(len(mlo)), ep[order]])
    d_all = np.concatenate([np.ones(len(mlo), dtype=bool), np.zeros(len(lo), dtype=bool)])
    keep = l_all != r_all
    l_all, r_all, p_all, d_all = l_all[keep], r_all[keep], p_all[keep], d_all[keep]
    if len(l_all):
        keys = l_all * (int(r_all.max()) + 1) + r_all
        _, first = np.unique(keys, return_index=True)
        first.sort()
        l_all, r_all, p_all, d_all = l_all[first], r_all[first], p_all[first], d_all[first]
    return l_all.astype(np.int64), r_all.astype(np.int64), p_all.astype(np.float64), d_all


def cluster_nodes(
    n: int,
    el: I64,
    er: I64,
    ep: F64,
    *,
    must_l: I64 | None = None,
    must_r: I64 | None = None,
    cannot_l: I64 | None = None,
    cannot_r: I64 | None = None,
    tags: I64 | None = None,
) -> Clustering:
    """Cluster nodes 0..n-1 over the given edges (all of them are taken as links: filter by
    threshold first). ``tags``: -1 for none; nodes with different tags never join."""
    must_l = _empty_i() if must_l is None else must_l
    must_r = _empty_i() if must_r is None else must_r
    cannot_l = _empty_i() if cannot_l is None else cannot_l
    cannot_r = _empty_i() if cannot_r is None else cannot_r
    lo, hi, prob, dec = order_edges(el, er, ep, must_l, must_r)
    m = len(lo)
    if n == 0:
        z = _empty_i()
        zf = np.zeros(0)
        return Clustering(z, 0, z, z, zf, np.zeros(0, dtype=bool), z, z, zf)
    # Kruskal in C: ranks as weights (distinct, positive) give exactly our order.
    graph = coo_matrix((np.arange(1, m + 1, dtype=np.float64), (lo, hi)), shape=(n, n)).tocsr()
    tree = minimum_spanning_tree(graph).tocoo()
    forest_idx = np.asarray(tree.data, dtype=np.int64) - 1
    _, labels0 = connected_components(tree, directed=False)
    labels0 = labels0.astype(np.int64)

    bad = np.zeros(int(labels0.max()) + 1 if n else 0, dtype=bool)
    if len(cannot_l):
        same = labels0[cannot_l] == labels0[cannot_r]
        bad[labels0[cannot_l[same]]] = True
    if tags is not None:
        tagged = tags >= 0
        if tagged.any():
            comp_tag = np.stack([labels0[tagged], tags[tagged]], axis=1)
            uniq = np.unique(comp_tag, axis=0)
            comps, counts = np.unique(uniq[:, 0], return_counts=True)
            bad[comps[counts > 1]] = True

    labels = labels0.copy()
    keep_forest = ~bad[labels0[lo[forest_idx]]]
    forest = forest_idx[keep_forest]
    blocked_idx = _empty_i()
    if bad.any():
        in_bad = bad[labels0[lo]]
        sub = np.flatnonzero(in_bad)  # edges of bad components, already in order
        sub_forest, sub_blocked, roots = _replay(
            lo[sub], hi[sub], np.flatnonzero(bad[labels0]), cannot_l, cannot_r, tags
        )
        forest = np.concatenate([forest, sub[sub_forest]])
        blocked_idx = sub[sub_blocked]
        base = int(labels0.max()) + 1
        for node, root in roots.items():
            labels[node] = base + root
    # Canonical numbering: by smallest node of each cluster.
    uniq_labels, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(uniq_labels), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(uniq_labels))
    labels = rank[inverse].astype(np.int64)
    forest.sort()
    bl, br, bp = lo[blocked_idx], hi[blocked_idx], prob[blocked_idx]
    if len(bl):  # strongest refused edge per pair of final clusters
        ca = np.minimum(labels[bl], labels[br])
        cb = np.maximum(labels[bl], labels[br])
        _, first_b = np.unique(ca * (len(uniq_labels) + 1) + cb, return_index=True)
        first_b.sort()
        bl, br, bp = bl[first_b], br[first_b], bp[first_b]
    return Clustering(
        labels=labels,
        count=len(uniq_labels),
        forest_l=lo[forest],
        forest_r=hi[forest],
        forest_p=prob[forest],
        forest_decision=dec[forest],
        blocked_l=bl,
        blocked_r=br,
        blocked_p=bp,
    )


def _replay(
    lo: I64,
    hi: I64,
    nodes: I64,
    cannot_l: I64,
    cannot_r: I64,
    tags: I64 | None,
) -> tuple[I64, I64, dict[int, int]]:
    """The constrained greedy union-find over the edges of the components that need it.

    Returns the positions of the forest and blocked edges and each node's root."""
    parent: dict[int, int] = {int(v): int(v) for v in nodes}
    size: dict[int, int] = dict.fromkeys(parent, 1)
    apart: dict[int, set[int]] = {}
    tag: dict[int, int] = {}
    for a, b in zip(cannot_l.tolist(), cannot_r.tolist(), strict=True):
        if a in parent and b in parent:
            apart.setdefault(a, set()).add(b)
            apart.setdefault(b, set()).add(a)
    if tags is not None:
        for v in parent:
            t = int(tags[v])
            if t >= 0:
                tag[v] = t

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    forest: list[int] = []
    blocked: list[int] = []
    for i, (a, b) in enumerate(zip(lo.tolist(), hi.tolist(), strict=True)):
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        ta, tb = tag.get(ra), tag.get(rb)
        if ta is not None and tb is not None and ta != tb:
            blocked.append(i)
            continue
        sa, sb = apart.get(ra), apart.get(rb)
        if sa and sb and len(sb) < len(sa):
            sa, sb, ra, rb = sb, sa, rb, ra
        if sa and any(find(x) == rb for x in sa):
            blocked.append(i)
            continue
        if size[ra] < size[rb]:
            ra, rb = rb, ra
            sa, sb = sb, sa
        parent[rb] = ra
        size[ra] += size[rb]
        if sb:
            if sa is None:
                apart[ra] = sb
            else:
                sa |= sb
            del apart[rb]
        if ta is None and tb is not None:
            tag[ra] = tb
        forest.append(i)
    roots = {v: find(v) for v in parent}
    return np.asarray(forest, dtype=np.int64), np.asarray(blocked, dtype=np.int64), roots


def carry_over(
    labels: I64,
    count: int,
    member_pos: I64,
    member_code: I64,
    code_size: dict[int, int] | None = None,
) -> I64:
    """Which old id each cluster keeps (-1: a new id).

    ``member_pos``/``member_code``: the node positions that belonged to each old id (a node may
    belong to several candidates). Largest overlap first; ties: the smaller old id set (the
    closer match), then the smaller (older) id, then the cluster with the smallest node. Each
    old id goes to at most one cluster, each cluster gets at most one old id.
    """
    result = np.full(count, -1, dtype=np.int64)
    if not len(member_pos):
        return result
    base = int(member_code.max()) + 1
    keys, overlap = np.unique(labels[member_pos] * base + member_code, return_counts=True)
    c, p = keys // base, keys % base
    # The common case: a cluster with one candidate id that has no other cluster.
    c_n = np.bincount(c, minlength=count)
    p_vals, p_inv, p_n = np.unique(p, return_inverse=True, return_counts=True)
    simple = (c_n[c] == 1) & (p_n[p_inv] == 1)
    result[c[simple]] = p[simple]
    rest = ~simple
    if rest.any():
        c2, p2, o2 = c[rest], p[rest], overlap[rest]
        if code_size:
            size = np.array([code_size.get(int(x), 0) for x in p2], dtype=np.int64)
        else:
            size = np.zeros(len(p2), dtype=np.int64)
        order = np.lexsort((c2, p2, size, -o2))
        used: set[int] = set()
        for i in order.tolist():
            ci, pi = int(c2[i]), int(p2[i])
            if result[ci] >= 0 or pi in used:
                continue
            result[ci] = pi
            used.add(pi)
    del p_vals
    return result
