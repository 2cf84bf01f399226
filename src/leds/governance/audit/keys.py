"""The audit log's signing key: an Ed25519 key in C2SP form, kept in a file of its own.

An embedded install keeps it at ``DATA/keys/audit-log.key`` (created on first use, mode 0600).
Whoever holds the database *and* this key could rewrite history and re-sign it; that is what
the witness is for: it holds checkpoints outside leds that no rewrite can match.
"""

from __future__ import annotations

import os
from pathlib import Path

from leds.errors import LedsError
from leds.governance.audit.notes import NoteError, NoteSigner

LOG_KEY_NAME = "leds-audit-log"


def load_or_create_signer(path: Path, name: str = LOG_KEY_NAME) -> NoteSigner:
    """Load the signing key at ``path``, creating a new one (mode 0600) if there is none."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        signer = NoteSigner.generate(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_suffix(".tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(signer.private_key_string() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(temp, path)  # never replace a key another process created meanwhile
        except FileExistsError:
            pass
        finally:
            temp.unlink(missing_ok=True)
        return load_or_create_signer(path, name)
    except (OSError, UnicodeDecodeError) as exc:
        raise LedsError(f"cannot read the audit log key {path}: {exc}") from exc
    try:
        return NoteSigner.from_private_key_string(text)
    except NoteError as exc:
        raise LedsError(f"the audit log key {path} is not a valid key: {exc.message}") from exc
