"""C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys, and tlog checkpoints.

A signed note is UTF-8 text ending in a newline, a blank line, then one or more signature
lines ``— <key name> base64(key ID (4 bytes, big-endian) || signature)``. Keys use the Go
``golang.org/x/mod/sumdb/note`` encodings, so notes and keys interoperate with the Go tooling:

* signer key:   ``PRIVATE+KEY+<name>+<key ID hex>+base64(0x01 || 32-byte seed)``
* verifier key: ``<name>+<key ID hex>+base64(0x01 || 32-byte public key)``
* key ID:       ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``

A checkpoint (c2sp.org/tlog-checkpoint) is a note whose text is ``origin``, the tree size in
decimal and the base64 root hash, one per line, optionally followed by extension lines. The
parser here keeps extension lines (they are part of the signed text, and a witness's
cosignature covers them) but the audit log never writes any.

Stricter than Go in one respect: base64 must be canonical (re-encoding gives the same text), so
a signature line has exactly one spelling and bit flips in it cannot go unnoticed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from leds.errors import LedsError

__all__ = [
    "ALG_ED25519",
    "Checkpoint",
    "NoteError",
    "NoteSigner",
    "NoteVerifier",
    "OpenedNote",
    "VerifiedSignature",
    "Verifier",
    "decode_base64",
    "key_id",
    "open_checkpoint",
    "open_note",
    "parse_checkpoint",
    "sign_note",
    "signature_line",
    "valid_key_name",
]

ALG_ED25519: Final = 0x01
MAX_SIGNATURES: Final = 100  # the spec asks verifiers to accept at least 16; Go allows 100
SIGNATURE_PREFIX: Final = "\u2014 "  # em dash, space
_PRIVATE_PREFIX: Final = "PRIVATE+KEY+"
_SIZE_RE: Final = re.compile(r"0|[1-9][0-9]{0,19}")
_HEX8_RE: Final = re.compile(r"[0-9a-f]{8}")


class NoteError(LedsError):
    """A note, key or checkpoint is malformed, or a signature on it did not verify."""


def valid_key_name(name: str) -> bool:
    """True if ``name`` is a legal key name: non-empty, no Unicode spaces, no ``+``."""
    return (
        bool(name)
        and "+" not in name
        and not any(c.isspace() or ord(c) < 0x20 for c in name)
        and _is_utf8(name)
    )


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True


def key_id(name: str, alg: int, public_key: bytes) -> bytes:
    """The 4-byte key ID: SHA-256(name || 0x0A || alg || public key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([alg]) + public_key).digest()[:4]


def decode_base64(text: str, what: str) -> bytes:
    """Strict standard base64 (RFC 4648 §4, padded, canonical); :class:`NoteError` otherwise."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise NoteError(f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise NoteError(f"{what} is not canonical base64")
    return raw


def _public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


class Verifier(Protocol):
    """Anything that checks one kind of note signature for one (name, key ID)."""

    @property
    def name(self) -> str:
        """The key name as it appears in signature lines."""
        ...

    @property
    def key_id(self) -> bytes:
        """The 4-byte key ID that prefixes this key's signatures."""
        ...

    def verify(self, text: bytes, signature: bytes) -> bool:
        """True if ``signature`` (without the key ID) is valid over the note ``text``."""
        ...


@dataclass(frozen=True, slots=True)
class NoteVerifier:
    """An Ed25519 note verifier (signature type 0x01)."""

    name: str
    public_key: bytes
    key_id: bytes = field(init=False)

    def __post_init__(self) -> None:
        if not valid_key_name(self.name):
            raise NoteError(f"invalid key name {self.name!r}")
        if len(self.public_key) != 32:
            raise NoteError("an Ed25519 public key is 32 bytes")
        object.__setattr__(self, "key_id", key_id(self.name, ALG_ED25519, self.public_key))

    @classmethod
    def from_string(cls, vkey: str) -> NoteVerifier:
        """Parse ``<name>+<key ID hex>+base64(0x01 || public key)``, checking the key ID."""
        name, expected_id, key = _split_key(vkey, "verifier key")
        if len(key) != 33 or key[0] != ALG_ED25519:
            raise NoteError("verifier key is not an Ed25519 (0x01) key of 32 bytes")
        verifier = cls(name, key[1:])
        if verifier.key_id != expected_id:
            raise NoteError("verifier key ID does not match its name and public key")
        return verifier

    def to_string(self) -> str:
        """The verifier key string (the form :meth:`from_string` reads)."""
        blob = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{blob}"

    def verify(self, text: bytes, signature: bytes) -> bool:
        """True if ``signature`` is this key's Ed25519 signature over ``text``."""
        if len(signature) != 64:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, text)
        except (InvalidSignature, ValueError):
            return False
        return True


