"""Benchmark: the audit log's throughput, verification rate and reliability; prints figures.

    python bench/audit.py                      # every section, reduced counts (a few minutes)
    python bench/audit.py --kill-runs 200 --writers 8 --appends 10000 \\
        --verify-entries 10000000              # the full counts of RELIABILITY.md

Sections (``--only`` runs some of them):

``throughput``
    durable appends/s on SQLite (WAL, synchronous=FULL): one append per transaction (the
    service's ``_consult`` today) from 1 and from 8 threads, against a
    :class:`~leds.governance.audit.group.GroupCommitter` fed by 8, 16 and 32 threads; commit
    latency (submit to acknowledgement) median and p99 of each.
``verify``
    builds a log of N entries (``append_many`` in big batches) and times ``AuditLog.verify()``:
    entries/s and the projection for 10M entries.
``crash``
    SIGKILLs ``tests/governance/audit/log_child.py`` (append mode) at a random moment, K times;
    after each kill the log must verify (no gap) and hold every acknowledged entry.
``concurrency``
    W writer processes x A appends each (one transaction per append) into one log: the
    acknowledgements must be exactly 1..W*A and the log must verify.
``policy``
    ``decide_request`` one at a time against ``decide_many`` over random requests.

Targets (RELIABILITY.md, 2 cores): >= 1,000 audited queries/s with group commit, commit p99
<= 5 ms; >= 200 SIGKILL runs, 0 acknowledged entries lost, 0 gaps; 8 writers x 10,000 appends ->
exactly 80,000 contiguous entries; verify 10M entries in <= 60 s.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from leds.governance.audit import AuditEvent
from leds.governance.audit.group import GroupCommitter
from leds.governance.audit.keys import load_or_create_signer
from leds.governance.audit.log import AuditLog
from leds.governance.identity import Actor, PurposeStatement, Role
from leds.governance.policy import (
    APPLIES_TO,
    AccessRequest,
    Action,
    ResourceKind,
    decide_many,
    decide_request,
    organisations,
)
from leds.governance.policy.engine import engine as policy_engine
from leds.governance.policy.model import RESOURCE_IDS
from leds.model.codes import AuditKind, Purpose
from leds.store import open_store
from leds.store.schema import audit_events, audit_head

CHILD = Path(__file__).resolve().parent.parent / "tests" / "governance" / "audit" / "log_child.py"
SECTIONS = ("throughput", "verify", "crash", "concurrency", "policy")
ACTOR = Actor("pc4711", "constable", "WYP")
PURPOSE = PurposeStatement.of("stop", "vehicle stopped on the A64 tonight")
TEN_MILLION = 10_000_000


def _acks(out: str) -> list[int]:
    """Acknowledged seqs: complete ``ack N`` lines only (a kill can cut the last line)."""
    complete = out.split("\n")[:-1]
    return [int(line[4:]) for line in complete if line.startswith("ack ") and line[4:].isdigit()]


def consultation(i: int) -> AuditEvent:
    """A consultation event shaped like the service's (one search, one subject shown)."""
    return AuditEvent(
        AuditKind.CONSULTATION,
        "search_person",
        ACTOR,
        PURPOSE,
        {"surname": f"SMITH{i % 977}", "forename": "JOHN", "dob": "1980-02-29"},
        subjects=[f"pnc/person/{i:08d}"],
        decision="allow:permit-operational-search",
        outcome={"results": 1},
    )


def open_log(target: Path, *, checkpoint_every: int = 1000) -> AuditLog:
    """The audit log in an SQLite data directory (key file next to the database)."""
    return AuditLog(
        open_store(target),
        load_or_create_signer(target / "audit-log.key"),
        checkpoint_every=checkpoint_every,
    )


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


@dataclass
class Figure:
    """One line of the final summary: what was measured against which target."""

    what: str
    value: str
    target: str
    verdict: str


@dataclass
class Report:
    figures: list[Figure] = field(default_factory=list)

    def add(
        self, what: str, value: str, target: str, ok: bool | None, *, reduced: bool = False
    ) -> None:
        """One figure; ``reduced``: measured at less than the target's count."""
        verdict = "n/a" if ok is None else ("PASS" if ok else "FAIL")
        if reduced and ok:
            verdict = "ok (reduced count)"
        self.figures.append(Figure(what, value, target, verdict))

    def print(self) -> None:
        print("\n== figures vs targets ==")
        width = max(len(f.what) for f in self.figures)
        vwidth = max(len(f.value) for f in self.figures)
        for f in self.figures:
            print(f"{f.what:<{width}}  {f.value:>{vwidth}}  {f.target:<22} {f.verdict}")


