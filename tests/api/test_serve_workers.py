"""``leds serve --workers 2``: two server processes on one port answer audited searches from
concurrent clients, with one unbroken audit log (every response names its own entry)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
from kit import HEADERS, cheap_passwords

from leds.governance.identity import PurposeStatement
from leds.service import NewAccount, Service

PASSWORD = "a long test password for workers"
SETUP = PurposeStatement.of("admin-process", "setting up the workers test")
AUDIT = PurposeStatement.of("oversight", "checking the log after the test")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _accounts(data: Path) -> str:
    year = date.today() + timedelta(days=365)
    service = Service.open(data)
    try:
        with cheap_passwords():
            for uid, role, org in (
                ("adm", "administrator", "LEDS"),
                ("pc1", "constable", "WYP"),
                ("aud", "auditor", "IOPC"),
            ):
                acting = None if uid == "adm" else service.login("adm", PASSWORD)
                new = NewAccount(uid, uid, role, org, "Unit 1", PASSWORD, year, year)
                service.add_account(acting, SETUP, new)
            return service.create_token(service.login("pc1", PASSWORD), SETUP, "t").value
    finally:
        service.close()


def test_two_server_processes_answer_and_record_every_search(tmp_path: Path) -> None:
    data = tmp_path / "data"
    token = _accounts(data)
    port = _port()
    log = tmp_path / "server.log"
    with log.open("wb") as errors:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "leds.cli",
                "serve",
                "--data",
                str(data),
                "--port",
                str(port),
                "--workers",
                "2",
            ],
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        seqs: list[int] = []
        statuses: list[int] = []
        lock = threading.Lock()

        def client(k: int) -> None:
            got = []
            for i in range(6):  # a new connection each time, so both processes take some
                r = httpx.get(
                    f"{base}/api/v1/search/persons",
                    params={"surname": f"Smith{k}{i}"},
                    headers={"Authorization": f"Bearer {token}", **HEADERS["constable"]},
                    timeout=30,
                )
                got.append((r.status_code, r.json().get("audit_seq")))
            with lock:
                statuses.extend(s for s, _ in got)
                seqs.extend(q for _, q in got if q is not None)

        threads = [threading.Thread(target=client, args=(k,)) for k in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert statuses == [200] * 36
    assert len(set(seqs)) == 36  # every response its own entry
    service = Service.open(data)
    try:
        report = service.verify_audit(service.login("aud", PASSWORD), AUDIT).value
        entries = service.audit_log(service.login("aud", PASSWORD), AUDIT, after=0, limit=1000)
    finally:
        service.close()
    assert report.entries >= max(seqs)
    searched = {e.seq: e for e in entries.value if e.operation == "search_person"}
    assert set(seqs) <= set(searched)
    assert {searched[s].query["surname"] for s in seqs} == {
        f"Smith{k}{i}" for k in range(6) for i in range(6)
    }