def _split_key(encoded: str, what: str) -> tuple[str, bytes, bytes]:
    """Split ``name+hex8+base64`` into (name, key ID, decoded key material)."""
    parts = encoded.split("+", 2)  # base64 may itself contain "+"
    if len(parts) != 3:
        raise NoteError(f"malformed {what}: expected name+keyid+key")
    name, hex_id, blob = parts
    if not valid_key_name(name):
        raise NoteError(f"malformed {what}: invalid key name")
    if not _HEX8_RE.fullmatch(hex_id):
        raise NoteError(f"malformed {what}: key ID must be 8 lowercase hex digits")
    return name, bytes.fromhex(hex_id), decode_base64(blob, what)


class NoteSigner:
    """An Ed25519 note signer (signature type 0x01) with a key name.

    The private key never appears in ``repr``; persist it with :meth:`private_key_string`.
    """

    __slots__ = ("_key", "key_id", "name", "public_key")

    def __init__(self, name: str, seed: bytes) -> None:
        if not valid_key_name(name):
            raise NoteError(f"invalid key name {name!r}: non-empty, no spaces, no '+'")
        if len(seed) != 32:
            raise NoteError("an Ed25519 seed is 32 bytes")
        self.name = name
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_key = _public_bytes(self._key.public_key())
        self.key_id = key_id(name, ALG_ED25519, self.public_key)

    @classmethod
    def generate(cls, name: str) -> NoteSigner:
        """A new random key for ``name``."""
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        return cls(name, seed)

    @classmethod
    def from_private_key_string(cls, skey: str) -> NoteSigner:
        """Parse ``PRIVATE+KEY+<name>+<key ID hex>+base64(0x01 || seed)``, checking the ID."""
        if not skey.startswith(_PRIVATE_PREFIX):
            raise NoteError("malformed signer key: expected the PRIVATE+KEY+ prefix")
        name, expected_id, key = _split_key(skey[len(_PRIVATE_PREFIX) :], "signer key")
        if len(key) != 33 or key[0] != ALG_ED25519:
            raise NoteError("signer key is not an Ed25519 (0x01) seed of 32 bytes")
        signer = cls(name, key[1:])
        if signer.key_id != expected_id:
            raise NoteError("signer key ID does not match its name and key")
        return signer

    def private_key_string(self) -> str:
        """The secret signer key string. Keep it secret."""
        seed = self._key.private_bytes_raw()
        blob = base64.b64encode(bytes([ALG_ED25519]) + seed).decode("ascii")
        return f"{_PRIVATE_PREFIX}{self.name}+{self.key_id.hex()}+{blob}"

    def verifier(self) -> NoteVerifier:
        """The matching verifier."""
        return NoteVerifier(self.name, self.public_key)

    def verifier_key_string(self) -> str:
        """The public verifier key string to give to whoever checks this key's notes."""
        return self.verifier().to_string()

    def sign(self, message: bytes) -> bytes:
        """The raw 64-byte Ed25519 signature over ``message``."""
        return self._key.sign(message)

    def __repr__(self) -> str:
        return f"NoteSigner(name={self.name!r}, key_id={self.key_id.hex()})"


def _check_text(text: str, what: str) -> bytes:
    """UTF-8 bytes of ``text`` if it has no control characters other than newline."""
    if not _is_utf8(text):
        raise NoteError(f"{what} is not valid UTF-8")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError(f"{what} contains control characters")
    return text.encode("utf-8")


def signature_line(name: str, key_id: bytes, signature: bytes) -> str:
    """One note signature line, newline included."""
    return f"{SIGNATURE_PREFIX}{name} {base64.b64encode(key_id + signature).decode('ascii')}\n"


