"""RFC 9162 (Certificate Transparency v2) Merkle tree hashing, proofs and their verification.

The audit log's tree is the RFC 9162 §2.1.1 Merkle Tree Hash over SHA-256: a leaf is hashed as
``SHA-256(0x00 || data)`` and an interior node as ``SHA-256(0x01 || left || right)``. The tree of
``n`` leaves splits at ``k``, the largest power of two smaller than ``n``.

* :func:`root_from_leaf_hashes` and :class:`Frontier` keep only the "frontier" (one perfect
  subtree root per set bit of the size), so a root costs O(log n) memory however long the log.
* :func:`inclusion_proof` and :func:`consistency_proof` produce the RFC 9162 §2.1.3.1 / §2.1.4.1
  proofs from the list of leaf hashes, walking index ranges (no recursion, no list copies).
* :func:`verify_inclusion` and :func:`verify_consistency` are the §2.1.3.2 / §2.1.4.2
  verification algorithms, step for step; they raise :class:`ProofError` and return nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from typing import Final

from leds.errors import LedsError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Frontier",
    "MerkleError",
    "ProofError",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE: Final = 32
EMPTY_ROOT: Final[bytes] = hashlib.sha256(b"").digest()
"""MTH({}): the root of the empty tree, SHA-256 of the empty string."""

_LEAF_PREFIX: Final = b"\x00"
_NODE_PREFIX: Final = b"\x01"
_FRONTIER_VERSION: Final = 1
_MAX_SIZE: Final = (1 << 64) - 1  # tree sizes are uint64 on the wire (RFC 9162 §4.10)


class MerkleError(LedsError, ValueError):
    """A Merkle-tree operation was given impossible arguments (bad size, index or hash length)."""


class ProofError(LedsError):
    """An inclusion or consistency proof failed to verify; ``reason`` says which check failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"Merkle proof rejected: {reason}",
            hint="the log, the proof or the checkpoint it was checked against has been altered",
        )
        self.reason = reason


def leaf_hash(data: bytes) -> bytes:
    """The RFC 9162 leaf hash of ``data``: SHA-256(0x00 || data)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _fold_frontier(stack: Sequence[bytes]) -> bytes:
    """Fold frontier subtree roots (largest, leftmost first) into the tree root."""
    if not stack:
        return EMPTY_ROOT
    sha256 = hashlib.sha256
    root = stack[-1]
    for left in reversed(stack[:-1]):
        root = sha256(_NODE_PREFIX + left + root).digest()
    return root


def root_from_leaf_hashes(hashes: Iterable[bytes]) -> bytes:
    """MTH over a stream of leaf hashes, in O(log n) memory (n = number of hashes).

    Each leaf hash must be 32 bytes; the iterable is consumed once, so a generator reading
    leaves from disk or a database cursor works for any log size.
    """
    sha256 = hashlib.sha256
    prefix = _NODE_PREFIX
    stack: list[bytes] = []
    push = stack.append
    pop = stack.pop
    for count, h in enumerate(hashes, start=1):
        if len(h) != HASH_SIZE:
            raise MerkleError(f"leaf hash {count - 1} is {len(h)} bytes, expected {HASH_SIZE}")
        # Appending leaf number `count` merges one completed subtree per trailing zero bit.
        merges = count
        while not merges & 1:
            h = sha256(prefix + pop() + h).digest()
            merges >>= 1
        push(h)
    return _fold_frontier(stack)


class Frontier:
    """The right edge of a growing tree: enough to append leaves and compute the current root.

    Holds one perfect-subtree root per set bit of :attr:`size` (at most 64 hashes), so the log
    writer can persist it next to every append with :meth:`to_bytes` (9 + 32·popcount(size)
    bytes) and resume with :meth:`from_bytes` after a restart.
    """

    __slots__ = ("_size", "_stack")

    def __init__(self) -> None:
        self._size = 0
        self._stack: list[bytes] = []

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    def append(self, leaf_hash: bytes) -> None:
        """Append one leaf (its 32-byte RFC 9162 leaf hash, not the raw data)."""
        if len(leaf_hash) != HASH_SIZE:
            raise MerkleError(f"leaf hash is {len(leaf_hash)} bytes, expected {HASH_SIZE}")
        if self._size >= _MAX_SIZE:
            raise MerkleError("tree is full (2^64 - 1 leaves)")
        self._size += 1
        merges = self._size
        h = leaf_hash
        while not merges & 1:
            h = node_hash(self._stack.pop(), h)
            merges >>= 1
        self._stack.append(h)

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append several leaf hashes in order."""
        for h in leaf_hashes:
            self.append(h)

    def root(self) -> bytes:
        """The Merkle Tree Hash of the leaves appended so far (:data:`EMPTY_ROOT` when empty)."""
        return _fold_frontier(self._stack)

    def copy(self) -> Frontier:
        """An independent copy (appending to it leaves this frontier unchanged)."""
        other = Frontier()
        other._size = self._size
        other._stack = list(self._stack)
        return other

    def to_bytes(self) -> bytes:
        """Serialise as version (1 byte) || size (8 bytes, big-endian) || subtree roots."""
        return bytes([_FRONTIER_VERSION]) + self._size.to_bytes(8, "big") + b"".join(self._stack)

    @classmethod
    def from_bytes(cls, data: bytes) -> Frontier:
        """Restore a frontier written by :meth:`to_bytes`, checking its length and version."""
        if len(data) < 9 or data[0] != _FRONTIER_VERSION:
            raise MerkleError("not a serialised Merkle frontier (bad length or version byte)")
        size = int.from_bytes(data[1:9], "big")
        expected = 9 + HASH_SIZE * size.bit_count()
        if len(data) != expected:
            raise MerkleError(
                f"serialised frontier for size {size} is {len(data)} bytes, expected {expected}"
            )
        frontier = cls()
        frontier._size = size
        frontier._stack = [data[i : i + HASH_SIZE] for i in range(9, expected, HASH_SIZE)]
        return frontier

    def __repr__(self) -> str:
        return f"Frontier(size={self._size}, root={self.root().hex()})"


