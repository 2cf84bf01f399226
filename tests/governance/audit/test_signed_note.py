"""C2SP signed notes and tlog checkpoints: known answers, round-trips, tampering, fuzzing."""

from __future__ import annotations

import base64
import contextlib
import hashlib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leds.errors import LedsError
from leds.governance.audit.notes import (
    Checkpoint,
    NoteError,
    NoteSigner,
    NoteVerifier,
    open_checkpoint,
    open_note,
    parse_checkpoint,
    sign_note,
)

# The example key, text and signature of Go's golang.org/x/mod/sumdb/note package (the reference
# implementation of the signed-note format). Ed25519 is deterministic, so signing must match.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIG = (
    "\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)

ROOT = hashlib.sha256(b"some root").digest()


@pytest.fixture(scope="module")
def log() -> NoteSigner:
    return NoteSigner.generate("leds.example/audit")


def test_go_reference_key_and_signature_known_answer() -> None:
    signer = NoteSigner.from_private_key_string(GO_SKEY)
    assert signer.private_key_string() == GO_SKEY
    assert signer.verifier_key_string() == GO_VKEY
    assert signer.key_id.hex() == "c74f20a3"
    assert sign_note(GO_TEXT, [signer]) == f"{GO_TEXT}\n{GO_SIG}"
    opened = open_note(f"{GO_TEXT}\n{GO_SIG}", [NoteVerifier.from_string(GO_VKEY)])
    assert (opened.text, opened.signers) == (GO_TEXT, ("PeterNeumann",))


def test_key_id_is_sha256_of_name_newline_type_and_key(log: NoteSigner) -> None:
    digest = hashlib.sha256(b"leds.example/audit\n\x01" + log.public_key).digest()
    assert log.key_id == digest[:4]
    name, hex_id, blob = log.verifier_key_string().split("+", 2)
    assert (name, hex_id, base64.b64decode(blob)) == (
        log.name,
        digest[:4].hex(),
        b"\x01" + log.public_key,
    )
    assert log.private_key_string().startswith(f"PRIVATE+KEY+{log.name}+{hex_id}+")
    assert "PRIVATE" not in repr(log)
    assert log.private_key_string()[-20:] not in repr(log)


def test_key_strings_round_trip(log: NoteSigner) -> None:
    again = NoteSigner.from_private_key_string(log.private_key_string())
    assert again.public_key == log.public_key
    assert again.key_id == log.key_id
    assert NoteVerifier.from_string(log.verifier_key_string()) == log.verifier()


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong key ID
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # upper-case ID
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # space in name
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",  # bad base64
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # unknown type
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",  # length
    ],
)
def test_bad_verifier_keys_are_rejected(bad: str) -> None:
    with pytest.raises(NoteError):
        NoteVerifier.from_string(bad)


def test_every_truncation_or_byte_change_of_a_key_string_is_rejected() -> None:
    for key, parse in (
        (GO_VKEY, NoteVerifier.from_string),
        (GO_SKEY, NoteSigner.from_private_key_string),
    ):
        for i in range(len(key)):
            for cut in (key[:i], key[i + 1 :]):
                with pytest.raises(NoteError):
                    parse(cut)
            changed = key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :]
            with pytest.raises(NoteError):
                parse(changed)


def test_signed_note_round_trip_with_two_signers(log: NoteSigner) -> None:
    other = NoteSigner.generate("witness.example/w1")
    note = sign_note("hello\n\nworld\n", [log, other])
    opened = open_note(note, [log.verifier(), other.verifier()])
    assert opened.text == "hello\n\nworld\n"
    assert opened.signers == (log.name, other.name)
    # Unknown signers are ignored: each key alone opens the note.
    assert open_note(note, [other.verifier()]).signers == (other.name,)


