"""RFC 9162 Merkle tree: conformance vectors, the RFC's own recursion, and property tests.

The conformance vectors are the transparency-dev/merkle JSON files kept outside the repository
in ``../shared/testdata/merkle`` (or the folder named by ``LEDS_MERKLE_TESTDATA``); without
them those tests skip, saying where they looked.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leds.errors import LedsError
from leds.governance.audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    MerkleError,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(
    os.environ.get("LEDS_MERKLE_TESTDATA")
    or Path(__file__).resolve().parents[3] / ".." / "shared" / "testdata" / "merkle"
)
MISSING = (
    f"Merkle conformance vectors not found at {VECTORS} (expected the transparency-dev/merkle "
    "testdata beside the repository in ../shared/testdata/merkle, or set LEDS_MERKLE_TESTDATA)"
)


def _vector_files(kind: str) -> list[Any]:
    folder = VECTORS / kind
    files = sorted(folder.rglob("*.json")) if folder.is_dir() else []
    if not files:
        return [pytest.param(None, marks=pytest.mark.skip(reason=MISSING), id="missing")]
    return [pytest.param(f, id=f.relative_to(folder).as_posix()) for f in files]


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data["wantErr"], bool)
    return data


# --- conformance vectors --------------------------------------------------------------------


@pytest.mark.parametrize("path", _vector_files("inclusion"))
def test_inclusion_vector(path: Path) -> None:
    v = _load(path)
    proof = [_b64(p) for p in v["proof"] or []]
    args = (_b64(v["leafHash"]), v["leafIdx"], v["treeSize"], proof, _b64(v["root"]))
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", _vector_files("consistency"))
def test_consistency_vector(path: Path) -> None:
    v = _load(path)
    proof = [_b64(p) for p in v["proof"] or []]
    args = (v["size1"], v["size2"], _b64(v["root1"]), _b64(v["root2"]), proof)
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


# --- RFC 9162 §2.1.1, written literally -----------------------------------------------------


def _k(n: int) -> int:
    """The largest power of two smaller than n."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


@cache
def ref_mth(d: tuple[bytes, ...]) -> bytes:
    """MTH(D[n]) over the leaf *data* d (memoised so the exhaustive test stays fast)."""
    n = len(d)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = _k(n)
    return hashlib.sha256(b"\x01" + ref_mth(d[0:k]) + ref_mth(d[k:n])).digest()


def ref_path(m: int, d: tuple[bytes, ...]) -> list[bytes]:
    """PATH(m, D[n])."""
    n = len(d)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*ref_path(m, d[0:k]), ref_mth(d[k:n])]
    return [*ref_path(m - k, d[k:n]), ref_mth(d[0:k])]


