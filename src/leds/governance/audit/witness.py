"""The oversight body's witness: cosigns a log checkpoint only if it extends the last one.

A witness keeps, per log, the last checkpoint it cosigned. Given a new checkpoint note and a
consistency proof from that checkpoint, it checks the log's signature, refuses a smaller tree,
a different root at the same size (a fork) or a proof that does not verify, persists the new
checkpoint (atomically, before answering) and returns a C2SP ``cosignature/v1`` line
(c2sp.org/tlog-cosignature, Ed25519):

* key ID ``SHA-256(name || 0x0A || 0x04 || public key)[:4]`` (signature type 0x04);
* signature ``key ID || timestamp (u64, big-endian) || Ed25519(message)``;
* message ``cosignature/v1\\ntime <timestamp>\\n`` followed by the checkpoint note text.

The witness key is an ordinary :class:`~leds.governance.audit.notes.NoteSigner` seed; use it
for cosigning only (the cosignature message is domain-separated, plain note signatures are
not). Its public key is published as a 0x04 verifier key, :meth:`Witness.verifier_key_string`.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from leds.errors import LedsError
from leds.governance.audit.merkle import HASH_SIZE, ProofError, verify_consistency
from leds.governance.audit.notes import (
    Checkpoint,
    NoteError,
    NoteSigner,
    NoteVerifier,
    decode_base64,
    open_checkpoint,
    signature_line,
    valid_key_name,
)
from leds.governance.audit.notes import key_id as note_key_id

__all__ = [
    "ALG_COSIGNATURE_V1",
    "CosignatureVerifier",
    "CosignedCheckpoint",
    "Witness",
    "WitnessError",
    "WitnessRefusal",
    "WitnessState",
    "cosignature_message",
    "verify_cosignature",
]

ALG_COSIGNATURE_V1: Final = 0x04
_MAX_TIMESTAMP: Final = (1 << 63) - 1
_STATE_VERSION: Final = 1


class WitnessError(LedsError):
    """The witness cannot work (unreadable state, bad key); nothing was cosigned."""


class WitnessRefusal(WitnessError):
    """The witness refused to cosign a checkpoint; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"witness refused to cosign: {reason}")
        self.reason = reason


def cosignature_message(note_text: str, timestamp: int) -> bytes:
    """The bytes a cosignature/v1 signs: header, time line, then the checkpoint note text."""
    return f"cosignature/v1\ntime {timestamp}\n".encode() + note_text.encode("utf-8")


@dataclass(frozen=True, slots=True)
class CosignatureVerifier:
    """Verifies cosignature/v1 signatures (type 0x04) by one witness key."""

    name: str
    public_key: bytes
    key_id: bytes = field(init=False)

    def __post_init__(self) -> None:
        if not valid_key_name(self.name):
            raise NoteError(f"invalid witness key name {self.name!r}")
        if len(self.public_key) != 32:
            raise NoteError("an Ed25519 public key is 32 bytes")
        key_id = note_key_id(self.name, ALG_COSIGNATURE_V1, self.public_key)
        object.__setattr__(self, "key_id", key_id)

    @classmethod
    def from_string(cls, vkey: str) -> CosignatureVerifier:
        """Parse ``<name>+<key ID hex>+base64(0x04 || public key)``, checking the key ID."""
        parts = vkey.split("+", 2)
        if len(parts) != 3 or len(parts[1]) != 8:
            raise NoteError("malformed witness verifier key: expected name+keyid+key")
        name, hex_id, blob = parts
        key = decode_base64(blob, "witness verifier key")
        if len(key) != 33 or key[0] != ALG_COSIGNATURE_V1:
            raise NoteError(
                "witness verifier key is not a cosignature/v1 (0x04) Ed25519 key",
                hint="use the key printed by Witness.verifier_key_string()",
            )
        verifier = cls(name, key[1:])
        if verifier.key_id.hex() != hex_id:
            raise NoteError("witness verifier key ID does not match its name and public key")
        return verifier

    @classmethod
    def for_signer(cls, signer: NoteSigner) -> CosignatureVerifier:
        """The cosignature verifier for a witness's signing key."""
        return cls(signer.name, signer.public_key)

    def to_string(self) -> str:
        """The 0x04 verifier key string."""
        blob = base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{blob}"

    def verify(self, text: bytes, signature: bytes) -> bool:
        """True if ``signature`` is timestamp (8 bytes) || Ed25519 over the cosigned message."""
        if len(signature) != 8 + 64:
            return False
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp > _MAX_TIMESTAMP:
            return False
        message = f"cosignature/v1\ntime {timestamp}\n".encode() + text
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature[8:], message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True, slots=True)
class CosignedCheckpoint:
    """A checkpoint a witness cosigned, and when (POSIX seconds) it says it did."""

    checkpoint: Checkpoint
    witness: str
    timestamp: int


def verify_cosignature(
    note_with_cosig: str, witness_vkey: str, *, log_verifier: NoteVerifier | None = None
) -> CosignedCheckpoint:
    """Check a witness's cosignature on a checkpoint note (and, if given, the log's signature).

    ``witness_vkey`` is the witness's 0x04 verifier key. Raises :class:`NoteError` when the
    cosignature is missing or invalid or the checkpoint is malformed.
    """
    witness = CosignatureVerifier.from_string(witness_vkey)
    checkpoint, opened = open_checkpoint(note_with_cosig, [witness])
    if log_verifier is not None:
        open_checkpoint(note_with_cosig, [log_verifier])
    timestamp = int.from_bytes(opened.signatures[0].signature[:8], "big")
    return CosignedCheckpoint(checkpoint, witness.name, timestamp)


