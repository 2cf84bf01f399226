"""The witness: cosigns only consistent growth, persists its state, cosignatures verify."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from leds.errors import LedsError
from leds.governance.audit.merkle import consistency_proof, leaf_hash, root_from_leaf_hashes
from leds.governance.audit.notes import (
    Checkpoint,
    NoteError,
    NoteSigner,
    open_note,
    parse_checkpoint,
    sign_note,
)
from leds.governance.audit.witness import (
    CosignatureVerifier,
    Witness,
    WitnessError,
    WitnessRefusal,
    verify_cosignature,
)

ORIGIN = "leds.example/audit"
LEAVES = [leaf_hash(f"salted record {i}".encode()) for i in range(64)]
FORKED = [*LEAVES[:5], leaf_hash(b"edited record"), *LEAVES[6:]]


class Clock:
    def __init__(self, now: int = 1_700_000_000) -> None:
        self.now = now

    def __call__(self) -> float:
        self.now += 1
        return float(self.now)


@pytest.fixture(scope="module")
def log_key() -> NoteSigner:
    return NoteSigner(ORIGIN, hashlib.sha256(b"log key").digest())


@pytest.fixture(scope="module")
def witness_key() -> NoteSigner:
    return NoteSigner("oversight.example/w1", hashlib.sha256(b"witness key").digest())


@pytest.fixture
def witness(tmp_path: Path, witness_key: NoteSigner, log_key: NoteSigner) -> Witness:
    return Witness(tmp_path / "witness.json", witness_key, log_key.verifier(), clock=Clock())


def checkpoint(log_key: NoteSigner, size: int, leaves: list[bytes] = LEAVES) -> str:
    return sign_note(
        Checkpoint(ORIGIN, size, root_from_leaf_hashes(leaves[:size])).body(), [log_key]
    )


def test_happy_path_across_three_growing_checkpoints(
    witness: Witness, log_key: NoteSigner, witness_key: NoteSigner
) -> None:
    vkey = witness.verifier_key_string()
    previous = 0
    for size in (3, 7, 20):
        note = checkpoint(log_key, size)
        proof = consistency_proof(LEAVES[:size], previous) if previous else []
        line = witness.cosign(note, proof)
        assert line.startswith(f"\u2014 {witness_key.name} ")
        assert line.endswith("\n")
        cosigned = note + line
        got = verify_cosignature(cosigned, vkey, log_verifier=log_key.verifier())
        assert (got.checkpoint.size, got.witness) == (size, witness_key.name)
        # Clients that only know the log key still open the note (unknown signers ignored).
        assert open_note(cosigned, [log_key.verifier()]).signers == (ORIGIN,)
        state = witness.state()
        assert state is not None
        assert (state.size, state.note) == (size, note)
        previous = size


def test_cosignature_bytes_follow_tlog_cosignature_v1(
    witness: Witness, log_key: NoteSigner, witness_key: NoteSigner
) -> None:
    note = checkpoint(log_key, 4)
    line = witness.cosign(note, [])
    name, blob = line.removeprefix("\u2014 ").rstrip("\n").split(" ")
    raw = base64.b64decode(blob)
    assert name == witness_key.name
    assert len(raw) == 4 + 8 + 64
    pub = witness_key.public_key
    assert raw[:4] == hashlib.sha256(name.encode() + b"\n\x04" + pub).digest()[:4]
    timestamp = int.from_bytes(raw[4:12], "big")
    body = parse_checkpoint(open_note(note, [log_key.verifier()]).text).body()
    message = f"cosignature/v1\ntime {timestamp}\n{body}".encode()
    Ed25519PublicKey.from_public_bytes(pub).verify(raw[12:], message)  # raises if wrong
    vkey = witness.verifier_key_string()
    assert vkey.startswith(f"{name}+{raw[:4].hex()}+")
    assert base64.b64decode(vkey.split("+", 2)[2]) == b"\x04" + pub
    assert verify_cosignature(note + line, vkey).timestamp == timestamp


def test_same_checkpoint_again_is_cosigned_with_a_later_time(
    witness: Witness, log_key: NoteSigner
) -> None:
    note = checkpoint(log_key, 9)
    vkey = witness.verifier_key_string()
    first = verify_cosignature(note + witness.cosign(note, []), vkey).timestamp
    second = verify_cosignature(note + witness.cosign(note, []), vkey).timestamp
    assert second > first


def refusal(witness: Witness, note: str, proof: list[bytes], reason: str) -> None:
    before = witness.state_file.read_bytes() if witness.state_file.exists() else None
    with pytest.raises(WitnessRefusal, match=reason):
        witness.cosign(note, proof)
    after = witness.state_file.read_bytes() if witness.state_file.exists() else None
    assert after == before  # a refusal changes nothing


def test_refusals(witness: Witness, log_key: NoteSigner) -> None:
    refusal(witness, checkpoint(log_key, 8), [LEAVES[0]], "first checkpoint")
    witness.cosign(checkpoint(log_key, 8), [])
    refusal(witness, checkpoint(log_key, 5), [], "smaller")
    refusal(witness, checkpoint(log_key, 8, FORKED), [], "fork")
    # A larger tree that rewrote entry 5: its own honest proof cannot link to what we cosigned.
    refusal(
        witness, checkpoint(log_key, 12, FORKED), consistency_proof(FORKED[:12], 8), "consistent"
    )
    proof = consistency_proof(LEAVES[:12], 8)
    bad = [proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:]]
    refusal(witness, checkpoint(log_key, 12), bad, "consistent")
    refusal(witness, checkpoint(log_key, 12), [], "consistent")
    refusal(witness, checkpoint(log_key, 12), [*proof, proof[0]], "consistent")
    unsigned = Checkpoint(ORIGIN, 12, root_from_leaf_hashes(LEAVES[:12])).body()
    refusal(witness, unsigned, proof, "signed by the log")
    impostor = NoteSigner.generate(ORIGIN)
    refusal(witness, checkpoint(impostor, 12), proof, "signed by the log")
    other_origin = sign_note(Checkpoint("elsewhere", 12, LEAVES[0]).body(), [log_key])
    refusal(witness, other_origin, proof, "origin")
    tampered = checkpoint(log_key, 12).replace("\n12\n", "\n13\n")
    refusal(witness, tampered, proof, "signed by the log")
    witness.cosign(checkpoint(log_key, 12), proof)  # the honest proof still works
    assert issubclass(WitnessRefusal, LedsError)


def test_state_survives_a_new_witness_instance(
    tmp_path: Path, witness: Witness, log_key: NoteSigner, witness_key: NoteSigner
) -> None:
    witness.cosign(checkpoint(log_key, 10), [])
    data = json.loads(witness.state_file.read_text())
    assert data["origin"] == ORIGIN
    assert data["size"] == 10
    assert bytes.fromhex(data["root"]) == root_from_leaf_hashes(LEAVES[:10])
    assert data["note"] == checkpoint(log_key, 10)
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []

    again = Witness(witness.state_file, witness_key, log_key.verifier(), clock=Clock(2_000_000_000))
    with pytest.raises(WitnessRefusal, match="smaller"):
        again.cosign(checkpoint(log_key, 9), [])
    with pytest.raises(WitnessRefusal, match="fork"):
        again.cosign(checkpoint(log_key, 10, FORKED), [])
    again.cosign(checkpoint(log_key, 30), consistency_proof(LEAVES[:30], 10))
    state = again.state()
    assert state is not None
    assert state.size == 30


def test_growing_from_an_empty_tree(witness: Witness, log_key: NoteSigner) -> None:
    witness.cosign(checkpoint(log_key, 0), [])
    refusal(witness, checkpoint(log_key, 3), [LEAVES[0]], "empty tree")
    witness.cosign(checkpoint(log_key, 3), [])


def test_corrupt_or_foreign_state_fails_closed(witness: Witness, log_key: NoteSigner) -> None:
    witness.cosign(checkpoint(log_key, 4), [])
    good = witness.state_file.read_text()
    for corrupt in ("", "{", "[]", good.replace('"size": 4', '"size": "4"'), '{"version": 1}'):
        witness.state_file.write_text(corrupt)
        with pytest.raises(WitnessError, match="corrupt"):
            witness.cosign(checkpoint(log_key, 5), consistency_proof(LEAVES[:5], 4))
    witness.state_file.write_text(good.replace(ORIGIN, "other.example/log"))
    with pytest.raises(WitnessError, match=r"other\.example/log"):
        witness.state()


def test_verify_cosignature_rejects_forgeries(
    witness: Witness, log_key: NoteSigner, witness_key: NoteSigner
) -> None:
    note = checkpoint(log_key, 6)
    cosigned = note + witness.cosign(note, [])
    vkey = witness.verifier_key_string()
    with pytest.raises(NoteError):  # checkpoint changed after cosigning
        verify_cosignature(cosigned.replace("\n6\n", "\n7\n"), vkey)
    with pytest.raises(NoteError):  # no cosignature at all
        verify_cosignature(note, vkey)
    other = CosignatureVerifier.for_signer(NoteSigner.generate(witness_key.name)).to_string()
    with pytest.raises(NoteError):  # another witness's key
        verify_cosignature(cosigned, other)
    with pytest.raises(NoteError, match="0x04"):  # a plain 0x01 key is not a cosigner key
        verify_cosignature(cosigned, witness_key.verifier_key_string())
    only_cosig = note.split("\n\n")[0] + "\n\n" + cosigned.splitlines()[-1] + "\n"
    assert verify_cosignature(only_cosig, vkey).checkpoint.size == 6
    with pytest.raises(NoteError):  # the log's signature was asked for and is absent
        verify_cosignature(only_cosig, vkey, log_verifier=log_key.verifier())
    assert CosignatureVerifier.from_string(vkey).to_string() == vkey
