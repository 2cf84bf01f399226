"""Group commit of audit events: many submitting threads get exactly the sequence numbers
1..N, each only once its entry is committed; a failed batch refuses every one of its
submitters and acknowledges nothing; close() commits everything already submitted."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import select, text

from leds.errors import AuditFailure
from leds.governance.audit import AuditEvent
from leds.governance.audit.group import GroupCommitter
from leds.governance.audit.log import AuditLog
from leds.governance.identity import Actor, PurposeStatement
from leds.model.codes import AuditKind
from leds.store import Store
from leds.store.schema import audit_events, audit_head

ACTOR = Actor("pc123", "constable", "WYP")
PURPOSE = PurposeStatement.of("stop", "vehicle stopped on the A64 tonight")


def _event(i: int) -> AuditEvent:
    return AuditEvent(
        AuditKind.CONSULTATION,
        "search_person",
        ACTOR,
        PURPOSE,
        {"surname": f"SMITH{i}"},
        subjects=[f"person/{i}"],
    )


def _committed(store: Store, seq: int) -> bool:
    """Whether entry ``seq`` is visible to another connection (i.e. committed)."""
    with store.engine.connect() as conn:
        found = conn.execute(select(audit_events.c.seq).where(audit_events.c.seq == seq))
        return found.one_or_none() is not None


def _run_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    """Run ``work(i)`` in ``count`` threads started together; return what they raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def body(i: int) -> None:
        try:
            start.wait()
            work(i)
        except BaseException as exc:  # reported to the test, never lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive(), "a submitter never got an answer"
    return errors


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.005)


@contextmanager
def _writer_blocked(store: Store) -> Iterator[None]:
    """Hold the log's write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: the head row)."""
    with store.transaction() as conn:
        conn.execute(select(audit_head.c.size).where(audit_head.c.id == 1).with_for_update())
        yield


def test_many_threads_get_exactly_one_contiguous_run_of_seqs(audit_log: AuditLog) -> None:
    threads, submits = 8, 40
    seqs: list[list[int]] = [[] for _ in range(threads)]
    unseen: list[int] = []
    with GroupCommitter(audit_log) as committer:

        def work(i: int) -> None:
            for j in range(submits):
                seq = committer.submit(_event(i * submits + j))
                if not _committed(audit_log.store, seq):
                    unseen.append(seq)  # acknowledged before it was committed
                seqs[i].append(seq)

        assert _run_threads(threads, work) == []
        stats = committer.stats
    assert unseen == []
    assert sorted(s for per in seqs for s in per) == list(range(1, threads * submits + 1))
    for per in seqs:  # one thread's submits are appended in its order
        assert per == sorted(per)
    assert stats.entries == threads * submits
    assert stats.failed_batches == 0
    assert 1 <= stats.batches <= threads * submits
    report = audit_log.verify()
    assert report.entries == threads * submits
    # A checkpoint falls at the end of a batch once 10 entries (the fixture's) have passed.
    assert report.checkpoints >= threads * submits // (10 + committer.max_batch)


def test_waiting_events_are_committed_together_up_to_max_batch(audit_log: AuditLog) -> None:
    store = audit_log.store
    with GroupCommitter(audit_log, max_batch=4, max_wait=0.0) as committer:
        got: list[int] = []
        with _writer_blocked(store):
            blocker = threading.Thread(target=lambda: got.append(committer.submit(_event(0))))
            blocker.start()
            _wait_until(lambda: committer.waiting == 0, "the writer took the first event")
            time.sleep(0.05)  # the writer is now inside its transaction, waiting for the lock
            waiters = [
                threading.Thread(target=lambda i=i: got.append(committer.submit(_event(i))))
                for i in range(1, 11)
            ]
            for waiter in waiters:
                waiter.start()
            _wait_until(lambda: committer.waiting == 10, "ten events were waiting")
        for thread in [blocker, *waiters]:
            thread.join(timeout=60)
        stats = committer.stats
    assert sorted(got) == list(range(1, 12))
    assert stats.batches == 4  # 1, then 10 waiting in batches of at most 4: 4, 4, 2
    assert stats.largest_batch == 4
    assert audit_log.verify().entries == 11


