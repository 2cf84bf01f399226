"""The audit log under failure: SIGKILL during appends loses no acknowledged entry and leaves
no gap; concurrent writer processes produce one contiguous, verifiable log; a full disk makes
operations fail closed and the log recovers once space is freed. (`bench/audit.py` runs the
full counts: 200 kills, 8 writers x 10,000.)"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from leds.errors import LedsError
from leds.governance.audit.keys import load_or_create_signer
from leds.governance.audit.log import AuditLog
from leds.service import Service
from leds.store import open_store

CHILD = str(Path(__file__).with_name("log_child.py"))
KILL_RUNS = int(os.environ.get("LEDS_KILL_RUNS", "50"))


def _child(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, CHILD, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _log(target: str, key: Path) -> AuditLog:
    return AuditLog(open_store(target), load_or_create_signer(key))


def _acks(out: str) -> list[int]:
    """Sequence numbers acknowledged: complete ``ack N`` lines only (a kill can cut the last
    line short, and a cut line was never an acknowledgement)."""
    complete = out.split("\n")[:-1]
    return [int(line[4:]) for line in complete if line.startswith("ack ") and line[4:].isdigit()]


def _count(log: AuditLog) -> int:
    return log.verify().entries


def test_sigkill_during_appends_loses_no_acknowledged_entry(tmp_path: Path) -> None:
    target, key = str(tmp_path / "data"), tmp_path / "log.key"
    rng = random.Random(20261126)
    acked_max = 0
    for run in range(KILL_RUNS):
        child = _child("append", target, str(key), "1000000")
        assert child.stdout is not None
        ready = child.stdout.readline().strip()
        if ready != "ready":
            child.kill()
            _, err = child.communicate()
            pytest.fail(f"run {run}: the writer did not start: {ready!r} {err[-2000:]}")
        time.sleep(rng.uniform(0.0, 0.25))
        child.send_signal(signal.SIGKILL)
        out, err = child.communicate()
        acks = _acks(out)
        log = _log(target, key)
        try:
            entries = _count(log)  # verify: contiguous, every leaf and checkpoint right
        except LedsError as exc:
            pytest.fail(f"run {run}: {exc} (acked {acks[-3:]}; child stderr: {err[-2000:]})")
        finally:
            log.store.close()
        if acks:
            acked_max = max(acked_max, acks[-1])
        assert entries >= acked_max, f"run {run}: acknowledged {acked_max}, log has {entries}"
    assert acked_max > 0


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_concurrent_writer_processes_make_one_contiguous_log(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    writers, appends = 4, 1000
    target = str(tmp_path / "data") if backend == "sqlite" else request.getfixturevalue("pg_url")
    key = tmp_path / "log.key"
    _log(target, key).store.close()  # create the schema and key before the race
    children = [_child("append", target, str(key), str(appends)) for _ in range(writers)]
    acks: list[int] = []
    for child in children:
        out, err = child.communicate(timeout=600)
        assert child.returncode == 0, err
        acks += _acks(out)
    assert sorted(acks) == list(range(1, writers * appends + 1))
    log = _log(target, key)
    report = log.verify()
    assert report.entries == writers * appends
    assert report.checkpoints >= writers * appends // 50
    log.store.close()


def test_a_full_disk_fails_closed_and_the_log_recovers(tmp_path: Path) -> None:
    data = tmp_path / "data"
    Service.open(data).close()
    used = max(f.stat().st_size for f in data.iterdir() if f.is_file())
    child = _child("reads", str(data), str(used + 256 * 1024), "400")
    out, err = child.communicate(timeout=300)
    assert child.returncode == 0, err
    lines = out.splitlines()[1:]
    oks = [int(line.split()[1]) for line in lines if line.startswith("ok")]
    refused = sum(1 for line in lines if line == "refused")
    assert oks, "some reads fit before the disk filled"
    assert refused, "the disk filled and reads were refused"
    service = Service.open(data)
    try:
        report = service._log.verify()
        assert report.entries >= max(oks)  # every response returned has its entry
        from actors import STEWARD
        from leds.governance.identity import PurposeStatement

        after = service.list_imports(
            STEWARD,
            PurposeStatement.of("admin-process", "after space was freed"),
        )
        assert after.audit_seq == report.entries + 1
        assert service._log.verify().entries == after.audit_seq
    finally:
        service.close()