def _largest_power_of_two_below(n: int) -> int:
    """k, the largest power of two strictly smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _range_root(hashes: Sequence[bytes], lo: int, hi: int) -> bytes:
    """MTH(D[lo:hi]) by pairing level by level (an unpaired last node moves up unchanged).

    Gives the same tree as the RFC's split at the largest power of two. Memory is O(hi - lo),
    which proof generation may spend; :func:`root_from_leaf_hashes` is the O(log n) variant.
    """
    for i in range(lo, hi):
        if len(hashes[i]) != HASH_SIZE:
            raise MerkleError(f"leaf hash {i} is {len(hashes[i])} bytes, expected {HASH_SIZE}")
    if hi - lo == 1:
        return hashes[lo]
    sha256 = hashlib.sha256
    prefix = _NODE_PREFIX
    level = [sha256(prefix + hashes[i] + hashes[i + 1]).digest() for i in range(lo, hi - 1, 2)]
    if (hi - lo) & 1:
        level.append(hashes[hi - 1])
    while len(level) > 1:
        odd = level[-1] if len(level) & 1 else None
        level = [
            sha256(prefix + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        if odd is not None:
            level.append(odd)
    return level[0]


def inclusion_proof(hashes: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(index, D[n]) of RFC 9162 §2.1.3.1 for the tree whose leaf hashes are ``hashes``.

    The audit path is ordered from the leaf's sibling up to the root's child. O(n) hashing:
    the sibling subtrees are disjoint ranges of the leaves.
    """
    n = len(hashes)
    if not 0 <= index < n:
        raise MerkleError(f"leaf index {index} is outside a tree of size {n}")
    siblings: list[tuple[int, int]] = []  # collected root-first, returned leaf-first
    lo, hi, m = 0, n, index
    while hi - lo > 1:
        k = _largest_power_of_two_below(hi - lo)
        if m < k:
            siblings.append((lo + k, hi))
            hi = lo + k
        else:
            siblings.append((lo, lo + k))
            lo += k
            m -= k
    return [_range_root(hashes, a, b) for a, b in reversed(siblings)]