def test_tampered_text_or_signature_is_detected(log: NoteSigner) -> None:
    note = sign_note("origin\n5\nabc\n", [log])
    verifiers = [log.verifier()]
    with pytest.raises(NoteError):
        open_note(note.replace("5", "6", 1), verifiers)
    text, _, line = note.rpartition("\n\n")
    prefix, blob = line.rstrip("\n").rsplit(" ", 1)
    raw = base64.b64decode(blob)
    for i in range(len(raw) * 8):
        flipped = bytearray(raw)
        flipped[i // 8] ^= 1 << (i % 8)
        bad = f"{text}\n\n{prefix} {base64.b64encode(bytes(flipped)).decode()}\n"
        try:
            opened = open_note(bad, verifiers)
        except NoteError:
            continue
        pytest.fail(f"bit {i} flipped and the note still opened: {opened}")


def test_wrong_key_is_rejected(log: NoteSigner) -> None:
    note = sign_note("text\n", [log])
    stranger = NoteSigner.generate("leds.example/audit")  # same name, other key: other key ID
    with pytest.raises(NoteError, match="no signature from a known key"):
        open_note(note, [stranger.verifier()])
    forged = NoteVerifier(log.name, stranger.public_key)
    object.__setattr__(forged, "key_id", log.key_id)  # a colliding key ID must not help
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(note, [forged])


@pytest.mark.parametrize(
    "note",
    [
        "",
        "text\n",
        "text\n\n",
        "text\n\n\u2014 name AAAAAAA=\n",  # signature too short
        "text\n\n- name AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",  # hyphen, not em dash
        "text\n\n\u2014 name AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  # no final newline
        "text\n\n\u2014 na+me AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",  # plus in name
        "te\txt\n\n\u2014 name AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",  # control character
        "text\ud800\n\n\u2014 name AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",  # not UTF-8
        "text\n\n" + "\u2014 name AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n" * 101,
    ],
)
def test_malformed_notes_are_rejected(note: str, log: NoteSigner) -> None:
    with pytest.raises(NoteError):
        open_note(note, [log.verifier()])


def test_sign_note_refuses_bad_text(log: NoteSigner) -> None:
    for text in ("no newline", "bell\x07\n", "surrogate\udc80\n"):
        with pytest.raises(NoteError):
            sign_note(text, [log])
    with pytest.raises(NoteError):
        sign_note("text\n", [])


# --- checkpoints ----------------------------------------------------------------------------


def test_checkpoint_body_and_parse_round_trip(log: NoteSigner) -> None:
    cp = Checkpoint("leds.example/audit", 20852163, ROOT)
    assert cp.body() == f"leds.example/audit\n20852163\n{base64.b64encode(ROOT).decode()}\n"
    assert parse_checkpoint(cp.body()) == cp
    with_ext = Checkpoint("o", 0, ROOT, ("ext one", "ext two"))
    assert parse_checkpoint(with_ext.body()) == with_ext
    parsed, opened = open_checkpoint(sign_note(cp.body(), [log]), [log.verifier()])
    assert parsed == cp
    assert opened.signers == (log.name,)


def test_c2sp_example_checkpoint_parses() -> None:
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    cp = parse_checkpoint(text)
    assert (cp.origin, cp.size, len(cp.root), cp.body()) == (
        "example.com/behind-the-sofa",
        20852163,
        32,
        text,
    )


B64_ROOT = base64.b64encode(ROOT).decode()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "origin\n1\n",
        f"origin\n1\n{B64_ROOT}",  # no final newline
        f"\n1\n{B64_ROOT}\n",  # empty origin
        f"origin\n01\n{B64_ROOT}\n",  # leading zero
        f"origin\n-1\n{B64_ROOT}\n",
        f"origin\n+1\n{B64_ROOT}\n",
        f"origin\n 1\n{B64_ROOT}\n",
        f"origin\n\u0661\n{B64_ROOT}\n",  # Arabic-Indic digit one
        f"origin\n18446744073709551616\n{B64_ROOT}\n",  # 2^64
        f"origin\n1\n{base64.b64encode(ROOT[:31]).decode()}\n",  # 31-byte root
        f"origin\n1\n{B64_ROOT[:-1]}\n",  # bad base64
        f"origin\n1\n{B64_ROOT}\n\n",  # empty extension line
        f"origin\r\n1\n{B64_ROOT}\n",
    ],
)
def test_parse_checkpoint_is_strict(text: str) -> None:
    with pytest.raises(NoteError):
        parse_checkpoint(text)


def test_note_error_is_a_leds_error() -> None:
    assert issubclass(NoteError, LedsError)


def test_checkpoint_constructor_validates() -> None:
    for args in (("", 1, ROOT), ("o", -1, ROOT), ("o", 1, b"x"), ("a\nb", 1, ROOT)):
        with pytest.raises(NoteError):
            Checkpoint(*args)


# --- fuzzing: only NoteError (a LedsError) may come out; anything else fails the test -------


def _only_note_errors(call: Callable[[str], object], text: str) -> None:
    with contextlib.suppress(NoteError):
        call(text)


texts = st.one_of(
    st.text(),
    st.binary().map(lambda b: b.decode("utf-8", errors="replace")),
    st.binary().map(lambda b: b.decode("latin-1")),
    st.lists(
        st.sampled_from(["origin", "0", "1", "01", B64_ROOT, "", "\u2014 ", " ", "\n", "+"]),
        max_size=8,
    ).map("\n".join),
)


@settings(max_examples=300)
@given(texts)
def test_fuzz_parse_checkpoint(text: str) -> None:
    try:
        cp = parse_checkpoint(text)
    except NoteError:
        return
    assert cp.body() == text


@settings(max_examples=300)
@given(texts)
def test_fuzz_key_parsers(text: str) -> None:
    _only_note_errors(NoteVerifier.from_string, text)
    _only_note_errors(NoteSigner.from_private_key_string, "PRIVATE+KEY+" + text)


@st.composite
def mutated_notes(draw: st.DrawFn) -> str:
    """A valid note with random edits: splices, deletions, insertions of note-ish fragments."""
    note = NOTE
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        i = draw(st.integers(min_value=0, max_value=len(note)))
        j = draw(st.integers(min_value=i, max_value=min(len(note), i + 8)))
        insert = draw(st.one_of(st.text(max_size=4), st.sampled_from(["\n", "\u2014 ", "=", "+"])))
        note = note[:i] + insert + note[j:]
    return note


FUZZ_SIGNER = NoteSigner(
    "fuzz.example/log", hashlib.sha256(b"fuzz").digest()
)  # deterministic: examples are reproducible
NOTE = sign_note(Checkpoint("fuzz.example/log", 7, ROOT).body(), [FUZZ_SIGNER])


@settings(max_examples=300)
@given(st.one_of(texts, mutated_notes()))
def test_fuzz_open_note(note: str) -> None:
    try:
        opened = open_note(note, [FUZZ_SIGNER.verifier()])
    except NoteError:
        return
    # Whatever opened was signed by the key: the signed text is exactly the original text.
    assert opened.text == Checkpoint("fuzz.example/log", 7, ROOT).body()
