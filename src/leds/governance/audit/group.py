"""Group commit for the audit log: many threads' events, one durable transaction per batch.

A durable commit (``synchronous=FULL`` on SQLite, a WAL flush on PostgreSQL) costs about the
same for one entry as for hundreds, so a busy service should not pay it once per read. A
:class:`GroupCommitter` owns one background writer thread. Request threads hand it their events
with :meth:`GroupCommitter.submit`, which blocks until the event's entry is committed and
returns its sequence number; the writer appends whatever is waiting with
:meth:`~leds.governance.audit.log.AuditLog.append_many` in one transaction, commits, then wakes
every submitter of that batch.

Batching rule: the writer blocks until an event arrives, then takes everything waiting, up to
``max_batch``; if only that one event was waiting it waits up to ``max_wait`` seconds for more
(so that a lone request is not held longer than that), then commits.

Fail closed: if a batch's transaction fails (including its commit), every submitter of that
batch gets :class:`~leds.errors.AuditFailure` and no sequence number; nothing is acknowledged
that is not committed. A later batch is tried afresh, so the committer recovers by itself once
the cause (a full disk, a lost connection) is gone.

Usage::

    with GroupCommitter(log) as committer:
        seq = committer.submit(event)   # from any number of threads
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from types import TracebackType

from leds.errors import AuditFailure
from leds.governance.audit.events import AuditEvent
from leds.governance.audit.log import AuditLog

__all__ = ["GroupCommitStats", "GroupCommitter"]


@dataclass(slots=True)
class _Pending:
    """One submitted event: filled in by the writer, then ``done`` is set."""

    event: AuditEvent
    done: threading.Event = field(default_factory=threading.Event)
    seq: int = 0
    error: AuditFailure | None = None


@dataclass(frozen=True, slots=True)
class GroupCommitStats:
    """Counters since the committer started: committed batches and entries, failed batches."""

    batches: int
    entries: int
    failed_batches: int
    largest_batch: int

    @property
    def mean_batch(self) -> float:
        """Mean number of entries per committed batch (0.0 before the first)."""
        return self.entries / self.batches if self.batches else 0.0


class GroupCommitter:
    """A background writer that appends submitted events in batches, one transaction each.

    ``log``: the audit log to append to (its store provides the transactions).
    ``max_batch``: most events in one transaction. ``max_wait``: how long (seconds) the writer
    waits for company when only one event is waiting; 0 commits it at once.
    """

    def __init__(self, log: AuditLog, *, max_batch: int = 256, max_wait: float = 0.002) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, not {max_batch}")
        if max_wait < 0:
            raise ValueError(f"max_wait must not be negative, not {max_wait}")
        self.log = log
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._lock = threading.Lock()  # orders submits against close's sentinel
        self._closed = False
        self._batches = 0
        self._entries = 0
        self._failed = 0
        self._largest = 0
        self._thread = threading.Thread(
            target=self._run, name="leds-audit-group-commit", daemon=True
        )
        self._thread.start()

    # ---- submitting ----------------------------------------------------------------------
    def submit(self, event: AuditEvent) -> int:
        """Append ``event`` and return its sequence number once its entry is committed.

        Blocks the calling thread until the batch holding the event has committed. Raises
        :class:`~leds.errors.AuditFailure` if that batch's transaction failed (nothing of the
        batch was committed) or if the committer is closed.
        """
        pending = _Pending(event)
        with self._lock:
            if self._closed:
                raise AuditFailure(
                    "the operation was refused because it could not be recorded: "
                    "the audit group committer is closed"
                )
            self._queue.put(pending)
        pending.done.wait()
        if pending.error is not None:
            raise pending.error
        return pending.seq

    @property
    def stats(self) -> GroupCommitStats:
        """Batches and entries committed so far (for benchmarks and monitoring)."""
        return GroupCommitStats(self._batches, self._entries, self._failed, self._largest)

    @property
    def waiting(self) -> int:
        """Events submitted but not yet taken into a batch by the writer (approximate)."""
        return self._queue.qsize()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called (or the writer stopped): submits are refused."""
        return self._closed

    # ---- life cycle ----------------------------------------------------------------------
    def close(self) -> None:
        """Stop taking events, commit every event already submitted, stop the writer."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._queue.put(None)
        if self._thread is not threading.current_thread():
            self._thread.join()

    def __enter__(self) -> GroupCommitter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ---- the writer thread ---------------------------------------------------------------
    def _drain(self, batch: list[_Pending]) -> bool:
        """Move what is waiting into ``batch`` (up to max_batch); True if close's sentinel
        was reached (nothing follows it)."""
        get = self._queue.get_nowait
        try:
            while len(batch) < self.max_batch:
                item = get()
                if item is None:
                    return True
                batch.append(item)
        except queue.Empty:
            pass
        return False

    def _take(self, first: _Pending) -> tuple[list[_Pending], bool]:
        """The batch starting with ``first``; True as well when close's sentinel was reached."""
        batch = [first]
        if self._drain(batch):
            return batch, True
        if len(batch) == 1 and self.max_batch > 1 and self.max_wait > 0:
            try:
                item = self._queue.get(timeout=self.max_wait)
            except queue.Empty:
                return batch, False
            if item is None:
                return batch, True
            batch.append(item)
            return batch, self._drain(batch)
        return batch, False

    def _commit(self, batch: list[_Pending]) -> None:
        """Append and commit the batch, then wake its submitters (with seqs or the failure)."""
        try:
            with self.log.store.transaction() as conn:
                seqs = self.log.append_many(conn, [p.event for p in batch])
        except Exception as exc:  # fail closed whatever went wrong; the writer lives on
            self._failed += 1
            cause = getattr(exc, "orig", None) or exc
            for pending in batch:
                failure = AuditFailure(
                    f"the operation was refused because it could not be recorded: {cause}"
                )
                failure.__cause__ = exc
                pending.error = failure
                pending.done.set()
            return
        self._batches += 1
        self._entries += len(batch)
        self._largest = max(self._largest, len(batch))
        for pending, seq in zip(batch, seqs, strict=True):
            pending.seq = seq
            pending.done.set()

    def _run(self) -> None:
        batch: list[_Pending] = []
        try:
            stopping = False
            while not stopping:
                first = self._queue.get()
                if first is None:
                    return
                batch, stopping = self._take(first)
                self._commit(batch)
                batch = []
        finally:
            # Nothing is committed after this point: refuse new submits, then anything left
            # (only when the thread itself is dying, e.g. on an error outside a transaction).
            with self._lock:
                self._closed = True
            leftover = [p for p in batch if not p.done.is_set()]
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    leftover.append(item)
            for pending in leftover:
                pending.error = AuditFailure(
                    "the operation was refused because it could not be recorded: "
                    "the audit group committer stopped"
                )
                pending.done.set()