# ---- throughput ----------------------------------------------------------------------------
@dataclass(frozen=True)
class LoadResult:
    ops: int
    seconds: float
    latencies_ms: list[float]
    seqs: list[int]

    @property
    def rate(self) -> float:
        return self.ops / self.seconds

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p99_ms(self) -> float:
        return pct(self.latencies_ms, 0.99)


def run_load(
    threads: int,
    seconds: float,
    append: Callable[[AuditEvent], int],
    *,
    rate: float | None = None,
) -> LoadResult:
    """``threads`` threads calling ``append`` for ``seconds``; every call's latency.

    Closed loop by default (each thread submits again as soon as it is answered). With
    ``rate``, open loop: the threads together offer ``rate`` calls/s on a fixed schedule, and a
    call's latency counts from its submission (a thread behind schedule submits at once).
    """
    per_thread: list[list[float]] = [[] for _ in range(threads)]
    seqs: list[list[int]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []
    start = threading.Barrier(threads + 1)
    stop = threading.Event()
    interval = threads / rate if rate else 0.0

    def body(k: int) -> None:
        lat, got, i = per_thread[k], seqs[k], k * 10_000_000
        try:
            start.wait()
            due = time.perf_counter() + interval * k / threads
            while not stop.is_set():
                if interval:
                    delay = due - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                    due += interval
                event = consultation(i)
                t0 = time.perf_counter()
                seq = append(event)
                lat.append((time.perf_counter() - t0) * 1000.0)
                got.append(seq)
                i += 1
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=body, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    start.wait()
    t0 = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise errors[0]
    latencies = [x for lat in per_thread for x in lat]
    return LoadResult(len(latencies), elapsed, latencies, [s for got in seqs for s in got])


def bench_throughput(args: argparse.Namespace, work: Path, report: Report) -> None:
    print(
        f"\n== throughput: durable audit appends, SQLite WAL synchronous=FULL, {args.seconds:g} s "
        "each =="
    )
    print(
        f"{'mode':<34} {'threads':>7} {'appends/s':>10} {'median ms':>10} {'p99 ms':>8} "
        f"{'batch':>6}  check"
    )
    baseline_rate = 0.0
    configs: list[tuple[str, int, float | None]] = [
        ("single", t, None) for t in args.baseline_threads
    ]
    configs += [("group", t, None) for t in args.group_threads]
    if args.paced_rate:
        configs.append(("group", args.paced_threads, args.paced_rate))
    for mode, threads, rate in configs:
        target = work / f"throughput-{mode}-{threads}"
        log = open_log(target)
        batch = "1"
        if mode == "single":

            def single(event: AuditEvent, log: AuditLog = log) -> int:
                with log.store.transaction() as conn:
                    return log.append(conn, event)

            result = run_load(threads, args.seconds, single)
            label = "one append per transaction"
            baseline_rate = max(baseline_rate, result.rate)
        else:
            with GroupCommitter(log, max_batch=args.max_batch, max_wait=args.max_wait) as gc:
                result = run_load(threads, args.seconds, gc.submit, rate=rate)
                stats = gc.stats
            batch = f"{stats.mean_batch:.1f}"
            label = "GroupCommitter" if rate is None else f"GroupCommitter, {rate:,.0f}/s offered"
        entries = log.verify().entries
        ok = sorted(result.seqs) == list(range(1, result.ops + 1)) and entries == result.ops
        log.store.close()
        shutil.rmtree(target, ignore_errors=True)
        print(
            f"{label:<34} {threads:>7} {result.rate:>10,.0f} {result.median_ms:>10.2f} "
            f"{result.p99_ms:>8.2f} {batch:>6}  {'verified, contiguous' if ok else 'BROKEN'}",
            flush=True,
        )
        if mode == "group":
            name = f"{threads} threads" if rate is None else f"{rate:,.0f}/s offered"
            # Open loop: the offered rate must be >= 1,000/s and served (within 2%).
            served = result.rate >= 1000 if rate is None else result.rate >= 0.98 * rate >= 980
            report.add(
                f"group commit, {name}: appends/s",
                f"{result.rate:,.0f}",
                ">= 1,000",
                served and ok,
            )
            report.add(
                f"group commit, {name}: p99 commit",
                f"{result.p99_ms:.2f} ms",
                "<= 5 ms",
                result.p99_ms <= 5.0,
            )
    if baseline_rate:
        report.add(
            "one append per transaction: appends/s", f"{baseline_rate:,.0f}", "(baseline)", None
        )


# ---- verify --------------------------------------------------------------------------------
def build_log(target: Path, entries: int, batch: int) -> tuple[int, float]:
    """Make sure the log at ``target`` has ``entries`` entries: (entries added, seconds)."""
    log = open_log(target)
    with log.store.engine.connect() as conn:
        have = int(conn.execute(select(audit_head.c.size)).scalar() or 0)
    start = time.perf_counter()
    done = have
    while done < entries:
        n = min(batch, entries - done)
        events = [consultation(done + i) for i in range(n)]
        with log.store.transaction() as conn:
            log.append_many(conn, events)
        done += n
        if done % (batch * 50) == 0:
            rate = (done - have) / (time.perf_counter() - start)
            print(f"   built {done:,} entries ({rate:,.0f}/s)", flush=True)
    seconds = time.perf_counter() - start
    log.store.close()
    return done - have, seconds


def bench_verify(args: argparse.Namespace, work: Path, report: Report) -> None:
    n = args.verify_entries
    target = args.verify_db or work / f"verify-{n}"
    print(f"\n== verify: AuditLog.verify() over {n:,} entries (SQLite) ==", flush=True)
    added, built = build_log(target, n, args.build_batch)
    if added:
        print(
            f"   appended {added:,} entries in {built:.1f} s ({added / built:,.0f}/s, append_many)"
        )
    times: list[float] = []
    for run in range(args.verify_repeats):
        log = open_log(target)
        if args.profile and run == 0:
            profile = cProfile.Profile()
            profile.enable()
        start = time.perf_counter()
        result = log.verify()
        seconds = time.perf_counter() - start
        if args.profile and run == 0:
            profile.disable()
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(12)
            print(out.getvalue())
            print("   (the profiled run is not counted)")
        else:
            times.append(seconds)
        log.store.close()
        assert result.entries == n, (result.entries, n)
        print(f"   run {run + 1}: {seconds:.2f} s, {n / seconds:,.0f} entries/s", flush=True)
    if not times:
        return
    seconds = statistics.median(times)
    rate = n / seconds
    projected = TEN_MILLION / rate
    print(f"{'entries':>12} {'median s':>9} {'entries/s':>11} {'10M projected s':>16}")
    print(f"{n:>12,} {seconds:>9.2f} {rate:>11,.0f} {projected:>16.1f}")
    report.add("verify: entries/s", f"{rate:,.0f}", ">= 166,667", rate >= TEN_MILLION / 60)
    what = "verify 10M: seconds" if n >= TEN_MILLION else "verify 10M: projected s"
    report.add(what, f"{TEN_MILLION / rate:.1f}", "<= 60 s", projected <= 60)
    if args.verify_db is None and not args.keep:
        shutil.rmtree(target, ignore_errors=True)


# ---- crash ---------------------------------------------------------------------------------
def child(*argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def bench_crash(args: argparse.Namespace, work: Path, report: Report) -> None:
    runs = args.kill_runs
    print(f"\n== crash: {runs} SIGKILL runs during appends (log_child.py append) ==", flush=True)
    target, key = work / "crash", work / "crash" / "audit-log.key"
    open_log(target).store.close()
    rng = random.Random(20261126)
    acked_total = acked_max = lost = gaps = unacked_present = present = 0
    start = time.perf_counter()
    for run in range(runs):
        proc = child("append", str(target), str(key), "1000000")
        assert proc.stdout is not None
        ready = proc.stdout.readline().strip()
        if ready != "ready":
            _, err = proc.communicate()
            raise SystemExit(f"crash run {run}: the child did not start: {err}")
        time.sleep(rng.uniform(0.0, args.kill_max_delay))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        acks = _acks(out)
        log = open_log(target)
        try:
            present = log.verify().entries
        except Exception as exc:  # a gap or any damage: counted, reported
            gaps += 1
            print(f"   run {run}: the log does not verify: {exc}")
            with log.store.engine.connect() as conn:
                present = int(
                    conn.execute(select(func.count()).select_from(audit_events)).scalar() or 0
                )
        log.store.close()
        acked_total += len(acks)
        if acks:
            acked_max = max(acked_max, acks[-1])
        # The log is contiguous 1..present (verify), so acknowledged seqs above it are lost,
        # whichever run acknowledged them.
        lost_now = max(0, acked_max - present)
        lost = max(lost, lost_now)
        if lost_now:
            print(f"   run {run}: {lost_now} acknowledged entries missing (log has {present})")
        unacked_present = present - acked_total  # committed, killed before the ack
        if (run + 1) % 25 == 0:
            print(
                f"   {run + 1} runs, {present:,} entries, {time.perf_counter() - start:.0f} s",
                flush=True,
            )
    seconds = time.perf_counter() - start
    print(f"{'runs':>6} {'acked':>8} {'present':>8} {'lost':>5} {'gaps':>5} {'seconds':>8}")
    print(f"{runs:>6} {acked_total:>8,} {present:>8,} {lost:>5} {gaps:>5} {seconds:>8.1f}")
    print(
        f"   (highest acknowledged seq {acked_max:,}; {unacked_present} entries committed but "
        "killed before their ack was printed: allowed, they were never acknowledged)"
    )
    report.add(
        "crash: SIGKILL runs / lost / gaps",
        f"{runs} / {lost} / {gaps}",
        ">= 200 / 0 / 0",
        lost == 0 and gaps == 0,
        reduced=runs < 200,
    )


# ---- concurrency ---------------------------------------------------------------------------
def bench_concurrency(args: argparse.Namespace, work: Path, report: Report) -> None:
    w, a = args.writers, args.appends
    print(
        f"\n== concurrency: {w} writer processes x {a:,} appends (one transaction each) ==",
        flush=True,
    )
    target, key = work / "concurrency", work / "concurrency" / "audit-log.key"
    open_log(target).store.close()
    start = time.perf_counter()
    procs = [child("append", str(target), str(key), str(a)) for _ in range(w)]
    acks: list[int] = []
    for proc in procs:
        out, err = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"a writer failed: {err}")
        acks += _acks(out)
    seconds = time.perf_counter() - start
    log = open_log(target)
    verified = log.verify()
    log.store.close()
    contiguous = sorted(acks) == list(range(1, w * a + 1))
    exact = contiguous and verified.entries == w * a
    print(
        f"{'writers':>7} {'appends':>8} {'entries':>8} {'checkpoints':>11} {'seconds':>8} "
        f"{'appends/s':>10}  check"
    )
    print(
        f"{w:>7} {a:>8,} {verified.entries:>8,} {verified.checkpoints:>11,} {seconds:>8.1f} "
        f"{w * a / seconds:>10,.0f}  "
        f"{'exactly 1..N, verified' if exact else 'BROKEN'}"
    )
    report.add(
        f"concurrency: {w} x {a:,} -> contiguous",
        f"{verified.entries:,}",
        f"exactly {w * a:,}",
        exact,
        reduced=w * a < 80_000,
    )


# ---- policy --------------------------------------------------------------------------------
def random_requests(n: int, seed: int) -> list[AccessRequest]:
    """Requests uniform over roles, organisations, actions, resources, purposes and flags."""
    rng = random.Random(seed)
    orgs = list(organisations().values())
    roles = [r.value for r in Role]
    actions = list(Action)
    purposes = [p.value for p in Purpose]
    reqs: list[AccessRequest] = []
    for i in range(n):
        action = rng.choice(actions)
        kind = rng.choice(sorted(APPLIES_TO[action]))
        reqs.append(
            AccessRequest(
                user_id=f"user{i}",
                role=rng.choice(roles),
                organisation=rng.choice(orgs),
                action=action.value,
                resource_kind=kind.value,
                resource_id=rng.choice(sorted(RESOURCE_IDS[ResourceKind(kind)])),
                purpose=rng.choice(purposes),
                has_case_ref=rng.random() < 0.5,
                sensitive_step=rng.random() < 0.5,
                vetting_valid=rng.random() < 0.9,
                training_valid=rng.random() < 0.9,
            )
        )
    return reqs


def bench_policy(args: argparse.Namespace, report: Report) -> None:
    n = args.policy_requests
    print(f"\n== policy: Cedar decisions over {n:,} random requests ==", flush=True)
    reqs = random_requests(n, 20261126)
    decide_request(reqs[0])  # load the policies and the schema once
    forget = policy_engine()._memo.clear  # Cedar's own rate: no remembered decisions
    single = reqs[: args.policy_single]
    forget()
    start = time.perf_counter()
    for req in single:
        decide_request(req)
    single_rate = len(single) / (time.perf_counter() - start)
    rates: list[float] = []
    for _ in range(3):
        forget()
        start = time.perf_counter()
        decided = decide_many(reqs)
        rates.append(n / (time.perf_counter() - start))
    batch_rate = statistics.median(rates)
    start = time.perf_counter()  # again, now remembered (what a running server sees)
    decide_many(reqs)
    memo_rate = n / (time.perf_counter() - start)
    allowed = sum(d.allowed for d in decided)
    distinct = len(
        {
            (
                r.role,
                r.organisation,
                r.action,
                r.resource_kind,
                r.resource_id,
                r.purpose,
                r.has_case_ref,
                r.sensitive_step,
                r.vetting_valid,
                r.training_valid,
            )
            for r in reqs
        }
    )
    print(f"{'call':<16} {'requests':>9} {'decisions/s':>12}")
    print(f"{'decide_request':<16} {len(single):>9,} {single_rate:>12,.0f}")
    print(
        f"{'decide_many':<16} {n:>9,} {batch_rate:>12,.0f}  (median of 3; {distinct:,} distinct, "
        f"{allowed:,} allowed)"
    )
    print(f"{'remembered':<16} {n:>9,} {memo_rate:>12,.0f}  (the same requests again)")
    report.add("policy: decide_request/s", f"{single_rate:,.0f}", "(no target)", None)
    report.add("policy: decide_many/s", f"{batch_rate:,.0f}", "(no target)", None)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--workdir", type=Path, help="where the logs go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the logs afterwards")
    add = parser.add_argument_group("throughput").add_argument
    add("--seconds", type=float, default=5.0, help="length of each load (default 5)")
    add("--baseline-threads", type=int, nargs="*", default=[1, 8])
    add("--group-threads", type=int, nargs="*", default=[8, 16, 32])
    add("--paced-rate", type=float, default=1000.0, help="open-loop offered rate; 0: none")
    add("--paced-threads", type=int, default=32)
    add("--max-batch", type=int, default=256)
    add("--max-wait", type=float, default=0.002)
    add = parser.add_argument_group("verify").add_argument
    add("--verify-entries", type=int, default=1_000_000)
    add("--verify-repeats", type=int, default=3, help="timed runs, median reported")
    add("--verify-db", type=Path, help="reuse (or build and keep) the log in this data dir")
    add("--build-batch", type=int, default=10_000)
    add("--profile", action="store_true", help="cProfile one extra verify run")
    add = parser.add_argument_group("crash").add_argument
    add("--kill-runs", type=int, default=50)
    add("--kill-max-delay", type=float, default=0.25, help="kill within this many seconds")
    add = parser.add_argument_group("concurrency").add_argument
    add("--writers", type=int, default=8)
    add("--appends", type=int, default=1_000)
    add = parser.add_argument_group("policy").add_argument
    add("--policy-requests", type=int, default=100_000)
    add("--policy-single", type=int, default=5_000, help="requests decided one at a time")
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="leds-bench-audit-"))
    work.mkdir(parents=True, exist_ok=True)
    report = Report()
    started = time.perf_counter()
    try:
        if "throughput" in args.only:
            bench_throughput(args, work, report)
        if "verify" in args.only:
            bench_verify(args, work, report)
        if "crash" in args.only:
            bench_crash(args, work, report)
        if "concurrency" in args.only:
            bench_concurrency(args, work, report)
        if "policy" in args.only:
            bench_policy(args, report)
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    if report.figures:
        report.print()
    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
