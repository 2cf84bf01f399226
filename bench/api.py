"""Benchmark: audited person searches (or record reads) over HTTP, from a second process on
loopback; prints figures.

    python bench/api.py                          # person searches, 5,000-person world, 8 threads
    python bench/api.py --persons 50000 --threads 16 --seconds 60
    python bench/api.py --reads                  # audited record reads instead of searches
    python bench/api.py --data /tmp/api1m --persons 1000000   # keep (and reuse) the world
    python bench/api.py --workers 2 --client wrk --connections 16   # 2 server processes, wrk

Builds a synthetic world (``leds.synth``), imports its PNC extract through the one door,
creates an API token for a constable, then serves ``leds.api.create_app`` with uvicorn in a
**separate process** (``--workers N``: N processes sharing the port, as ``leds serve --workers``)
and, from N client threads each with its own keep-alive connection (or, with ``--client wrk``,
from wrk — a C load generator from Debian's packages, so the client costs the shared cores
little — over ``--connections`` keep-alive connections), runs
person searches (``GET /api/v1/search/persons?surname&forenames&year``: a true person's name
with the year of birth, one in five with a one-letter typo in the surname) or, with
``--reads``, reads random PNC person records (``GET /api/v1/records/pnc/person/{id}``).
Prints throughput, latency p50/p95/p99 and the audit check: after the run, every 200
response's ``audit_seq`` must be a distinct entry of the expected operation, by that user, for
that request, and the log must have grown by exactly one entry per request (0 responses
without an audit entry, 0 entries without a response; with wrk, requests still in flight when
it stops are answered and recorded but not counted, so the log may grow by up to one entry per
connection more, and an entry is matched to its request by the surname the request asked
for). Issue #7's target for person searches on the 1M-person world: >= 1,000/s, p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import Progress

from leds.governance.identity import PurposeStatement
from leds.service import NewAccount, Service
from leds.store import open_store

console = Console()
PASSWORD = "bench password for the api run"
SETUP = PurposeStatement.of("admin-process", "setting up the api benchmark")
HEADERS = {
    "X-Leds-Purpose": "crime",
    "X-Leds-Justification": "benchmark of audited record reads",
    "X-Leds-Case": "BENCH-0001",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(data: Path, persons: int, seed: int) -> tuple[str, list[str]]:
    """World, accounts, PNC import, a constable's token; returns (token, person record ids).
    A ``data`` folder prepared by an earlier run is reused (a new token is issued)."""
    from leds.synth import generate_world

    world = data / "world"
    if (data / "bench-ready").exists():
        service = Service.open(data)
        try:
            token = service.create_token(service.login("bench-pc", PASSWORD), SETUP, "bench").value
        finally:
            service.close()
        return token, _pnc_person_ids(world)
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("generating persons", total=persons)
        generate_world(world, persons, seed, progress=lambda n: bar.advance(task, n))
    service = Service.open(data)
    try:
        year = date.today() + timedelta(days=365)

        def account(uid: str, role: str, org: str) -> NewAccount:
            return NewAccount(uid, uid, role, org, "bench", PASSWORD, year, year)

        service.add_account(None, SETUP, account("bench-admin", "administrator", "LEDS"))
        admin = service.login("bench-admin", PASSWORD)
        service.add_account(admin, SETUP, account("bench-steward", "data-steward", "LEDS"))
        service.add_account(admin, SETUP, account("bench-pc", "constable", "WYP"))
        steward = service.login("bench-steward", PASSWORD)
        started = time.perf_counter()
        summary = service.import_source(steward, SETUP, "pnc", world / "pnc").value
        console.print(
            f"imported pnc: {summary.inserted:,} records in {time.perf_counter() - started:.1f} s"
        )
        token = service.create_token(service.login("bench-pc", PASSWORD), SETUP, "bench").value
    finally:
        service.close()
    (data / "bench-ready").touch()
    return token, _pnc_person_ids(world)


def _pnc_person_ids(world: Path) -> list[str]:
    ids: list[str] = []
    for path in sorted((world / "truth").glob("truth-*.csv")):
        with path.open(newline="", encoding="utf-8") as f:
            ids.extend(
                r["source_record_id"]
                for r in csv.DictReader(f)
                if r["source"] == "pnc" and r["kind"] == "person"
            )
    if not ids:
        raise SystemExit("the world has no PNC person records")
    return ids


def search_queries(data: Path, n: int, seed: int) -> list[dict[str, str]]:
    """``n`` person searches from indexed PNC nominals (the bench reads its own store to make
    them): surname, first forename and year of birth; one in five with a surname typo."""
    from sqlalchemy import text

    rng = random.Random(seed)
    store = open_store(str(data))
    try:
        with store.engine.connect() as conn:
            top = conn.execute(text("SELECT max(owner_id) FROM search_person_rows")).scalar()
            rows: list[tuple[str, str, int]] = []
            while len(rows) < n and top:
                got = conn.execute(
                    text(
                        "SELECT surname, forenames, yob FROM search_person_rows "
                        "WHERE owner_id >= :a AND surname IS NOT NULL AND forenames IS NOT NULL "
                        "AND yob > 0 LIMIT 1"
                    ),
                    {"a": rng.randint(1, int(top))},
                ).first()
                if got:
                    rows.append((str(got[0]), str(got[1]), int(got[2])))
    finally:
        store.close()
    out = []
    for surname, forenames, yob in rows:
        if rng.random() < 0.2 and len(surname) > 3:
            i = rng.randrange(1, len(surname) - 1)
            surname = surname[:i] + surname[i + 1] + surname[i] + surname[i + 2 :]
        out.append({"surname": surname, "forenames": forenames.split()[0], "year": str(yob)})
    return out


def serve(data: Path, port: int, workers: int) -> None:
    """The server process (``--serve``)."""
    from leds.api import serve as run

    run(data, None, "127.0.0.1", port, access_log=False, workers=workers)


# wrk's script: requests from a file of paths (each thread starts at its own place), the
# Bearer token and purpose headers; each response's status and audit_seq are written, a line
# per response, to a file per thread; the latency percentiles are printed at the end.
WRK_SCRIPT = r"""
local paths, out, n = {}, nil, 0
local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  for line in io.lines(args[1]) do table.insert(paths, line) end
  out = io.open(args[2] .. "-" .. id, "w")
  out:setvbuf("line")
  wrk.headers["Authorization"] = "Bearer " .. args[3]
  wrk.headers["X-Leds-Purpose"] = args[4]
  wrk.headers["X-Leds-Justification"] = args[5]
  wrk.headers["X-Leds-Case"] = args[6]
  n = id * 7919
