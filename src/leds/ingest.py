"""The import pipeline: plan the files of an extract, parse and prepare each, and hand
prepared records and rejections to the service in order.

Parsing and preparing (canonical JSON, content hash) cost more than storing; for an extract
of several large files they run in worker processes, a file each, while the service stores
what is ready. At most ``workers + 1`` files are in flight, so memory stays bounded by the
size of a few part files whatever the size of the extract.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from leds.model.records import Rejection, SourceRecord
from leds.sources import Source, get_source
from leds.store.base import PreparedRecord, prepare_record

PARALLEL_MIN_BYTES = 16 * 1024 * 1024  # smaller extracts: in-process (a pool costs more)

Item = PreparedRecord | Rejection


def _prepare(source: Source, file: Path, single: bool) -> list[Item]:
    items: list[Item] = []
    for item in source.parse_file(file, single=single):
        items.append(prepare_record(item) if isinstance(item, SourceRecord) else item)
    return items


_WORKER_SOURCES: dict[tuple[str, str | None], Source] = {}


# Across the process boundary prepared records travel as plain tuples: a named tuple costs
# several times more to pickle and unpickle, and that cost lands on the importing process.
Wire = tuple[Any, ...] | Rejection


def _prepare_in_worker(name: str, mapping: str | None, file: str) -> tuple[list[Wire], list[str]]:
    """Worker process: parse and prepare one file; return its items and notices."""
    key = (name, mapping)
    source = _WORKER_SOURCES.get(key)
    if source is None:
        source = _WORKER_SOURCES[key] = get_source(name, mapping=Path(mapping) if mapping else None)
    source.plan(Path(file))  # the per-file checks the parent made for the whole plan
    items = _prepare(source, Path(file), single=False)
    wire: list[Wire] = [tuple(i) if type(i) is PreparedRecord else i for i in items]
    return wire, list(source.notices)


class Ingest:
    """One extract to import: ``items()`` yields its prepared records and rejections."""

    def __init__(
        self, name: str, path: Path, *, mapping: Path | None = None, workers: int | None = None
    ) -> None:
        self.name = name
        self.mapping = mapping
        self.source = get_source(name, mapping=mapping)
        self.files = self.source.plan(Path(path))  # raises ExtractError for a bad path
        self.single = Path(path).is_file()
        self.notices: list[str] = []
        cores = os.cpu_count() or 1
        size = sum(f.stat().st_size for f in self.files)
        if workers is None:  # by default: parallel for large extracts of several files
            workers = min(cores, 2) if size >= PARALLEL_MIN_BYTES else 1
        self.workers = workers if len(self.files) > 1 else 1

    def _note(self, notices: list[str]) -> None:
        for notice in notices:
            if notice not in self.notices:
                self.notices.append(notice)

    def _from_workers(self) -> Iterator[list[Item]]:
        # fork is quick and needs no re-import; with other threads running (a server) it is
        # not safe, so spawn then.
        context = (
            mp.get_context("fork") if threading.active_count() == 1 else mp.get_context("spawn")
        )
        mapping = str(self.mapping) if self.mapping else None
        with ProcessPoolExecutor(self.workers, mp_context=context) as pool:
            pending: deque[Future[tuple[list[Wire], list[str]]]] = deque()
            files = iter(self.files)
            for file in files:
                pending.append(pool.submit(_prepare_in_worker, self.name, mapping, str(file)))
                if len(pending) > self.workers:
                    break
            while pending:
                wire, notices = pending.popleft().result()
                next_file = next(files, None)
                if next_file is not None:
                    pending.append(
                        pool.submit(_prepare_in_worker, self.name, mapping, str(next_file))
                    )
                self._note(notices)
                make = PreparedRecord._make
                yield [i if isinstance(i, Rejection) else make(i) for i in wire]

    def items(self) -> Iterator[Item]:
        """Prepared records and rejections, file by file, in order. In-process they stream
        (memory does not grow with a file); from workers they come a file at a time.
        (Duplicate keys across the extract are found by the store against what this import
        already delivered, so memory does not grow with the extract either.)"""
        if self.workers <= 1:
            for file in self.files:
                for item in self.source.parse_file(file, single=self.single):
                    yield prepare_record(item) if isinstance(item, SourceRecord) else item
                self._note(self.source.notices)
            return
        for items in self._from_workers():
            yield from items
