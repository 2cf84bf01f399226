"""Benchmark: face 1:N gallery (fast index vs FAISS exact IndexFlatIP) and the real-image
pipeline; prints the figures.

    python bench/biometrics.py                                # face: pipeline + 1M gallery
    flock /tmp/leds-heavy.lock python bench/biometrics.py --face-sizes 1000000,12600000
    python bench/biometrics.py --shortlists 40000,80000,160000,40000+   # the trade-off

Targets (2 cores, one thread per query): 12.6M synthetic 128-d templates, single-query
top-20 p50 <= 50 ms, recall@20 >= 0.999 against exact search, index RAM <= 2 GiB; FAISS
IndexFlatIP side by side in the same run (its time / ours printed as the ratio).

Templates come from the documented generative model of ``leds.synth.biometrics`` (identity =
normalise(A*mu + B*z), capture = normalise(identity + s*g), s from quality), vectorised in
numpy chunks with chunk-seeded generators (same model and constants; different seeding than
the world generator's per-person generators, so no Python call per template). Each synthetic
person has two captures in the gallery; a probe is a fresh capture of a gallery person.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one query = one thread (BIOMETRICS.md)
os.environ.setdefault("OMP_NUM_THREADS", "1")

PERSON_CHUNK = 500_000  # persons per generation chunk (2 captures each)
FACES = Path(__file__).resolve().parent.parent / ".cache" / "faces"


def _rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _identities(seed: int, chunk: int, persons: int) -> Any:
    import numpy as np

    from leds.synth import biometrics as sb

    rng = np.random.default_rng([seed, chunk, sb.IDENTITY_TAG])
    z = rng.standard_normal((persons, sb.DIM), dtype=np.float32)
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    ident = sb.A * sb.population_mean().astype(np.float32) + sb.B * z
    ident /= np.linalg.norm(ident, axis=1, keepdims=True)
    return ident


def _captures(ident: Any, rng: Any) -> Any:
    import numpy as np

    from leds.synth import biometrics as sb

    quality = rng.integers(35, 100, len(ident))
    s = (sb.SIGMA * np.exp(sb.QUALITY_SLOPE * (70 - quality) / 30)).astype(np.float32)
    x = ident + s[:, None] * rng.standard_normal(ident.shape, dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32)


def build_gallery(directory: Path, size: int, seed: int, progress: Any) -> tuple[Any, float]:
    """Generate ``size`` templates (2 per person) into a gallery; returns it and seconds."""
    import numpy as np

    from leds.biometrics.gallery import FaceGallery, IndexParams

    shutil.rmtree(directory, ignore_errors=True)
    started = time.perf_counter()
    gallery = FaceGallery(directory, params=IndexParams(train_at=2**62))
    persons = (size + 1) // 2
    for chunk, first in enumerate(range(0, persons, PERSON_CHUNK)):
        n = min(PERSON_CHUNK, persons - first)
        ident = _identities(seed, chunk, n)
        rng = np.random.default_rng([seed, chunk, 0xCA97])
        both = np.empty((2 * n, ident.shape[1]), dtype=np.float32)
        both[0::2] = _captures(ident, rng)  # slot 2p and 2p+1 hold person p's captures
        both[1::2] = _captures(ident, rng)
        take = min(2 * n, size - gallery.count)
        gallery.append(both[:take])
        progress(take)
    return gallery, time.perf_counter() - started


def probes(size: int, seed: int, count: int) -> tuple[Any, Any]:
    """Fresh captures of ``count`` random gallery persons, and those persons' slot pairs."""
    import numpy as np

    rng = np.random.default_rng([seed, 99])
    persons = (size + 1) // 2
    chosen = np.sort(rng.choice(min(persons, size // 2), count, replace=False))
    out = np.empty((count, 128), dtype=np.float32)
    for chunk in np.unique(chosen // PERSON_CHUNK):
        first = int(chunk) * PERSON_CHUNK
        n = min(PERSON_CHUNK, persons - first)
        ident = _identities(seed, int(chunk), n)
        here = np.flatnonzero(chosen // PERSON_CHUNK == chunk)
        out[here] = _captures(ident[chosen[here] - first], np.random.default_rng([seed, 7, chunk]))
    return out, chosen


def bench_face_gallery(size: int, args: argparse.Namespace) -> dict[str, Any]:
    import faiss
    import numpy as np
    from rich.progress import Progress

    faiss.omp_set_num_threads(1)
    directory = Path(args.work) / f"face-{size}"
    with Progress(transient=True) as bar:
        task = bar.add_task(f"generating {size:,} templates", total=size)
        gallery, gen_s = build_gallery(directory, size, args.seed, lambda n: bar.advance(task, n))
        task2 = bar.add_task("training + encoding the fast index", total=size)
        rss0 = _rss_mib()
        t = time.perf_counter()
        gallery.train(lambda n: bar.advance(task2, n))
        train_s = time.perf_counter() - t
        index_rss = _rss_mib() - rss0
        task3 = bar.add_task("loading FAISS IndexFlatIP", total=size)
        flat = faiss.IndexFlatIP(128)
        for start in range(0, size, 1_000_000):
            rows = np.asarray(gallery._templates[start : start + 1_000_000], dtype=np.float32)
            flat.add(rows)
            bar.advance(task3, len(rows))
    queries, persons = probes(size, args.seed, args.queries)
    k = 20
    flat_ms, exact_ids, mate1_flat = [], [], 0
    for j, q in enumerate(queries):
        t = time.perf_counter()
        _, ids = flat.search(q.reshape(1, -1), k)
        flat_ms.append((time.perf_counter() - t) * 1000)
        exact_ids.append({int(i) for i in ids[0]})
        mate1_flat += int(ids[0][0]) // 2 == int(persons[j])
    sizes = gallery.index_bytes()
    index_bytes = sum(sizes.values())
    p50_flat = statistics.median(flat_ms)
    result: dict[str, Any] = {
        "size": size,
        "queries": len(queries),
        "generate_s": round(gen_s, 1),
        "train_encode_s": round(train_s, 1),
        "flat_p50_ms": round(p50_flat, 1),
        "flat_p95_ms": round(float(np.percentile(flat_ms, 95)), 1),
        "mate_rank1_flat": mate1_flat / len(queries),
        "index_ram_gib": round(index_bytes / 2**30, 3),
        "index_ram_gb": round(index_bytes / 1e9, 3),
        "index_parts_mib": {k: round(v / 2**20, 1) for k, v in sizes.items()},
        "index_rss_growth_mib": round(index_rss, 0),
        "flat_ram_gib": round(flat.ntotal * 512 / 2**30, 2),
        "templates_on_disk_gib": round(size * 512 / 2**30, 2),
    }
    base = gallery.params
    for setting in args.shortlists:
        adaptive = setting.endswith("+")
        length = int(setting.rstrip("+"))
        gallery.params = replace(
            base, shortlist=length, max_shortlist=base.max_shortlist if adaptive else length
        )
        ours_ms, recall, mate1, extended = [], [], 0, 0
        for j, q in enumerate(queries):
            t = time.perf_counter()
            hits = gallery.search(q, k)
            ours_ms.append((time.perf_counter() - t) * 1000)
            extended += gallery.last_shortlist > length
            recall.append(len(exact_ids[j] & {h.slot for h in hits}) / k)
            mate1 += hits[0].slot // 2 == int(persons[j])
        p50 = statistics.median(ours_ms)
        result[f"shortlist {setting}"] = {
            "p50_ms": round(p50, 1),
            "p95_ms": round(float(np.percentile(ours_ms, 95)), 1),
            "flat_p50_over_ours": round(p50_flat / p50, 1),
            "recall_at_20": round(float(np.mean(recall)), 5),
            "min_recall_at_20": round(float(np.min(recall)), 3),
            "mate_rank1": mate1 / len(queries),
            "extended": f"{extended} of {len(queries)}",
        }
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    result["peak_rss_mib"] = round(_peak_mib(), 0)
    del flat, gallery
    if not args.keep:
        shutil.rmtree(directory, ignore_errors=True)
    return result


def bench_face_pipeline(repeats: int = 3) -> dict[str, Any]:
    """Time per real probe (decode, detect, embed) on the registry test photos."""
    from leds.biometrics.face.errors import FaceError
    from leds.biometrics.face.pipeline import FacePipeline

    images = sorted(FACES.glob("*.jpg")) + sorted(FACES.glob("*.png"))
    try:
        import skimage  # type: ignore[import-untyped]

        images.append(Path(skimage.__file__).parent / "data" / "astronaut.png")
    except ImportError:
        pass
    if not images:
        return {"skipped": f"no registry photos in {FACES} (run make venv)"}
    pipeline = FacePipeline()
    rows: dict[str, Any] = {}
    for path in images:
        data = path.read_bytes()
        times: list[dict[str, float]] = []
        outcome = "ok"
        for _ in range(repeats):
            t = time.perf_counter()
            try:
                probe = pipeline.process(data)
                times.append({**probe.timings_ms, "total": (time.perf_counter() - t) * 1000})
            except FaceError as exc:
                outcome = type(exc).__name__
                break
        if times:
            rows[path.name] = {
                "megapixels": round(probe.width * probe.height / 1e6, 2),
                **{k: round(statistics.median(t[k] for t in times), 1) for k in times[0]},
            }
        else:
            rows[path.name] = {"refused": outcome}
    return rows


def bench_face(args: argparse.Namespace) -> dict[str, Any]:
    """The face part: pipeline timings, then each gallery size."""
    out: dict[str, Any] = {}
    if not args.no_pipeline:
        out["pipeline"] = bench_face_pipeline()
        _print("face pipeline (ms per probe, median of 3)", out["pipeline"])
    for size in args.face_sizes:
        result = bench_face_gallery(size, args)
        out[f"gallery_{size}"] = result
        _print(f"face gallery {size:,}", result)
    return out


def _print(title: str, data: dict[str, Any]) -> None:
    print(f"== {title}")
    for key, value in data.items():
        print(f"  {key}: {value}")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--face-sizes",
        type=lambda s: [int(x) for x in s.split(",") if x],
        default=[1_000_000],
        help="gallery sizes, comma-separated (e.g. 1000000,12600000)",
    )
    parser.add_argument(
        "--shortlists",
        type=lambda s: [x for x in s.split(",") if x],
        default=["80000"],
        help="stage-1 shortlist lengths to measure; N+ = grows while it may miss a hit",
    )
    parser.add_argument("--queries", type=int, default=200, help="probes per gallery size")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", default="/tmp/leds-bench-biometrics", help="gallery files")
    parser.add_argument("--keep", action="store_true", help="keep the gallery files")
    parser.add_argument("--no-pipeline", action="store_true", help="skip the real-image timing")
    parser.add_argument("--skip-face", action="store_true", help="skip the face benchmarks")
    from biometrics_fp import add_fp_arguments  # fingerprint part (helper P)
    from biometrics_fp import run as run_fp

    add_fp_arguments(parser)  # --fp-sizes, --fp-calibrate, ...
    args = parser.parse_args()
    if not args.skip_face:
        bench_face(args)
    run_fp(args)  # does nothing unless --fp-sizes or --fp-calibrate is given


if __name__ == "__main__":
    main()