def consistency_proof(hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(old_size, D[n]) of RFC 9162 §2.1.4.1: the tree of size ``old_size`` is a prefix.

    Empty when ``old_size`` is 0 or equals ``len(hashes)`` (nothing to prove).
    """
    n = len(hashes)
    if not 0 <= old_size <= n:
        raise MerkleError(f"old size {old_size} is outside 0..{n}")
    if old_size in (0, n):
        return []
    nodes: list[tuple[int, int]] = []  # collected root-first, returned deepest-first
    lo, hi, m, complete = 0, n, old_size, True
    while True:
        size = hi - lo
        if m == size:  # SUBPROOF(m, D[m], b): the old tree's own root unless it is implied
            if not complete:
                nodes.append((lo, hi))
            break
        k = _largest_power_of_two_below(size)
        if m <= k:
            nodes.append((lo + k, hi))
            hi = lo + k
        else:
            nodes.append((lo, lo + k))
            lo += k
            m -= k
            complete = False
    return [_range_root(hashes, a, b) for a, b in reversed(nodes)]


def _check_hashes(proof: Sequence[bytes]) -> None:
    for i, p in enumerate(proof):
        if len(p) != HASH_SIZE:
            raise ProofError(f"proof element {i} is {len(p)} bytes, expected {HASH_SIZE}")


def _check_size(name: str, value: int) -> None:
    if not 0 <= value <= _MAX_SIZE:
        raise ProofError(f"{name} {value} is not a tree size (0..2^64-1)")


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves with ``root``.

    RFC 9162 §2.1.3.2, step for step. Returns nothing; raises :class:`ProofError` on failure.
    """
    _check_size("tree size", size)
    _check_size("leaf index", index)
    # 1. If leaf_index is greater than or equal to tree_size, then fail.
    if index >= size:
        raise ProofError(f"leaf index {index} is not below tree size {size}")
    if len(leaf_hash) != HASH_SIZE:
        raise ProofError(f"leaf hash is {len(leaf_hash)} bytes, expected {HASH_SIZE}")
    if len(root) != HASH_SIZE:
        raise ProofError(f"root is {len(root)} bytes, expected {HASH_SIZE}")
    _check_hashes(proof)
    # 2. Set fn to leaf_index and sn to tree_size - 1.
    fn, sn = index, size - 1
    # 3. Set r to hash.
    r = leaf_hash
    # 4. For each value p in the inclusion_path array:
    for p in proof:
        # a. If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0:
            raise ProofError("proof is longer than the path from the leaf to the root")
        # b. If LSB(fn) is set, or if fn is equal to sn, then:
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # If LSB(fn) is not set, right-shift fn and sn until LSB(fn) is set or fn is 0.
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        # c. Finally, right-shift both fn and sn one time.
        fn >>= 1
        sn >>= 1
    # 5. Compare sn to 0. Compare r against the root_hash.
    if sn != 0:
        raise ProofError("proof is shorter than the path from the leaf to the root")
    if not hmac.compare_digest(r, root):
        raise ProofError("computed root does not match the expected root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree (``old_size``, ``old_root``) is a prefix of (``new_size``, ``new_root``).

    For 0 < old_size < new_size this is RFC 9162 §2.1.4.2 step for step. Equal sizes need an
    empty proof and equal roots (and, for size 0, the roots must be :data:`EMPTY_ROOT`). A proof
    from the empty tree to a larger one is meaningless and is rejected, as the Go reference
    (transparency-dev/merkle) does: a caller whose old tree is empty has nothing to check.
    Raises :class:`ProofError` on failure.
    """
    _check_size("old size", old_size)
    _check_size("new size", new_size)
    if new_size < old_size:
        raise ProofError(f"new size {new_size} is smaller than old size {old_size}")
    if old_size == new_size:
        if proof:
            raise ProofError("sizes are equal but the proof is not empty")
        if not hmac.compare_digest(old_root, new_root):
            raise ProofError("sizes are equal but the roots differ")
        if old_size == 0 and not hmac.compare_digest(old_root, EMPTY_ROOT):
            raise ProofError("the empty tree's root must be SHA-256 of the empty string")
        return
    if old_size == 0:
        raise ProofError("a consistency proof from the empty tree is meaningless")
    # 1. If consistency_path is an empty array, stop and fail the proof verification.
    if not proof:
        raise ProofError("proof is empty")
    _check_hashes(proof)
    if len(old_root) != HASH_SIZE or len(new_root) != HASH_SIZE:
        raise ProofError(f"roots must be {HASH_SIZE} bytes")
    path = list(proof)
    # 2. If first is an exact power of 2, then prepend first_hash to the consistency_path array.
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    # 3. Set fn to first - 1 and sn to second - 1.
    fn, sn = old_size - 1, new_size - 1
    # 4. If LSB(fn) is set, then right-shift both fn and sn equally until LSB(fn) is not set.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5. Set both fr and sr to the first value in the consistency_path array.
    fr = sr = path[0]
    # 6. For each subsequent value c in the consistency_path array:
    for c in path[1:]:
        # a. If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0:
            raise ProofError("proof is longer than needed for these sizes")
        # b. If LSB(fn) is set, or if fn is equal to sn, then:
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            # If LSB(fn) is not set, right-shift fn and sn until LSB(fn) is set or fn is 0.
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        # c. Finally, right-shift both fn and sn one time.
        fn >>= 1
        sn >>= 1
    # 7. Verify fr == first_hash, sr == second_hash and sn == 0.
    if sn != 0:
        raise ProofError("proof is shorter than needed for these sizes")
    if not hmac.compare_digest(fr, old_root):
        raise ProofError("proof does not reproduce the old root")
    if not hmac.compare_digest(sr, new_root):
        raise ProofError("proof does not reproduce the new root")