def test_a_lone_event_waits_up_to_max_wait_for_company(audit_log: AuditLog) -> None:
    with GroupCommitter(audit_log, max_wait=0.05) as committer:
        start = time.perf_counter()
        assert committer.submit(_event(1)) == 1
        assert time.perf_counter() - start >= 0.045
    with GroupCommitter(audit_log, max_wait=0.0) as committer:
        assert committer.submit(_event(2)) == 2


def test_a_failed_batch_refuses_every_submitter_and_acknowledges_nothing(
    audit_log: AuditLog,
) -> None:
    store = audit_log.store
    threads = 6
    with GroupCommitter(audit_log, max_wait=0.02) as committer:
        assert [committer.submit(_event(i)) for i in range(3)] == [1, 2, 3]
        # Between batches, break the log for real: its head table disappears.
        with store.transaction() as conn:
            conn.execute(text("ALTER TABLE audit_head RENAME TO audit_head_gone"))
        acknowledged: list[int] = []
        errors = _run_threads(threads, lambda i: acknowledged.append(committer.submit(_event(i))))
        assert acknowledged == []
        assert len(errors) == threads
        for error in errors:
            assert isinstance(error, AuditFailure)
            assert "could not be recorded" in error.message
            assert error.__cause__ is not None
        assert committer.stats.failed_batches >= 1
        with store.transaction() as conn:
            conn.execute(text("ALTER TABLE audit_head_gone RENAME TO audit_head"))
        assert audit_log.verify().entries == 3  # the failed batches left nothing behind
        assert committer.submit(_event(99)) == 4  # and the committer recovers by itself
    report = audit_log.verify()
    assert report.entries == 4
    with store.engine.connect() as conn:
        assert conn.execute(select(audit_events.c.seq)).scalars().all() == [1, 2, 3, 4]


def test_close_commits_everything_already_submitted(audit_log: AuditLog) -> None:
    store = audit_log.store
    committer = GroupCommitter(audit_log, max_wait=0.0)
    got: list[int] = []
    failures: list[BaseException] = []

    def submit(i: int) -> None:
        try:
            got.append(committer.submit(_event(i)))
        except BaseException as exc:
            failures.append(exc)

    closer = threading.Thread(target=committer.close)
    with _writer_blocked(store):
        first = threading.Thread(target=submit, args=(0,))
        first.start()
        _wait_until(lambda: committer.waiting == 0, "the writer took the first event")
        time.sleep(0.05)
        waiters = [threading.Thread(target=submit, args=(i,)) for i in range(1, 21)]
        for waiter in waiters:
            waiter.start()
        _wait_until(lambda: committer.waiting == 20, "twenty events were waiting")
        closer.start()
        _wait_until(lambda: committer.closed, "close() began")
        with pytest.raises(AuditFailure, match="closed"):
            committer.submit(_event(999))  # refused at once: nothing new after close()
        assert closer.is_alive()  # close() waits for the submitted events to commit
    closer.join(timeout=60)
    assert not closer.is_alive()
    for thread in [first, *waiters]:
        thread.join(timeout=60)
    assert failures == []
    assert sorted(got) == list(range(1, 22))
    assert committer.stats.entries == 21
    assert audit_log.verify().entries == 21
    committer.close()  # closing twice is harmless


def test_bad_settings_are_refused(audit_log: AuditLog) -> None:
    with pytest.raises(ValueError, match="max_batch"):
        GroupCommitter(audit_log, max_batch=0)
    with pytest.raises(ValueError, match="max_wait"):
        GroupCommitter(audit_log, max_wait=-1.0)
