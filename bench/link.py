"""Linkage benchmark: quality (pairwise P/R/F1 per source pair and per noise type), harder noise,
time and memory end to end, and incremental attach against a full re-run.

    .venv/bin/python bench/link.py --persons 20000              # quality + timing, one size
    flock /tmp/leds-heavy.lock .venv/bin/python bench/link.py --persons 100000 --hard --incremental
    flock /tmp/leds-heavy.lock .venv/bin/python bench/link.py --persons 1000000 --no-quality

Targets (issue #4): default-noise F1 >= 0.995; harder >= 0.98; 1M persons linked <= 5 min;
a 10,000-record import attached <= 30 s with the same decisions as a full re-run on >= 99.5%.
"""

from __future__ import annotations

import argparse
import csv
import resource
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select

from leds.governance.authn import AuthenticatedUser
from leds.governance.identity import Actor, PurposeStatement
from leds.service import Service
from leds.store.schema import records
from leds.synth import generate_world
from leds.synth import noise as synth_noise

STEWARD = AuthenticatedUser(Actor("bench-steward", "data-steward", "LEDS"), True, True, "password")
PURPOSE = PurposeStatement.of("admin-process", "linkage benchmark on a synthetic world")
SOURCES = ("pnc", "pnd", "dvla", "iabs")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def say(msg: str) -> None:
    print(msg, flush=True)


def harder_noise() -> None:
    """More transliteration, typos and missing DOBs everywhere (identifiers dropped later)."""
    for source, prof in list(synth_noise.NOISE.items()):
        synth_noise.NOISE[source] = replace(
            prof,
            typo=min(0.2, prof.typo * 3 + 0.02),
            nickname=min(0.3, prof.nickname * 2 + 0.02),
            transliteration=min(0.9, prof.transliteration * 2 + 0.2),
            swap=prof.swap * 2,
            dob_swap=prof.dob_swap * 2 + 0.01,
            dob_partial=prof.dob_partial * 2 + 0.02,
            dob_missing=prof.dob_missing + 0.05,
            stale_address=min(0.5, prof.stale_address * 2),
        )


def load_truth(world: Path) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for part in sorted((world / "truth").glob("truth-*.csv")):
        with part.open(newline="") as fh:
            for r in csv.DictReader(fh):
                if r["kind"] == "person":
                    out[(r["source"], r["source_record_id"])] = r["person_id"]
    return out


def build(world: Path, data: Path, persons: int, seed: int, sources: tuple[str, ...]) -> Service:
    t = time.perf_counter()
    if not (world / "manifest.json").exists():
        generate_world(world, persons, seed, workers=1 if persons <= 20_000 else 2)
    say(f"  world of {persons:,} persons generated in {time.perf_counter() - t:.1f}s")
    t = time.perf_counter()
    service = Service.open(data)
    for s in sources:
        service.import_source(STEWARD, PURPOSE, s, world / s)
    say(f"  imported {', '.join(sources)} in {time.perf_counter() - t:.1f}s")
    return service


def pair_counts(groups: dict[Any, Counter[str]]) -> Counter[tuple[str, str]]:
    """Number of record pairs per source pair within each group, summed."""
    out: Counter[tuple[str, str]] = Counter()
    for c in groups.values():
        items = sorted(c.items())
        for i, (a, na) in enumerate(items):
            out[(a, a)] += na * (na - 1) // 2
            for b, nb in items[i + 1 :]:
                out[(a, b)] += na * nb
    return out


def quality(
    predicted: dict[int, Any], truth: dict[int, str], source: dict[int, str]
) -> dict[tuple[str, str] | str, tuple[float, float, float, int]]:
    by_pred: dict[Any, Counter[str]] = defaultdict(Counter)
    by_truth: dict[Any, Counter[str]] = defaultdict(Counter)
    by_both: dict[Any, Counter[str]] = defaultdict(Counter)
    for rid, p in predicted.items():
        s = source[rid]
        by_pred[p][s] += 1
        by_truth[truth[rid]][s] += 1
        by_both[(p, truth[rid])][s] += 1
    pp, tt, tp = pair_counts(by_pred), pair_counts(by_truth), pair_counts(by_both)
    out: dict[tuple[str, str] | str, tuple[float, float, float, int]] = {}
    for key in sorted(set(tt) | set(pp)):
        out[key] = prf(tp[key], pp[key], tt[key])
    out["all"] = prf(sum(tp.values()), sum(pp.values()), sum(tt.values()))
    return out


