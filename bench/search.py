"""Benchmark: person, partial-plate and identifier search against brute-force baselines; prints
figures (issue #5).

    flock /tmp/leds-heavy.lock .venv/bin/python bench/search.py --persons 100000
    flock /tmp/leds-heavy.lock .venv/bin/python bench/search.py --persons 1000000 --dir /tmp/sb1m
    # reuse a world another bench generated (its store is not touched):
    ... bench/search.py --persons 1000000 --world /tmp/l1-1m/world --dir /tmp/sb1m

Stages: a synthetic world (generated once per ``--dir``, reused), imported through the one door
into SQLite; persons linked from the ground truth (so the figures measure search, not the
linkage model); search indexes built (time, size on disk from ``dbstat``); then

* person queries generated from the ground truth with realistic noise: each takes one source
  record of a true person and applies a name noise (none, a one-letter typo in the surname, a
  nickname/transliteration variant of the forename from the project's variant table, surname
  and forename swapped) and a date noise (full date of birth, or year only); recall@1 and
  recall@10 of the true *person*, latency p50/p99 of ``search_persons`` (limit 10);
* the baseline: a rapidfuzz ``WRatio`` scan over every indexed name (same year filter applied
  to its top 500), its latency and recall@10;
* partial plates (two ``?``; a 3-character prefix and ``*``; ``*`` + 3-4 middle characters +
  ``*``; a full mark with a confusable character swapped): is the true vehicle among the
  results, latency p50/p99 (limit 20), against a ``LIKE`` scan over all DVLA marks (which
  cannot fold confusables);
* identifier lookup latency (PNC IDs in display form, driving licence numbers).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
from rapidfuzz import fuzz, process
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from actors import STEWARD
from leds.governance.identity import PurposeStatement
from leds.link import index as link_index
from leds.link.names import name_variants
from leds.search.identifiers import lookup_identifier
from leds.search.index import build_indexes
from leds.search.persons import PersonQuery, search_persons
from leds.search.vehicles import VehicleQuery, search_vehicles
from leds.service import Service
from leds.synth import generate_world

PURPOSE = PurposeStatement.of("admin-process", "benchmarking search on a synthetic world")
SOURCES = ("pnc", "pnd", "dvla", "iabs")
console = Console()


def _pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - start) * 1000


def prepare(
    root: Path, persons: int, seed: int, world: Path | None = None
) -> tuple[Service, dict[int, str]]:
    world = world or root / "world"
    if not (world / "manifest.json").exists():
        _, ms = _timed(lambda: generate_world(world, persons, seed, workers=2))
        console.print(f"world: {persons:,} persons generated in {ms / 1000:.0f} s")
    service = Service.open(root / "data")
    store = service._store
    with store.engine.connect() as conn:
        done = {
            r[0] for r in conn.execute(text("SELECT source FROM imports WHERE status='complete'"))
        }
    for source in SOURCES:
        if source not in done:
            _, ms = _timed(lambda s=source: service.import_source(STEWARD, PURPOSE, s, world / s))
            console.print(f"import {source}: {ms / 1000:.0f} s")
    truth = _truth(world, store)
    with store.engine.connect() as conn:
        linked = conn.execute(text("SELECT count(*) FROM person_records")).scalar_one()
        indexed = conn.execute(text("SELECT count(*) FROM search_person_rows")).scalar_one()
    if not linked:
        _, ms = _timed(lambda: _link(store, truth))
        console.print(f"persons linked from the ground truth in {ms / 1000:.0f} s")
    if not indexed:
        with store.transaction() as conn, Progress(console=console) as bar:
            n = conn.execute(
                text("SELECT count(*) FROM records WHERE kind IN "
                     "('person','vehicle','property','intel')")
            ).scalar_one()  # fmt: skip
            task = bar.add_task("build_indexes", total=n)
            stats, ms = _timed(lambda: build_indexes(conn, progress=lambda k: bar.advance(task, k)))
        console.print(
            f"indexes built in {ms / 1000:.0f} s: {stats.records_read:,} records, "
            f"{stats.keys_written:,} keys ({stats.records_read / (ms / 1000):,.0f} records/s)"
        )
    return service, truth


def _truth(world: Path, store: Any) -> dict[int, str]:
    keys: dict[tuple[str, str], str] = {}
    for part in sorted((world / "truth").glob("truth-*.csv")):
        with part.open(newline="") as fh:
            for r in csv.DictReader(fh):
                if r["kind"] == "person":
                    keys[(r["source"], r["source_record_id"])] = r["person_id"]
    out: dict[int, str] = {}
    with store.engine.connect() as conn:
        for rid, source, key in conn.execute(
            text("SELECT id, source, source_record_id FROM records WHERE kind = 'person'")
        ):
            pid = keys.get((source, key))
            if pid is not None:
                out[int(rid)] = pid
    return out


def _link(store: Any, truth: dict[int, str]) -> None:
    by_person: dict[str, list[int]] = {}
    for rid, pid in sorted(truth.items()):
        by_person.setdefault(pid, []).append(rid)
    left = [a for ids in by_person.values() for a in ids[:-1]]
    right = [b for ids in by_person.values() for b in ids[1:]]
    pairs = pa.table({
        "id_l": pa.array(left, pa.int64()), "id_r": pa.array(right, pa.int64()),
        "match_weight": pa.array([20.0] * len(left)),
        "match_probability": pa.array([1.0] * len(left)),
    })  # fmt: skip
    with store.transaction() as conn:
        run = link_index.start_run(
            conn, kind="full", model_version="truth", threshold=0.9, actor_id="bench"
        )
        outcome = link_index.cluster_full(conn, run, sorted(truth), pairs, threshold=0.9)
        link_index.finish_run(conn, run, outcome)


def index_size(store: Any) -> dict[str, int]:
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT name, sum(pgsize) FROM dbstat WHERE name LIKE 'search%' OR name LIKE "
            "'ix_search%' OR name LIKE 'sqlite_autoindex_search%' GROUP BY name"
        ).all()
    return {str(n): int(s) for n, s in rows}


# --------------------------------------------------------------------------------------------
# Person queries
# --------------------------------------------------------------------------------------------


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("sub", "del", "swap", "dup"))
    if kind == "sub":
        return word[:i] + rng.choice("AEIOURSTLN") + word[i + 1 :]
    if kind == "del":
        return word[:i] + word[i + 1 :]
    if kind == "dup":
        return word[:i] + word[i] + word[i:]
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]


def person_queries(
    store: Any, truth: dict[int, str], n: int, seed: int
) -> list[tuple[PersonQuery, str, str]]:
    rng = random.Random(seed)
    ids = rng.sample(sorted(truth), min(n * 2, len(truth)))
    rows: dict[int, Any] = {}
    with store.engine.connect() as conn:
        for start in range(0, len(ids), 900):
            part = ids[start : start + 900]
            sql = ("SELECT id, surname, forenames, dob FROM records WHERE id IN ("
                   + ",".join(map(str, part)) + ")")  # fmt: skip
            rows.update({int(r.id): r for r in conn.execute(text(sql))})
    out: list[tuple[PersonQuery, str, str]] = []
    for rid in ids:
        r = rows.get(rid)
        if r is None or not r.surname or not r.forenames or r.dob is None:
            continue
        surname, forename = r.surname, r.forenames.split(" ")[0]
        noise = rng.choice(("none", "typo", "variant", "swap"))
        if noise == "typo":
            surname = _typo(rng, surname)
        elif noise == "variant":
            variants = sorted(v for v in name_variants(forename) if v != forename)
            if variants:
                forename = rng.choice(variants)
            else:
                noise = "typo-forename"
                forename = _typo(rng, forename)
        elif noise == "swap":
            surname, forename = forename, surname
        dob = r.dob if isinstance(r.dob, date) else date.fromisoformat(str(r.dob))
        if rng.random() < 0.5:
            q = PersonQuery(surname=surname, forenames=forename, dob=dob, limit=10)
            label = f"{noise}+dob"
        else:
            q = PersonQuery(surname=surname, forenames=forename, year=dob.year, limit=10)
            label = f"{noise}+year"
        out.append((q, truth[rid], label))
        if len(out) >= n:
            break
    return out


def bench_persons(service: Any, truth: dict[int, str], n: int, seed: int, baseline_n: int) -> None:
    store = service._store
    queries = person_queries(store, truth, n, seed)
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT record_id, person_id FROM person_records")).all()
    person_of = {int(r): p for r, p in rows}
    true_pid = {t: person_of[r] for r, t in truth.items() if r in person_of}
    hits1 = hits10 = 0
    times: list[float] = []
    by_label: dict[str, list[int]] = {}
    with store.engine.connect() as conn:
        search_persons(conn, queries[0][0])  # warm caches
        for q, t, label in queries:
            res, ms = _timed(lambda q=q: search_persons(conn, q))
            times.append(ms)
            ranks = [h.person_id for h in res.hits]
            want = true_pid.get(t)
            r1 = bool(ranks[:1]) and ranks[0] == want
            r10 = want in ranks[:10]
            hits1 += r1
            hits10 += r10
            by_label.setdefault(label, [0, 0])
            by_label[label][0] += r10
            by_label[label][1] += 1
    # baseline: rapidfuzz scan over every indexed name (nominals and aliases)
    with store.engine.connect() as conn:
        names = conn.execute(
            text("SELECT owner_id, coalesce(forenames,'') || ' ' || coalesce(surname,''), yob "
                 "FROM search_person_rows")
        ).all()  # fmt: skip
    choices = [n_[1] for n_ in names]
    b_times: list[float] = []
    b_hits = 0
    for q, t, _label in queries[:baseline_n]:
        qname = f"{q.forenames} {q.surname}"
        year = q.dob.year if q.dob else q.year
        found, ms = _timed(
            lambda qname=qname: process.extract(qname, choices, scorer=fuzz.WRatio, limit=500)
        )
        b_times.append(ms)
        top = [names[i] for _s, _score, i in found if names[i][2] == year][:10]
        b_hits += true_pid.get(t) in {person_of.get(int(o)) for o, _n, _y in top}
    table = Table(title=f"person search ({len(queries):,} queries, {len(names):,} names)")
    for col in ("measure", "leds search", f"rapidfuzz scan ({len(b_times)} queries)"):
        table.add_column(col)
    table.add_row("recall@1", f"{hits1 / len(queries):.4f}", "")
    table.add_row(
        "recall@10", f"{hits10 / len(queries):.4f}", f"{b_hits / max(1, len(b_times)):.4f}"
    )
    p50, p99 = _pct(times, 0.5), _pct(times, 0.99)
    b50, b99 = _pct(b_times, 0.5), _pct(b_times, 0.99)
    table.add_row("p50 ms", f"{p50:.2f}", f"{b50:.1f}  (ratio {b50 / p50:,.0f}x)")
    table.add_row("p99 ms", f"{p99:.2f}", f"{b99:.1f}  (ratio {b99 / p99:,.0f}x)")
    console.print(table)
    console.print(
        "recall@10 by noise: "
        + ", ".join(f"{k} {v[0] / v[1]:.3f} (n={v[1]})" for k, v in sorted(by_label.items()))
    )


# --------------------------------------------------------------------------------------------
# Plates and identifiers
# --------------------------------------------------------------------------------------------

_SWAP = str.maketrans("O0I1S5B8Z2", "0O1I5S8B2Z")


def plate_pattern(rng: random.Random, vrm: str) -> tuple[str, str]:
    kind = rng.choice(("two-?", "prefix-*", "*-middle-*", "confusable"))
    if kind == "two-?":
        i, j = sorted(rng.sample(range(len(vrm)), 2))
        return kind, vrm[:i] + "?" + vrm[i + 1 : j] + "?" + vrm[j + 1 :]
    if kind == "prefix-*":
        return kind, vrm[:3] + "*"
    if kind == "*-middle-*":
        k = rng.choice((3, 4))
        i = rng.randrange(0, len(vrm) - k + 1)
        return kind, "*" + vrm[i : i + k] + "*"
    swappable = [i for i, c in enumerate(vrm) if c in "O0I1S5B8Z2"]
    if not swappable:
        return "full", vrm
    i = rng.choice(swappable)
    return kind, vrm[:i] + vrm[i].translate(_SWAP) + vrm[i + 1 :]


def _like(pattern: str) -> str:
    return pattern.replace("?", "_").replace("*", "%")


def bench_plates(service: Any, n: int, seed: int, baseline_n: int) -> None:
    store = service._store
    rng = random.Random(seed)
    with store.engine.connect() as conn:
        vrms = [
            r[0] for r in conn.execute(
                text("SELECT source_record_id FROM records WHERE source='dvla' AND kind='vehicle'")
            )
        ]  # fmt: skip
    sample = rng.sample(vrms, min(n, len(vrms)))
    times: list[float] = []
    found_all = 0
    totals: list[int] = []
    kinds: dict[str, list[int]] = {}
    b_times: list[float] = []
    b_found = 0
    with store.engine.connect() as conn:
        for i, vrm in enumerate(sample):
            kind, pattern = plate_pattern(rng, vrm)
            res, ms = _timed(lambda p=pattern: search_vehicles(conn, VehicleQuery(vrm=p)))
            times.append(ms)
            totals.append(res.total)
            every = search_vehicles(conn, VehicleQuery(vrm=pattern, limit=100_000))
            ok = vrm in {h.vrm for h in every.hits}
            found_all += ok
            kinds.setdefault(kind, [0, 0])
            kinds[kind][0] += ok
            kinds[kind][1] += 1
            if i < baseline_n:
                rows, bms = _timed(
                    lambda p=pattern: conn.execute(
                        text("SELECT source_record_id FROM records WHERE source='dvla' AND "
                             "kind='vehicle' AND source_record_id LIKE :p"),
                        {"p": _like(p)},
                    ).all()
                )  # fmt: skip
                b_times.append(bms)
                b_found += vrm in {r[0] for r in rows}
    table = Table(title=f"partial plates ({len(sample):,} queries over {len(vrms):,} vehicles)")
    for col in ("measure", "leds search", f"LIKE scan ({len(b_times)} queries)"):
        table.add_column(col)
    table.add_row(
        "true vehicle found",
        f"{found_all / len(sample):.4f}",
        f"{b_found / max(1, len(b_times)):.4f}",
    )
    p50, p99 = _pct(times, 0.5), _pct(times, 0.99)
    b50, b99 = _pct(b_times, 0.5), _pct(b_times, 0.99)
    table.add_row("p50 ms", f"{p50:.2f}", f"{b50:.1f}  (ratio {b50 / p50:,.0f}x)")
    table.add_row("p99 ms", f"{p99:.2f}", f"{b99:.1f}  (ratio {b99 / p99:,.0f}x)")
    table.add_row("matches per query (median)", f"{statistics.median(totals):.0f}", "")
    console.print(table)
    console.print(
        "found by pattern kind: "
        + ", ".join(f"{k} {v[0] / v[1]:.4f} (n={v[1]})" for k, v in sorted(kinds.items()))
    )


def bench_identifiers(service: Any, n: int, seed: int) -> None:
    store = service._store
    rng = random.Random(seed)
    with store.engine.connect() as conn:
        pnc = [
            r[0]
            for r in conn.execute(
                text("SELECT pnc_id FROM records WHERE kind='person' AND source='pnc'")
            )
        ]
        drivers = [
            r[0]
            for r in conn.execute(
                text("SELECT driver_number FROM records WHERE kind='person' AND source='dvla'")
            )
        ]
    values = [v[2:] for v in rng.sample(pnc, min(n, len(pnc)))]  # display form
    values += rng.sample(drivers, min(n, len(drivers)))
    times = []
    found = 0
    with store.engine.connect() as conn:
        for v in values:
            res, ms = _timed(lambda v=v: lookup_identifier(conn, v))
            times.append(ms)
            found += bool(res.records)
    console.print(
        f"identifier lookup ({len(values):,}): found {found / len(values):.4f}, "
        f"p50 {_pct(times, 0.5):.2f} ms, p99 {_pct(times, 0.99):.2f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--queries", type=int, default=1_000)
    ap.add_argument("--baseline-queries", type=int, default=50)
    ap.add_argument("--plates", type=int, default=1_000)
    ap.add_argument("--dir", type=Path, default=None, help="keep the world here (reused)")
    ap.add_argument(
        "--world", type=Path, default=None, help="an existing world to import (read only)"
    )
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="leds-bench-search-") as tmp:
        root = args.dir or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        service, truth = prepare(root, args.persons, args.seed, args.world)
        if args.world is not None:  # the world's own size, for the per-person figures
            manifest = json.loads((args.world / "manifest.json").read_text())
            args.persons = int(manifest["persons"])
        sizes = index_size(service._store)
        total = sum(sizes.values())
        console.print(
            f"search index size on disk: {total / 2**20:,.1f} MiB "
            f"({total / max(1, args.persons):,.0f} bytes per person; projected at 12.6M "
            f"persons: {total / max(1, args.persons) * 12.6e6 / 2**30:,.1f} GiB); "
            + ", ".join(f"{k} {v / 2**20:,.1f}" for k, v in sorted(sizes.items()))
        )
        bench_persons(service, truth, args.queries, args.seed, args.baseline_queries)
        bench_plates(service, args.plates, args.seed, args.baseline_queries)
        bench_identifiers(service, 500, args.seed)
        service.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