def sign_note(text: str, signers: Sequence[NoteSigner]) -> str:
    """The signed note: ``text`` (which must end in a newline), a blank line, one line per signer.

    More signature lines (a witness's cosignature, say) can be appended to the result as is.
    """
    raw = _check_text(text, "note text")
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    if not signers:
        raise NoteError("a note needs at least one signer")
    lines = "".join(signature_line(s.name, s.key_id, s.sign(raw)) for s in signers)
    return f"{text}\n{lines}"


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    """A signature on a note that a known key verified."""

    name: str
    key_id: bytes
    signature: bytes  # without the key ID


@dataclass(frozen=True, slots=True)
class OpenedNote:
    """A note whose signatures were checked: its text and the signatures known keys verified."""

    text: str
    signatures: tuple[VerifiedSignature, ...]

    @property
    def signers(self) -> tuple[str, ...]:
        """Names of the keys whose signatures verified, in note order."""
        return tuple(s.name for s in self.signatures)


def open_note(note: str, verifiers: Sequence[Verifier]) -> OpenedNote:
    """Split and verify a signed note.

    Signatures from keys not in ``verifiers`` (matched on name *and* key ID) are ignored; a
    signature from a known key that fails to verify rejects the whole note, as does a note with
    no verified signature or any malformation. Raises :class:`NoteError`.
    """
    _check_text(note, "note")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("malformed note: no blank line before the signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise NoteError("malformed note: the signature block must end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has more than {MAX_SIGNATURES} signatures")
    known = {(v.name, v.key_id): v for v in verifiers}
    raw_text = text.encode("utf-8")
    verified: list[VerifiedSignature] = []
    seen: set[tuple[str, bytes]] = set()
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("malformed note: signature lines start with an em dash and a space")
        name, sep, blob = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if not sep or not valid_key_name(name):
            raise NoteError("malformed note: bad key name in a signature line")
        sig = decode_base64(blob, "note signature")
        if len(sig) < 5:
            raise NoteError("malformed note: signature too short")
        ident = (name, sig[:4])
        verifier = known.get(ident)
        if verifier is None:
            continue
        if not verifier.verify(raw_text, sig[4:]):
            raise NoteError(f"invalid signature by {name} ({sig[:4].hex()})")
        if ident not in seen:
            seen.add(ident)
            verified.append(VerifiedSignature(name, sig[:4], sig[4:]))
    if not verified:
        raise NoteError("note has no signature from a known key")
    return OpenedNote(text, tuple(verified))


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tlog checkpoint: the log's origin, tree size and root hash (plus extension lines)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise NoteError("checkpoint origin must be one non-empty line")
        _check_text(self.origin, "checkpoint origin")
        if not 0 <= self.size < 1 << 64:
            raise NoteError(f"checkpoint size {self.size} is outside 0..2^64-1")
        if len(self.root) != 32:
            raise NoteError(f"checkpoint root is {len(self.root)} bytes, expected 32")
        for ext in self.extensions:
            if not ext or "\n" in ext:
                raise NoteError("checkpoint extension lines must be non-empty single lines")
            _check_text(ext, "checkpoint extension line")

    def body(self) -> str:
        """The note text: ``origin\\nsize\\nbase64(root)\\n`` then any extension lines."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode("ascii")]
        return "\n".join([*lines, *self.extensions]) + "\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse checkpoint note text strictly; raises :class:`NoteError`.

    The size must be decimal ASCII without leading zeros, the root canonical base64 of 32
    bytes, the origin non-empty; extension lines are kept (each must be non-empty).
    """
    _check_text(text, "checkpoint")
    if not text.endswith("\n"):
        raise NoteError("checkpoint must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("checkpoint needs origin, size and root lines")
    origin, size_text, root_text, *extensions = lines
    if not _SIZE_RE.fullmatch(size_text):
        raise NoteError("checkpoint size must be decimal digits without leading zeros")
    root = decode_base64(root_text, "checkpoint root")
    return Checkpoint(origin, int(size_text), root, tuple(extensions))


def open_checkpoint(note: str, verifiers: Sequence[Verifier]) -> tuple[Checkpoint, OpenedNote]:
    """Verify a signed checkpoint note (see :func:`open_note`) and parse its text."""
    opened = open_note(note, verifiers)
    return parse_checkpoint(opened.text), opened
