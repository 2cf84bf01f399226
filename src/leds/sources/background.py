"""Parse an extract in a second process while the caller writes what was parsed.

Parsing and storing each cost about half of an import; on a machine with two or more cores a
producer process that parses (and pickles batches) overlaps with the importer that stores
them. The queue between them is bounded, so memory stays bounded whatever the extract's size.
Small extracts are parsed in-process: starting a process costs more than it saves.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leds.errors import ExtractError, LedsError
from leds.model.records import Rejection, SourceRecord
from leds.sources import get_source

BATCH = 5_000  # items per message
QUEUE_DEPTH = 8  # messages in flight: bounds memory
BACKGROUND_MIN_BYTES = 32 * 1024 * 1024  # below this, parse in-process

Item = SourceRecord | Rejection


@dataclass
class ParseRun:
    """The items of one parse, and the parser's notices once the items are exhausted."""

    items: Iterator[Item]
    notices: list[str] = field(default_factory=list)


def _extract_bytes(files: list[Path]) -> int:
    return sum(f.stat().st_size for f in files)


def _produce(name: str, mapping: str | None, path: str, out: Any) -> None:
    """Child process: parse and send batches, then ("done", notices) or ("error", ...)."""
    try:
        parser = get_source(name, mapping=Path(mapping) if mapping else None)
        batch: list[Item] = []
        for item in parser.parse(Path(path)):
            batch.append(item)
            if len(batch) >= BATCH:
                out.put(("items", batch))
                batch = []
        if batch:
            out.put(("items", batch))
        out.put(("done", list(parser.notices)))
    except LedsError as exc:
        out.put(("error", type(exc).__name__, exc.message, exc.hint))
    except Exception as exc:
        out.put(("error", "ExtractError", f"the parser failed: {exc!r}", None))


@contextmanager
def parse_extract(
    name: str, path: Path, *, mapping: Path | None = None, background: bool | None = None
) -> Iterator[ParseRun]:
    """Parse ``path`` with source ``name``: in a producer process for large extracts (or when
    ``background`` is True), else in-process. Errors about the path itself are raised here."""
    parser = get_source(name, mapping=mapping)
    files = parser.files(Path(path))
    if background is None:
        background = (os.cpu_count() or 1) > 1 and _extract_bytes(files) >= BACKGROUND_MIN_BYTES
    if not background:
        run = ParseRun(iter(()))
        items = parser.parse(Path(path))

        def inline() -> Iterator[Item]:
            yield from items
            run.notices.extend(parser.notices)

        run.items = inline()
        yield run
        return
    # fork is fast and needs no re-import; with other threads running (a server) it is not
    # safe, so spawn then.
    context = mp.get_context("fork") if threading.active_count() == 1 else mp.get_context("spawn")
    channel = context.Queue(maxsize=QUEUE_DEPTH)
    child = context.Process(
        target=_produce,
        args=(name, str(mapping) if mapping else None, str(path), channel),
        daemon=True,
    )
    child.start()
    run = ParseRun(iter(()))

    def received() -> Iterator[Item]:
        while True:
            try:
                message = channel.get(timeout=5)
            except queue.Empty:
                if not child.is_alive():
                    raise ExtractError("the parser process stopped unexpectedly") from None
                continue
            if message[0] == "items":
                yield from message[1]
            elif message[0] == "done":
                run.notices.extend(message[1])
                return
            else:
                _, kind, text, hint = message
                error = ExtractError if kind == "ExtractError" else LedsError
                raise error(text, hint=hint)

    run.items = received()
    try:
        yield run
    finally:
        if child.is_alive():
            child.terminate()
        child.join(timeout=10)
        channel.close()
