"""Benchmark: fingerprint 1:N (MCC-LSH pre-filter + MCC LSS-R re-ranking), the two matchers
(Bozorth3, MCC LSS-R) on mated and non-mated pairs, and the calibration of the minutiae-level
generator against the image pipeline; prints the figures.

    python bench/biometrics_fp.py --fp-sizes 10000 --fp-calibrate 40
    python bench/biometrics_fp.py --fp-matchers 1000
    flock /tmp/leds-heavy.lock python bench/biometrics_fp.py --fp-sizes 100000

(also reachable as ``bench/biometrics.py --fp-sizes ...``). Gallery: finger ``f`` impression 0
for ``f < size`` (minutiae-level generator, default difficulty distribution); mated probes:
impression 1 of enrolled fingers; non-mated probes: impression 1 of fingers never enrolled.
Enrolment and probes below quality ``--fp-min-quality`` are failures to enrol / acquire:
counted and printed, not searched. Targets: 100,000 prints, <= 1 s a search, hit@1 >= 99%.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

SEED = 20_261_126


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _du_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def add_fp_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fp-sizes",
        type=lambda s: [int(x) for x in s.split(",") if x],
        default=[],
        help="fingerprint gallery sizes, comma-separated (e.g. 10000,100000)",
    )
    parser.add_argument("--fp-queries", type=int, default=100, help="mated probes per size")
    parser.add_argument("--fp-nonmated", type=int, default=100, help="non-mated probes per size")
    parser.add_argument(
        "--fp-shortlist", type=int, default=None, help="MCC LSS-R re-ranked (gallery default)"
    )
    parser.add_argument(
        "--fp-matchers",
        type=int,
        default=0,
        help="mated pairs (x 40 non-mated) to score with Bozorth3 and with MCC LSS-R",
    )
    parser.add_argument(
        "--fp-bucket-fraction",
        type=float,
        default=None,
        help="LSH buckets over this fraction of all cylinders are skipped (gallery default)",
    )
    parser.add_argument("--fp-min-quality", type=int, default=40, help="enrol/probe gate")
    parser.add_argument(
        "--fp-prefilter-ranks",
        action="store_true",
        help="also report the pre-filter rank of each mate (an extra, untimed pre-filter)",
    )
    parser.add_argument("--fp-calibrate", type=int, default=0, help="fingers for calibration")
    parser.add_argument("--fp-work", default="/tmp/leds-bench-fp", help="gallery directory")
    parser.add_argument(
        "--fp-reuse",
        action="store_true",
        help="search the gallery left in --fp-work by an earlier run with the same size, seed "
        "and quality gate instead of enrolling it again (a gallery of an older layout is "
        "reindexed first, and the time that took printed)",
    )


def calibrate(fingers: int) -> dict[str, Any]:
    """Image pipeline vs minutiae-level generator on the same (seed, finger, impression)."""
    from leds.biometrics.fingerprint import minutiae_synth, synth
    from leds.biometrics.fingerprint.extract import Packed, extract, match_packed

    out: dict[str, Any] = {}
    for name, make in (
        ("image", lambda f, i: extract(synth.impression_image(SEED, f, i), with_quality=False)),
        ("minutiae", lambda f, i: minutiae_synth.impression_minutiae(SEED, f, i)),
    ):
        t0 = time.perf_counter()
        tp = [make(f, i) for f in range(fingers) for i in (0, 1)]
        per = (time.perf_counter() - t0) / len(tp)
        synth.master_ridges.cache_clear()
        p = [Packed(t) for t in tp]
        mated = [match_packed(p[2 * f], p[2 * f + 1]) for f in range(fingers)]
        non = [
            match_packed(p[2 * f], p[2 * g + 1])
            for f in range(fingers)
            for g in range(fingers)
            if f != g
        ]
        out[name] = {
            "seconds_per_print": round(per, 4),
            "minutiae_p5_p50_p95": np.percentile([t.n for t in tp], [5, 50, 95]).round().tolist(),
            "mated_p1_p5_p10_p25_p50": np.percentile(mated, [1, 5, 10, 25, 50]).round(1).tolist(),
            "mated_below_40": round(float(np.mean(np.array(mated) < 40)), 3),
            "nonmated_p50_p99_max": np.percentile(non, [50, 99, 100]).round(1).tolist(),
            "nonmated_above_40": round(float(np.mean(np.array(non) > 40)), 4),
            "pairs": {"mated": len(mated), "nonmated": len(non)},
        }
    return out


def bench_fingerprint(size: int, args: argparse.Namespace) -> dict[str, Any]:
    """One gallery size: enrol, rebuild, mated and non-mated searches."""
    from leds.biometrics.fingerprint import minutiae_synth
    from leds.biometrics.fingerprint.errors import GalleryError
    from leds.biometrics.fingerprint.gallery import FingerprintGallery
    from leds.biometrics.thresholds import shipped_defaults

    work = Path(args.fp_work) / f"fp-{size}"
    stamp = work / "bench.json"
    wanted = {"size": size, "seed": SEED, "min_quality": args.fp_min_quality}
    built: dict[str, Any] | None = None
    if args.fp_reuse and stamp.exists():
        built = json.loads(stamp.read_text())
        if built.get("wanted") != wanted:
            built = None
    fte = 0
    enrolled: dict[int, int] = {}
    reindex_s = None
    if built is not None:
        try:
            gal = FingerprintGallery(work, create=False)
        except GalleryError:  # another layout: bring it up to date from its templates
            t0 = time.perf_counter()
            gal = FingerprintGallery(work, create=False, reindex=True)
            reindex_s = round(time.perf_counter() - t0, 1)
    if built is not None:
        print(f"  reusing the gallery in {work} (built {built['when']})", flush=True)
        enrolled = {int(k): v for k, v in built["enrolled"].items()}
        fte, enrol_s, rebuild_s = built["fte"], built["enrol_s"], built["rebuild_s"]
    else:
        shutil.rmtree(work, ignore_errors=True)
        gal = FingerprintGallery(work)

        def gallery_templates() -> Any:
            nonlocal fte
            for f in range(size):
                t = minutiae_synth.impression_minutiae(SEED, f, 0)
                if t.quality < args.fp_min_quality or t.n < 12:
                    fte += 1
                    continue
                enrolled[f] = len(enrolled)
                yield t

        def progress(n: int) -> None:
            if n % 10_000 == 0:
                print(f"  enrolled {n:,} ({time.perf_counter() - t0:.0f} s)", flush=True)

        t0 = time.perf_counter()
        gal.enrol(gallery_templates(), progress=progress)
        enrol_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        gal.rebuild()
        rebuild_s = time.perf_counter() - t1
        stamp.write_text(
            json.dumps(
                {
                    "wanted": wanted,
                    "when": time.strftime("%Y-%m-%d %H:%M:%S"),
                    "fte": fte,
                    "enrol_s": enrol_s,
                    "rebuild_s": rebuild_s,
                    "enrolled": enrolled,
                }
            )
        )
    opts: dict[str, Any] = {}
    if args.fp_shortlist is not None:
        opts["shortlist"] = args.fp_shortlist
    if args.fp_bucket_fraction is not None:
        opts["bucket_fraction"] = args.fp_bucket_fraction
    rng = np.random.default_rng(size)
    fingers = sorted(enrolled)
    mated_f = rng.choice(fingers, size=min(args.fp_queries, len(fingers)), replace=False)
    times: list[float] = []
    ranks: list[int] = []
    in_short: list[bool] = []
    mated_top: list[int] = []
    fta = 0
    pre_ranks: list[int] = []
    mate_sims: list[float] = []
    for f in mated_f:
        probe = minutiae_synth.impression_minutiae(SEED, int(f), 1)
        if probe.quality < args.fp_min_quality or probe.n < 12:
            fta += 1
            continue
        s = time.perf_counter()
        cands = gal.search(probe, candidates=20, **opts)
        times.append(time.perf_counter() - s)
        slot = enrolled[int(f)]
        if args.fp_prefilter_ranks:  # (not timed) where the pre-filter put the mate
            votes = gal.prefilter(probe, **{k: v for k, v in opts.items() if k != "shortlist"})
            pre_ranks.append(int((votes > votes[slot]).sum()) if votes[slot] > 0 else len(votes))
            mate_sims.append(float(gal.similarities(probe, np.array([slot]))[0]) * 100)
        rank = next((i for i, c in enumerate(cands) if c.slot == slot), -1)
        ranks.append(rank)
        in_short.append(rank >= 0)
        mated_top.append(cands[rank].score if rank >= 0 else 0)
    non_top: list[int] = []
    for k in range(args.fp_nonmated):
        probe = minutiae_synth.impression_minutiae(SEED, size + 1_000_000 + k, 1)
        if probe.quality < args.fp_min_quality or probe.n < 12:
            continue
        s = time.perf_counter()
        cands = gal.search(probe, candidates=20, **opts)
        times.append(time.perf_counter() - s)
        non_top.append(cands[0].score if cands else 0)
    r = np.array(ranks)
    non = np.array(non_top)
    # threshold: smallest T with no non-mated top score above it in this sample (FPIR 0 of n)
    thr = round(float(non.max()) + 0.01, 2) if len(non) else 10.0
    mated_score = np.array(mated_top)
    hit1_at_thr = float(np.mean((r == 0) & (mated_score >= thr)))
    shipped = shipped_defaults()["fingerprint"]
    return {
        "gallery": len(gal),
        "reused_gallery": built is not None,
        "reindex_s": reindex_s if reindex_s is not None else "not needed",
        "failures_to_enrol": fte,
        "enrol_ms_per_print": round(enrol_s / size * 1000, 2),
        "rebuild_s": round(rebuild_s, 1),
        "disk_mib": round(_du_mib(work), 1),
        "peak_rss_mib": round(_peak_mib(), 1),
        "mated_searches": len(ranks),
        "failures_to_acquire": fta,
        "search_s_p50_p95_max": [round(float(np.percentile(times, q)), 3) for q in (50, 95, 100)],
        "hit@1": round(float(np.mean(r == 0)), 4),
        "hit@20": round(float(np.mean(r >= 0)), 4),
        "mate_in_shortlist": round(float(np.mean(in_short)), 4),
        "prefilter_mate_rank_within_1_10_100_1000_2000_5000": [
            round(float(np.mean(np.array(pre_ranks) < k)), 4)
            for k in (1, 10, 100, 1000, 2000, 5000)
        ]
        if pre_ranks
        else "not measured",
        "mate_score_above_nonmated_max": round(float(np.mean(np.array(mate_sims) > non.max())), 4)
        if mate_sims and len(non)
        else "not measured",
        "nonmated_top_score_p50_p95_max": np.percentile(non, [50, 95, 100]).tolist()
        if len(non)
        else [],
        "threshold_chosen": thr,
        "FPIR_at_threshold": f"0/{len(non)}",
        "FPIR_at_10": f"{int((non >= 10).sum())}/{len(non)}",
        "FNIR_at_threshold": round(1 - hit1_at_thr, 4),
        "shipped_threshold": shipped,
        "FPIR_at_shipped": f"{int((non >= shipped).sum())}/{len(non)}",
        "FNIR_at_shipped": round(1 - float(np.mean((r == 0) & (mated_score >= shipped))), 4),
    }


def matchers(pairs: int) -> dict[str, Any]:
    """Bozorth3 and MCC LSS-R on the same pairs: mated (impressions 0 and 1 of a finger) and
    non-mated (impression 1 of one finger against impression 0 of 40 others), both through
    the quality gate. Prints, per matcher, the share of mated scores above the non-mated
    maximum and FNMR at FMR 1e-3 / 1e-4, and the time a comparison takes."""
    from leds.biometrics.fingerprint import mcc_match, minutiae_synth
    from leds.biometrics.fingerprint.extract import Packed, match_packed

    rng = np.random.default_rng(7)
    gal, prb = [], []
    f = 0
    while len(gal) < pairs:
        g = minutiae_synth.impression_minutiae(SEED, 5_000_000 + f, 0)
        p = minutiae_synth.impression_minutiae(SEED, 5_000_000 + f, 1)
        f += 1
        if min(g.quality, p.quality) >= 40 and min(g.n, p.n) >= 12:
            gal.append(g)
            prb.append(p)
    others = [
        rng.choice([j for j in range(pairs) if j != i], 40, replace=False) for i in range(pairs)
    ]
    out: dict[str, Any] = {}
    cyl_g = [mcc_match.cylinders(t) for t in gal]
    cyl_p = [mcc_match.cylinders(t) for t in prb]
    mcc_match.similarity(cyl_p[0], cyl_g[0])  # compile outside the timing
    pk_g = [Packed(t) for t in gal]
    pk_p = [Packed(t) for t in prb]
    for name, fn in (
        ("bozorth3", lambda i, j: float(match_packed(pk_p[i], pk_g[j]))),
        ("mcc_lssr", lambda i, j: 100 * mcc_match.similarity(cyl_p[i], cyl_g[j])),
    ):
        t0 = time.perf_counter()
        mated = np.array([fn(i, i) for i in range(pairs)])
        non = np.array([fn(i, int(j)) for i in range(pairs) for j in others[i]])
        per = (time.perf_counter() - t0) / (len(mated) + len(non))
        out[name] = {
            "mated_above_nonmated_max": round(float(np.mean(mated > non.max())), 4),
            "FNMR_at_FMR_1e-3_1e-4": [
                round(float(np.mean(mated <= np.quantile(non, 1 - q))), 4) for q in (1e-3, 1e-4)
            ],
            "nonmated_p50_p99_max": [round(float(x), 2) for x in np.percentile(non, [50, 99, 100])],
            "mated_p1_p5_p50": [round(float(x), 2) for x in np.percentile(mated, [1, 5, 50])],
            "ms_per_comparison": round(per * 1000, 3),
            "pairs": {"mated": len(mated), "nonmated": len(non)},
        }
    return out


def run(args: argparse.Namespace) -> None:
    if args.fp_matchers:
        for name, data in matchers(args.fp_matchers).items():
            _print(f"fingerprint matcher {name} ({args.fp_matchers} mated pairs)", data)
    if args.fp_calibrate:
        res = calibrate(args.fp_calibrate)
        for name, data in res.items():
            _print(f"fingerprint calibration: {name} ({args.fp_calibrate} fingers x 2)", data)
    for size in args.fp_sizes:
        _print(f"fingerprint gallery {size:,}", bench_fingerprint(size, args))


def _print(title: str, data: dict[str, Any]) -> None:
    print(f"== {title}")
    for key, value in data.items():
        print(f"  {key}: {value}")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_fp_arguments(parser)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