def ref_subproof(m: int, d: tuple[bytes, ...], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b)."""
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, d[0:k], b), ref_mth(d[k:n])]
    return [*ref_subproof(m - k, d[k:n], False), ref_mth(d[0:k])]


def ref_proof(m: int, d: tuple[bytes, ...]) -> list[bytes]:
    """PROOF(m, D[n])."""
    return ref_subproof(m, d, True)


MAX_N = 256
DATA = tuple(f"audit entry {i}".encode() for i in range(2048))
LEAVES = [leaf_hash(x) for x in DATA]


def test_hashing_primitives() -> None:
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert root_from_leaf_hashes([]) == EMPTY_ROOT
    assert Frontier().root() == EMPTY_ROOT


@pytest.mark.parametrize("n", range(1, MAX_N + 1))
def test_matches_rfc_recursion_exhaustively(n: int) -> None:
    data, leaves = DATA[:n], LEAVES[:n]
    root = ref_mth(data)
    assert root_from_leaf_hashes(leaves) == root
    for m in range(1, n + 1):
        path = inclusion_proof(leaves, m - 1)
        assert path == ref_path(m - 1, data), (m, n)
        verify_inclusion(leaves[m - 1], m - 1, n, path, root)
        proof = consistency_proof(leaves, m)
        assert proof == (ref_proof(m, data) if m < n else []), (m, n)
        verify_consistency(m, n, ref_mth(data[:m]), root, proof)


def test_proof_generation_rejects_impossible_arguments() -> None:
    with pytest.raises(MerkleError):
        inclusion_proof(LEAVES[:4], 4)
    with pytest.raises(MerkleError):
        inclusion_proof([], 0)
    with pytest.raises(MerkleError):
        consistency_proof(LEAVES[:4], 5)
    with pytest.raises(MerkleError):
        root_from_leaf_hashes([b"short"])
    assert consistency_proof(LEAVES[:4], 0) == []
    assert consistency_proof(LEAVES[:4], 4) == []
    assert issubclass(ProofError, LedsError)


# --- properties -----------------------------------------------------------------------------

sizes = st.integers(min_value=0, max_value=len(LEAVES))


@given(sizes)
def test_frontier_root_equals_recursive_root(n: int) -> None:
    frontier = Frontier()
    frontier.extend(LEAVES[:n])
    assert frontier.size == n
    assert frontier.root() == ref_mth(DATA[:n]) == root_from_leaf_hashes(LEAVES[:n])


@given(sizes, st.integers(min_value=0, max_value=300))
def test_frontier_round_trips_and_resumes(n: int, more: int) -> None:
    frontier = Frontier()
    frontier.extend(LEAVES[:n])
    blob = frontier.to_bytes()
    assert len(blob) == 9 + 32 * n.bit_count()
    restored = Frontier.from_bytes(blob)
    assert restored.to_bytes() == blob
    assert (restored.size, restored.root()) == (frontier.size, frontier.root())
    extra = [leaf_hash(i.to_bytes(4, "big")) for i in range(more)]
    restored.extend(extra)
    assert restored.root() == root_from_leaf_hashes(LEAVES[:n] + extra)


@given(st.binary(max_size=200))
def test_frontier_from_bytes_rejects_garbage(blob: bytes) -> None:
    try:
        frontier = Frontier.from_bytes(blob)
    except MerkleError:
        return
    assert frontier.to_bytes() == blob


def _flips(value: bytes) -> list[bytes]:
    """Every single-bit flip of value."""
    out = []
    for i in range(len(value) * 8):
        b = bytearray(value)
        b[i // 8] ^= 1 << (i % 8)
        out.append(bytes(b))
    return out


@st.composite
def index_and_size(draw: st.DrawFn) -> tuple[int, int]:
    n = draw(st.integers(min_value=1, max_value=300))
    return draw(st.integers(min_value=0, max_value=n - 1)), n


@settings(max_examples=30, deadline=None)
@given(index_and_size())
def test_every_bit_flip_breaks_an_inclusion_proof(case: tuple[int, int]) -> None:
    index, n = case
    leaves = LEAVES[:n]
    root, proof = root_from_leaf_hashes(leaves), inclusion_proof(leaves, index)
    verify_inclusion(leaves[index], index, n, proof, root)
    for j, element in enumerate(proof):
        for flipped in _flips(element):
            bad = [*proof[:j], flipped, *proof[j + 1 :]]
            with pytest.raises(ProofError):
                verify_inclusion(leaves[index], index, n, bad, root)
    for flipped in _flips(root):
        with pytest.raises(ProofError):
            verify_inclusion(leaves[index], index, n, proof, flipped)
    for flipped in _flips(leaves[index]):
        with pytest.raises(ProofError):
            verify_inclusion(flipped, index, n, proof, root)
    if proof:
        with pytest.raises(ProofError):
            verify_inclusion(leaves[index], index, n, proof[:-1], root)
    with pytest.raises(ProofError):
        verify_inclusion(leaves[index], index, n, [*proof, root], root)


@st.composite
def two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    n = draw(st.integers(min_value=2, max_value=300))
    return draw(st.integers(min_value=1, max_value=n - 1)), n


@settings(max_examples=30, deadline=None)
@given(two_sizes())
def test_every_bit_flip_breaks_a_consistency_proof(case: tuple[int, int]) -> None:
    m, n = case
    old, new = root_from_leaf_hashes(LEAVES[:m]), root_from_leaf_hashes(LEAVES[:n])
    proof = consistency_proof(LEAVES[:n], m)
    verify_consistency(m, n, old, new, proof)
    for j, element in enumerate(proof):
        for flipped in _flips(element):
            bad = [*proof[:j], flipped, *proof[j + 1 :]]
            with pytest.raises(ProofError):
                verify_consistency(m, n, old, new, bad)
    for flipped in _flips(old):
        with pytest.raises(ProofError):
            verify_consistency(m, n, flipped, new, proof)
    for flipped in _flips(new):
        with pytest.raises(ProofError):
            verify_consistency(m, n, old, flipped, proof)
    with pytest.raises(ProofError):
        verify_consistency(m, n, old, new, proof[:-1])
    with pytest.raises(ProofError):
        verify_consistency(m, n, old, new, [*proof, new])
    with pytest.raises(ProofError):
        verify_consistency(n, m, new, old, proof)


def test_a_fork_is_not_consistent() -> None:
    leaves = LEAVES[:10]
    forked = [*LEAVES[:4], leaf_hash(b"rewritten"), *LEAVES[5:10]]
    proof = consistency_proof(forked, 6)
    with pytest.raises(ProofError):
        verify_consistency(
            6, 10, root_from_leaf_hashes(leaves[:6]), root_from_leaf_hashes(forked), proof
        )
