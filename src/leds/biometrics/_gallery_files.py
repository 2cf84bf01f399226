"""On-disk layout of a face gallery (private to :mod:`leds.biometrics.gallery`).

``DIR/meta.json``      format, dim, count of slots, stage-code parameters (mean, scale)
``DIR/templates.f32``  count x dim float32 little-endian, unit vectors; row = slot (append-only)
``DIR/removed.u8``     one byte per slot: 1 = removed (its rows are zeroed in every file)
``DIR/codes.i8``       8-bit codes of ``(x - mean) * scale`` (only once trained)
``DIR/codes.pq``       4-bit product-quantiser codes, 32 bytes a slot (only once trained)
``DIR/pq.faiss``       the trained (empty) FAISS ``IndexPQ``: its codebook

``meta.json`` is replaced atomically after the data files are written, so a crash in the
middle of an append leaves trailing bytes that the next open cuts off. One process writes at a
time (``DIR/.lock``, ``fcntl.flock``).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

FORMAT = 1
TEMPLATES = "templates.f32"
REMOVED = "removed.u8"
CODES8 = "codes.i8"
CODESPQ = "codes.pq"
PQ_MODEL = "pq.faiss"
META = "meta.json"
LOCK = ".lock"


@dataclass
class Meta:
    format: int
    dim: int
    count: int
    algorithm: str
    trained: bool = False
    mean: list[float] | None = None
    scale: float | None = None
    pq_m: int = 64
    trained_on: int = 0

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Meta:
        data: dict[str, Any] = json.loads(text)
        return cls(**data)


def write_meta(directory: Path, meta: Meta) -> None:
    tmp = directory / (META + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(meta.to_json())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, directory / META)


def read_meta(directory: Path) -> Meta | None:
    path = directory / META
    if not path.exists():
        return None
    return Meta.from_json(path.read_text(encoding="utf-8"))


def truncate(path: Path, size: int) -> None:
    """Cut ``path`` to ``size`` bytes (creating it empty if missing)."""
    with path.open("ab") as fh:
        if fh.tell() != size:
            fh.truncate(size)


def append(path: Path, data: bytes) -> None:
    with path.open("ab") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def zero_rows(path: Path, rows: list[int], width: int) -> None:
    """Overwrite rows (``width`` bytes each) with zeros, then sync once."""
    zeros = bytes(width)
    with path.open("r+b") as fh:
        for row in rows:
            fh.seek(row * width)
            fh.write(zeros)
        fh.flush()
        os.fsync(fh.fileno())


def set_bytes(path: Path, rows: list[int], value: bytes) -> None:
    """Set one byte per row (the removal mask), then sync once."""
    with path.open("r+b") as fh:
        for row in rows:
            fh.seek(row)
            fh.write(value)
        fh.flush()
        os.fsync(fh.fileno())


@contextmanager
def locked(directory: Path) -> Iterator[None]:
    with (directory / LOCK).open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
