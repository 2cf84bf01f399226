"""Benchmark: generate and ingest synthetic worlds; print persons/s, records/s and peak RSS.

    python bench/world.py                       # 100k and 1M persons, generate + ingest
    python bench/world.py --sizes 12600000 --generate-only   # the national-scale RSS check

Targets (2 cores): 1M persons generated in <= 2 min; ingest >= 50,000 records/s into SQLite;
12.6M persons generated with peak RSS <= 4 GB. Each step runs in a child process so that its
peak RSS (the largest of that process and its workers) is measured on its own.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

GENERATE = """
import sys
from pathlib import Path
from leds.synth import generate_world
generate_world(Path(sys.argv[1]), int(sys.argv[2]), 1, workers=int(sys.argv[3]))
"""

INGEST = """
import json, sys
from pathlib import Path
from leds.governance.authn import AuthenticatedUser
from leds.governance.identity import Actor, PurposeStatement
from leds.service import Service
service = Service.open(Path(sys.argv[2]))
actor = AuthenticatedUser(Actor("bench", "data-steward", "LEDS"), True, True, "password")
purpose = PurposeStatement.of("admin-process", "benchmark of the import path")
totals = {"read": 0, "inserted": 0, "rejected": 0}
for source in ("pnc", "pnd", "dvla", "iabs"):
    s = service.import_source(actor, purpose, source, Path(sys.argv[1]) / source).value
    for k in totals:
        totals[k] += getattr(s, k)
print(json.dumps(totals))
"""


PEAK = """
import resource as _r
_peaks = (_r.getrusage(_r.RUSAGE_SELF).ru_maxrss, _r.getrusage(_r.RUSAGE_CHILDREN).ru_maxrss)
print("PEAK", max(_peaks))
"""


def run_child(code: str, *args: str) -> tuple[float, float, str]:
    """Run code in a fresh interpreter: (seconds, peak RSS in MiB of the largest of it and its
    workers, what it printed)."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code + PEAK, *args], check=True, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    lines = done.stdout.strip().splitlines()
    peak_kib = int(lines[-1].split()[1])
    return seconds, peak_kib / 1024, "\n".join(lines[:-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the generated worlds")
    args = parser.parse_args()
    print(f"{'persons':>10} {'step':>9} {'seconds':>8} {'rate':>16} {'peak RSS':>10}")
    for persons in args.sizes:
        world = args.out / f"world-{persons}"
        data = args.out / f"data-{persons}"
        shutil.rmtree(world, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)
        secs, rss, _ = run_child(GENERATE, str(world), str(persons), str(args.workers))
        print(
            f"{persons:>10,} {'generate':>9} {secs:>8.1f} {persons / secs:>10,.0f} pers/s "
            f"{rss:>7,.0f} MiB",
            flush=True,
        )
        manifest = json.loads((world / "manifest.json").read_text())
        print(f"{'':>10} manifest counts: {json.dumps(manifest.get('counts', {}))[:300]}")
        if not args.generate_only:
            secs, rss, stdout = run_child(INGEST, str(world), str(data))
            totals = json.loads(stdout.strip().splitlines()[-1])
            print(
                f"{persons:>10,} {'ingest':>9} {secs:>8.1f} {totals['read'] / secs:>10,.0f} "
                f"recs/s {rss:>7,.0f} MiB  ({totals['read']:,} read, "
                f"{totals['inserted']:,} inserted, {totals['rejected']:,} rejected)",
                flush=True,
            )
        if not args.keep:
            shutil.rmtree(world, ignore_errors=True)
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