end
function request()
  n = n + 1
  return wrk.format("GET", paths[n % #paths + 1])
end
function response(status, headers, body)
  local seq = body:match('"audit_seq":(%d+)') or "-"
  out:write(status, " ", seq, "\n")
end
function done(summary, latency, requests)
  io.write(string.format("WRK %d %d %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout))
end
"""


def run_wrk(
    base: str, token: str, queries: list[dict[str, str]], args: argparse.Namespace, work: Path
) -> tuple[int, float, list[float], dict[int, int], list[tuple[int, str]]]:
    """Run wrk; returns (requests, seconds, [p50, p95, p99, max] in ms, statuses, seqs)."""
    from urllib.parse import urlencode

    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk not found: apt-get install wrk (or use --client python)")
    script, paths = work / "bench.lua", work / "paths.txt"
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    paths.write_text(
        "".join(f"/api/v1/search/persons?{urlencode(q)}\n" for q in queries), encoding="utf-8"
    )
    prefix = work / "responses"
    threads = max(1, min(os.cpu_count() or 1, args.connections))
    done = subprocess.run(
        [
            wrk,
            f"-t{threads}",
            f"-c{args.connections}",
            f"-d{args.seconds:.0f}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            base,
            "--",
            str(paths),
            str(prefix),
            token,
            HEADERS["X-Leds-Purpose"],
            HEADERS["X-Leds-Justification"],
            HEADERS["X-Leds-Case"],
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("WRK "))
    requests, micros, p50, p95, p99, top, errors = (int(x) for x in line.split()[1:])
    statuses: dict[int, int] = {}
    seqs: list[tuple[int, str]] = []
    for part in work.glob("responses-*"):
        for row in part.read_text(encoding="utf-8").splitlines():
            status, seq = row.split()
            statuses[int(status)] = statuses.get(int(status), 0) + 1
            if seq != "-":
                seqs.append((int(seq), ""))
    if errors:
        statuses[0] = errors  # connection errors and timeouts, as wrk counts them
    quantiles = [p50 / 1000, p95 / 1000, p99 / 1000, top / 1000]
    return requests, micros / 1e6, quantiles, statuses, seqs


def warm_up(
    base: str, token: str, queries: list[dict[str, str]], ids: list[str], args: argparse.Namespace
) -> None:
    """A few requests to every server process before timing (the first request of a process
    loads its caches and takes most of a second, which is not what the figures are about)."""
    headers = {"Authorization": f"Bearer {token}", **HEADERS}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        for i in range(20 * args.workers):
            if args.reads:
                http.get(f"/api/v1/records/pnc/person/{ids[i % len(ids)]}")
            else:
                http.get("/api/v1/search/persons", params=queries[-1 - i % len(queries)])


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its live descendants (the
    server and its worker processes), from /proc; 0.0 where /proc is not there."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        proc = todo.pop()
        try:
            fields = Path(f"/proc/{proc}/stat").read_text().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{proc}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return total


def head_seq(data: Path) -> int:
    store = open_store(str(data))  # the check reads the log itself, not through the server
    try:
        last = 0
        while batch := store.audit_entries(last, 10_000):
            last = batch[-1].seq
        return last
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--data", type=Path, help="keep the world here (default: a temp dir)")
    parser.add_argument("--reads", action="store_true", help="record reads, not searches")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--client", choices=("python", "wrk"), default="python")
    parser.add_argument("--connections", type=int, default=16, help="wrk's connections")
    parser.add_argument("--serve", nargs=3, metavar=("DATA", "PORT", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve[0]), int(args.serve[1]), int(args.serve[2]))
        return
    if args.client == "wrk" and args.reads:
        raise SystemExit("--client wrk runs person searches; use --client python for --reads")

    data = args.data or Path(tempfile.mkdtemp(prefix="leds-bench-api-"))
    token, ids = prepare(data, args.persons, args.seed)
    queries = [] if args.reads else search_queries(data, 2_000, args.seed)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(data), str(port), str(args.workers)],
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.2)
        warm_up(base, token, queries, ids, args)
        before = head_seq(data)  # the warm-up's entries are not counted
        cpu_before = tree_cpu(server.pid)
        latencies: list[float] = []
        seqs: list[tuple[int, str]] = []
        operation = "view_record" if args.reads else "search_person"
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        stop_at = time.perf_counter() + args.seconds

        def client(worker: int) -> None:
            rng = random.Random(worker)
            mine: list[float] = []
            got: list[tuple[int, str]] = []
            codes: dict[int, int] = {}
            headers = {"Authorization": f"Bearer {token}", **HEADERS}
            with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
                while time.perf_counter() < stop_at:
                    if args.reads:
                        key = rng.choice(ids)
                        t0 = time.perf_counter()
                        r = http.get(f"/api/v1/records/pnc/person/{key}")
                    else:
                        params = rng.choice(queries)
                        key = params["surname"]
                        t0 = time.perf_counter()
                        r = http.get("/api/v1/search/persons", params=params)
                    mine.append(time.perf_counter() - t0)
                    codes[r.status_code] = codes.get(r.status_code, 0) + 1
                    if r.status_code == 200:
                        got.append((r.json()["audit_seq"], key))
            with lock:
                latencies.extend(mine)
                seqs.extend(got)
                for k, v in codes.items():
                    statuses[k] = statuses.get(k, 0) + v

        what = "reading random PNC person records" if args.reads else "searching persons"
        by = (
            f"wrk, {args.connections} connections"
            if args.client == "wrk"
            else f"{args.threads} client threads"
        )
        console.print(
            f"{what} over HTTP: {by}, {args.workers} server process(es), {args.seconds:.0f} s, "
            f"world of {args.persons:,} persons ({len(ids):,} PNC persons)"
        )
        started = time.perf_counter()
        if args.client == "wrk":
            with tempfile.TemporaryDirectory(prefix="leds-wrk-") as work:
                n, elapsed, q, got_statuses, got_seqs = run_wrk(
                    base, token, queries, args, Path(work)
                )
            statuses.update(got_statuses)
            seqs.extend(got_seqs)
        else:
            threads = [threading.Thread(target=client, args=(i,)) for i in range(args.threads)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - started
            n = len(latencies)
            ms = sorted(x * 1000 for x in latencies)
            cuts = statistics.quantiles(ms, n=100)
            q = [cuts[49], cuts[94], cuts[98], ms[-1]]
        server_cpu = tree_cpu(server.pid) - cpu_before
    finally:
        server.terminate()
        server.wait(timeout=30)

    console.print(f"requests: {n:,}  statuses: {dict(sorted(statuses.items()))}")
    console.print(
        f"throughput: {n / elapsed:,.0f} audited {'reads' if args.reads else 'searches'}/s"
    )
    console.print(f"latency ms: p50 {q[0]:.1f}  p95 {q[1]:.1f}  p99 {q[2]:.1f}  max {q[3]:.1f}")
    console.print(
        f"server CPU: {1000 * server_cpu / max(n, 1):.2f} ms per request "
        f"({server_cpu / elapsed:.2f} cores busy on average; {os.cpu_count()} cores here)"
    )

    # The audit check: every response names its own entry; the log grew by exactly n.
    store = open_store(str(data))
    try:
        entries = {}
        last = before
        while batch := store.audit_entries(last, 10_000):
            entries.update({e.seq: e for e in batch})
            last = batch[-1].seq
    finally:
        store.close()
    by_seq = dict(seqs)
    asked = {q["surname"] for q in queries}
    missing = [s for s in by_seq if s not in entries]
    wrong = [
        s
        for s, rid in by_seq.items()
        if s in entries
        and (
            entries[s].operation != operation
            or entries[s].actor_id != "bench-pc"
            or (
                entries[s].query.get("surname") not in asked
                if args.client == "wrk"
                else entries[s].query.get("id" if args.reads else "surname") != rid
            )
        )
    ]
    duplicates = len(seqs) - len(by_seq)
    console.print(
        f"audit: {len(entries):,} new entries for {n:,} requests; responses without an entry: "
        f"{len(missing)}; entries not matching their response: {len(wrong)}; "
        f"reused sequence numbers: {duplicates}"
    )
    in_flight = args.connections if args.client == "wrk" else 0  # answered after wrk stopped
    ok = not missing and not wrong and not duplicates and n <= len(entries) <= n + in_flight
    console.print("[bold green]audit check passed[/]" if ok else "[bold red]AUDIT CHECK FAILED[/]")
    if args.data is None:
        shutil.rmtree(data, ignore_errors=True)
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