@dataclass(frozen=True, slots=True)
class WitnessState:
    """The last checkpoint a witness cosigned for its log."""

    origin: str
    size: int
    root: bytes
    note: str
    timestamp: int

    def to_json(self) -> str:
        """The state file's JSON text."""
        data = {
            "version": _STATE_VERSION,
            "origin": self.origin,
            "size": self.size,
            "root": self.root.hex(),
            "note": self.note,
            "timestamp": self.timestamp,
        }
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> WitnessState:
        """Parse a state file, strictly; :class:`WitnessError` if it is not one."""
        try:
            data: Any = json.loads(text)
            fields = (data["origin"], data["size"], data["root"], data["note"], data["timestamp"])
            origin, size, root_hex, note, timestamp = fields
            ok = (
                data["version"] == _STATE_VERSION
                and isinstance(origin, str)
                and type(size) is int
                and size >= 0
                and isinstance(root_hex, str)
                and isinstance(note, str)
                and type(timestamp) is int
            )
            root = bytes.fromhex(root_hex) if ok else b""
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok or len(root) != HASH_SIZE:
            raise WitnessError(
                "witness state file is corrupt",
                hint="restore it from a backup; never reset a witness to accept a new tree",
            )
        return cls(origin, size, root, note, timestamp)


class Witness:
    """Cosigns checkpoints of one log, each only after checking it extends the previous one.

    ``state_file`` holds the last cosigned checkpoint (JSON: origin, size, root hex, the note);
    it is replaced atomically (temporary file, fsync, rename, fsync of the folder) before a
    cosignature is returned, and an exclusive lock on ``<state_file>.lock`` serialises
    witnesses sharing the file. ``origin`` defaults to the log key's name.
    """

    def __init__(
        self,
        state_file: Path,
        signer: NoteSigner,
        log_verifier: NoteVerifier,
        *,
        origin: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.state_file = Path(state_file)
        self.signer = signer
        self.log_verifier = log_verifier
        self.origin = log_verifier.name if origin is None else origin
        self._clock = clock
        self._cosigner = CosignatureVerifier.for_signer(signer)
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """The witness's key name (the name on its cosignature lines)."""
        return self.signer.name

    def verifier_key_string(self) -> str:
        """The 0x04 verifier key clients pass to :func:`verify_cosignature`."""
        return self._cosigner.to_string()

    def state(self) -> WitnessState | None:
        """The last checkpoint cosigned, or None before the first."""
        try:
            text = self.state_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise WitnessError(f"cannot read witness state {self.state_file.name}: {exc}") from exc
        state = WitnessState.from_json(text)
        if state.origin != self.origin:
            raise WitnessError(
                f"witness state is for log {state.origin!r}, not {self.origin!r}",
                hint="give each log its own state file",
            )
        return state

    def cosign(self, checkpoint_note: str, proof: Sequence[bytes]) -> str:
        """Verify ``checkpoint_note`` extends the last cosigned checkpoint; cosign and record it.

        ``proof`` is the consistency proof from the last cosigned size (empty for the first
        checkpoint, and for the same size again). Returns the cosignature line (newline
        included), to append to the note. Raises :class:`WitnessRefusal` with the reason.
        """
        try:
            checkpoint, opened = open_checkpoint(checkpoint_note, [self.log_verifier])
        except NoteError as exc:
            raise WitnessRefusal(f"checkpoint not validly signed by the log: {exc}") from exc
        if checkpoint.origin != self.origin:
            raise WitnessRefusal(f"checkpoint is for origin {checkpoint.origin!r}, not ours")
        proof = list(proof)
        with self._lock, _FileLock(self._lock_path()):
            previous = self.state()
            self._check_extends(previous, checkpoint, proof)
            now = int(self._clock())
            timestamp = max(now, previous.timestamp) if previous else now
            if not 0 <= timestamp <= _MAX_TIMESTAMP:
                raise WitnessError(f"clock gives an impossible time {timestamp}")
            signature = self.signer.sign(cosignature_message(opened.text, timestamp))
            line = signature_line(
                self.name, self._cosigner.key_id, timestamp.to_bytes(8, "big") + signature
            )
            state = WitnessState(
                self.origin, checkpoint.size, checkpoint.root, checkpoint_note, timestamp
            )
            _write_atomically(self.state_file, state.to_json())
        return line

    def _check_extends(
        self, previous: WitnessState | None, new: Checkpoint, proof: list[bytes]
    ) -> None:
        if previous is None:
            if proof:
                raise WitnessRefusal("first checkpoint: the consistency proof must be empty")
            return
        if new.size < previous.size:
            raise WitnessRefusal(
                f"tree shrank: size {new.size} is smaller than the cosigned {previous.size}"
            )
        if new.size == previous.size and new.root != previous.root:
            raise WitnessRefusal(f"fork: a different root for the cosigned size {new.size}")
        if previous.size == 0 and new.size > 0:
            if proof:
                raise WitnessRefusal("growing from the empty tree: the proof must be empty")
            return
        try:
            verify_consistency(previous.size, new.size, previous.root, new.root, proof)
        except ProofError as exc:
            raise WitnessRefusal(
                f"not consistent with the cosigned size {previous.size}: {exc.reason}"
            ) from exc

    def _lock_path(self) -> Path:
        return self.state_file.with_name(self.state_file.name + ".lock")


class _FileLock:
    """An exclusive ``flock`` held for the duration of a ``with`` block."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = -1

    def __enter__(self) -> None:
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)


def _write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``: temp file in the same folder, fsync, rename, fsync dir."""
    folder = path.parent
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