def prf(tp: int, pp: int, tt: int) -> tuple[float, float, float, int]:
    p = tp / pp if pp else 1.0
    r = tp / tt if tt else 1.0
    return (p, r, 2 * p * r / (p + r) if p + r else 0.0, tt)


def print_quality(title: str, q: dict[Any, tuple[float, float, float, int]]) -> None:
    say(f"  {title}: pairwise precision / recall / F1 (true pairs)")
    for key, (p, r, f, n) in q.items():
        name = key if isinstance(key, str) else f"{key[0]}-{key[1]}"
        say(f"    {name:<12} P={p:.4f} R={r:.4f} F1={f:.4f} ({n:,})")


def differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The kinds of noise separating two records of one person (as far as visible)."""
    out = []
    if a["surname"] == b["forename1"] and a["forename1"] == b["surname"]:
        out.append("name swap")
    else:
        for col, keys in (("surname", "surname_keys"), ("forename1", "forename_keys")):
            if a[col] and b[col] and a[col] != b[col]:
                if set(a[keys] or []) & set(b[keys] or []):
                    out.append(f"{col} variant")
                else:
                    out.append(f"{col} other (typo/alias)")
    if a["dob_y"] is None or b["dob_y"] is None:
        out.append("dob missing")
    elif a["dob"] is None or b["dob"] is None:
        out.append("dob partial")
    elif a["dob"] != b["dob"]:
        swapped = a["dob_m"] == b["dob_d"] and a["dob_d"] == b["dob_m"]
        out.append("dob day/month swap" if swapped else "dob other")
    if a["postcode"] and b["postcode"] and a["postcode"] != b["postcode"]:
        out.append("postcode differs")
    if a["source"] == b["source"]:
        out.append("same-source duplicate")
    return out or ["none visible"]


def noise_recall(frame: pa.Table, predicted: dict[int, Any], truth: dict[int, str]) -> None:
    rows = {r["id"]: r for r in frame.to_pylist()}
    members: dict[str, list[int]] = defaultdict(list)
    for rid in predicted:
        members[truth[rid]].append(rid)
    total: Counter[str] = Counter()
    missed: Counter[str] = Counter()
    for ids in members.values():
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                kinds = differences(rows[a], rows[b])
                hit = predicted[a] == predicted[b]
                for k in kinds:
                    total[k] += 1
                    missed[k] += 0 if hit else 1
    say("  recall per noise type (true pairs showing it; missed)")
    for k, n in total.most_common():
        say(f"    {k:<28} recall={1 - missed[k] / n:.4f}  pairs={n:,}  missed={missed[k]:,}")


def union_find(ids: list[int], pairs: pa.Table, threshold: float) -> dict[int, int]:
    parent = {i: i for i in ids}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    kept = pairs.filter(pc.greater_equal(pairs["match_probability"], threshold))
    for a, b in zip(kept["id_l"].to_pylist(), kept["id_r"].to_pylist(), strict=True):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
    return {i: find(i) for i in ids}


def record_info(service: Service, world: Path) -> tuple[dict[int, str], dict[int, str]]:
    t = load_truth(world)
    with service._store.engine.connect() as conn:
        rows = conn.execute(
            select(records.c.id, records.c.source, records.c.source_record_id).where(
                records.c.kind == "person"
            )
        ).all()
    return {int(r.id): t[(r.source, r.source_record_id)] for r in rows}, {
        int(r.id): r.source for r in rows
    }


def run_default(args: argparse.Namespace, root: Path) -> None:
    # Imported late on purpose: a queued benchmark links with the code as it is by then.
    from leds.link import index
    from leds.link.frame import read_person_frame
    from leds.link.run import link_full

    n = args.persons
    say(f"== default noise, {n:,} persons (seed {args.seed})")
    service = build(root / "world", root / "data", n, args.seed, SOURCES)
    store = service._store
    t = time.perf_counter()
    res = link_full(store, root / "data", actor_id="bench", threshold=args.threshold, seed=1)
    total = time.perf_counter() - t
    say(
        f"  link_full: {res.records:,} records, {res.pairs:,} pairs >= floor, "
        f"{total:.1f}s total ({', '.join(f'{k} {v:.1f}s' for k, v in res.seconds.items())}), "
        f"peak RSS {rss_mb():,.0f} MB"
    )
    if args.no_quality:
        return
    truth, source = record_info(service, root / "world")
    with store.engine.connect() as conn:
        predicted: dict[int, Any] = dict(index.persons_of(conn, list(truth)))
        frame = read_person_frame(conn)
    print_quality(f"person index at threshold {args.threshold}", quality(predicted, truth, source))
    noise_recall(frame, predicted, truth)
    store.close()


def run_hard(args: argparse.Namespace, root: Path) -> None:
    from leds.link.frame import read_person_frame
    from leds.link.model import train
    from leds.link.predict import predict

    n = min(args.persons, args.hard_persons)
    say(f"== harder noise, {n:,} persons, no shared identifiers")
    harder_noise()
    service = build(root / "hard-world", root / "hard-data", n, args.seed + 1, SOURCES)
    with service._store.engine.connect() as conn:
        frame = read_person_frame(conn)
    # No shared identifiers: keep only each source's own identifier (PNC IDs off PND).
    frame = frame.set_column(
        frame.schema.get_field_index("pnc_id"),
        "pnc_id",
        pc.if_else(pc.equal(frame["source"], "pnc"), frame["pnc_id"], pa.scalar(None, pa.string())),
    )
    t = time.perf_counter()
    model = train(frame, seed=1)
    pairs = predict(model, frame)
    say(f"  trained + predicted in {time.perf_counter() - t:.1f}s; {pairs.num_rows:,} pairs")
    truth, source = record_info(service, root / "hard-world")
    predicted: dict[int, Any] = union_find(list(truth), pairs, args.threshold)
    print_quality(f"clusters at {args.threshold}", quality(predicted, truth, source))
    noise_recall(frame, predicted, truth)
    service._store.close()


def run_incremental(args: argparse.Namespace, root: Path) -> None:
    from leds.link import index
    from leds.link.run import link_full, link_incremental

    n = args.persons
    say(f"== incremental: iabs import attached to an index of pnc+pnd+dvla ({n:,} persons)")
    service = build(root / "world", root / "inc-data", n, args.seed, ("pnc", "pnd", "dvla"))
    store = service._store
    full = link_full(store, root / "inc-data", actor_id="bench", threshold=args.threshold, seed=1)
    say(f"  base index: {full.records:,} records in {sum(full.seconds.values()):.1f}s")
    summary = service.import_source(STEWARD, PURPOSE, "iabs", root / "world" / "iabs").value
    t = time.perf_counter()
    inc = link_incremental(
        store, root / "inc-data", actor_id="bench", import_ids=[summary.import_id],
        threshold=args.threshold,
    )  # fmt: skip
    took = time.perf_counter() - t
    say(
        f"  attached {inc.records:,} new records in {took:.1f}s "
        f"({', '.join(f'{k} {v:.1f}s' for k, v in inc.seconds.items())})"
    )
    with store.engine.connect() as conn:
        inc_person = index.persons_of(conn, _all_ids(conn))
    rerun = link_full(
        store, root / "inc-data", actor_id="bench", threshold=args.threshold, retrain=False
    )
    with store.engine.connect() as conn:
        full_person = index.persons_of(conn, _all_ids(conn))
    inc_members: dict[str, set[int]] = defaultdict(set)
    full_members: dict[str, set[int]] = defaultdict(set)
    for r, p in inc_person.items():
        inc_members[p].add(r)
    for r, p in full_person.items():
        full_members[p].add(r)
    same = sum(
        inc_members[inc_person[rid]] == full_members[full_person[rid]] for rid in inc.record_ids
    )
    say(
        f"  same decision as the full re-run ({sum(rerun.seconds.values()):.1f}s): "
        f"{same / len(inc.record_ids):.4f} of {len(inc.record_ids):,} new records"
    )
    store.close()


def _all_ids(conn: Any) -> list[int]:
    return [int(r) for (r,) in conn.execute(select(records.c.id).where(records.c.kind == "person"))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--threshold", type=float, default=0.9)
    ap.add_argument("--hard", action="store_true", help="also a harder-noise world")
    ap.add_argument("--hard-persons", type=int, default=20_000)
    ap.add_argument("--incremental", action="store_true")
    ap.add_argument("--no-quality", action="store_true", help="time and memory only")
    ap.add_argument("--dir", type=Path, default=None, help="keep worlds here (reused)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="leds-bench-link-") as tmp:
        root = args.dir or Path(tmp)
        run_default(args, root)
        if args.hard:
            run_hard(args, root)
        if args.incremental:
            run_incremental(args, root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
