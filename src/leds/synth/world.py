"""Generate a whole synthetic world, part by part, optionally in a process pool.

Each part is generated independently from ``numpy.random.default_rng([seed, part_no])`` and
``random.Random`` streams seeded likewise, so parts can run in any order in any process and
the files are byte-identical for the same ``(persons, seed, part_size)`` (timestamps are
derived from the seed, not the clock). Memory is bounded by one part per worker.
"""

from __future__ import annotations

import json
import multiprocessing
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from leds.errors import LedsError
from leds.synth.population import build_part
from leds.synth.workforce import build_workforce, workforce_size, write_workforce
from leds.synth.writers import PartWriter

GENERATOR_VERSION = "leds.synth/1"
MAX_PERSONS = 20_000_000  # id layouts (9-digit positional ids) support up to this many


@dataclass
class WorldManifest:
    """What a world holds; written to ``manifest.json``."""

    seed: int
    persons: int
    part_size: int
    parts: int
    generator_version: str
    created: str
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # source -> kind -> n
    invalid: dict[str, int] = field(default_factory=dict)  # source -> injected invalid rows
    noise: dict[str, dict[str, int]] = field(default_factory=dict)  # source -> noise -> n
    workforce: int = 0
    invalid_rate: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"


def created_timestamp(seed: int) -> str:
    """A creation time derived from the seed (files stay byte-identical between runs)."""
    base = datetime(2026, 1, 1, tzinfo=UTC)
    return (base + timedelta(seconds=seed % 86_400)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class _Task:
    out: str
    part_no: int
    first_idx: int
    n: int
    seed: int
    persons: int
    invalid_rate: float
    created: str


def _run_part(task: _Task) -> dict[str, Any]:
    out = Path(task.out)
    world = build_part(task.part_no, task.first_idx, task.n, task.seed, task.persons)
    writer = PartWriter(
        out, world, invalid_rate=task.invalid_rate, created=task.created, total_persons=task.persons
    )
    stats = writer.write_all()
    result: dict[str, Any] = {
        "part": task.part_no,
        "n": task.n,
        "counts": [[s, k, c] for (s, k), c in sorted(stats.counts.items())],
        "invalid": dict(sorted(stats.invalid.items())),
        "noise": stats.noise,
        "workforce": 0,
    }
    if task.part_no == 1:
        members = build_workforce(task.seed, workforce_size(task.persons), world.persons)
        write_workforce(out, members)
        result["workforce"] = len(members)
    return result


def generate_world(
    out: Path,
    persons: int,
    seed: int,
    *,
    part_size: int = 50_000,
    workers: int = 2,
    progress: Callable[[int], None] | None = None,
    invalid_rate: float = 0.0005,
) -> WorldManifest:
    """Write a synthetic world of ``persons`` persons to ``out`` (see ``docs/extracts.md``).

    ``progress(n)`` is called with the number of persons of each finished part.
    """
    if persons < 1:
        raise LedsError("a world needs at least one person", hint="use --persons 1 or more")
    if persons > MAX_PERSONS:
        raise LedsError(
            f"at most {MAX_PERSONS:,} persons per world",
            hint="identifier layouts are positional and would overflow",
        )
    if part_size < 1:
        raise LedsError("part size must be at least 1")
    if not 0.0 <= invalid_rate < 1.0:
        raise LedsError("invalid_rate must be in [0, 1)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    created = created_timestamp(seed)
    tasks = [
        _Task(
            str(out),
            k + 1,
            k * part_size,
            min(part_size, persons - k * part_size),
            seed,
            persons,
            invalid_rate,
            created,
        )
        for k in range(-(-persons // part_size))
    ]
    counts: Counter[tuple[str, str]] = Counter()
    invalid: Counter[str] = Counter()
    noise: dict[str, Counter[str]] = {}
    workforce = 0

    def collect(result: dict[str, Any]) -> None:
        nonlocal workforce
        for s, k, c in result["counts"]:
            counts[(s, k)] += c
        invalid.update(result["invalid"])
        for source, kinds in result["noise"].items():
            noise.setdefault(source, Counter()).update(kinds)
        workforce += result["workforce"]
        if progress is not None:
            progress(result["n"])

    if workers <= 1 or len(tasks) == 1:
        for task in tasks:
            collect(_run_part(task))
    else:
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(min(workers, len(tasks))) as pool:
            for result in pool.imap(_run_part, tasks):
                collect(result)
    manifest = WorldManifest(
        seed=seed,
        persons=persons,
        part_size=part_size,
        parts=len(tasks),
        generator_version=GENERATOR_VERSION,
        created=created,
        counts=_nested(counts),
        invalid=dict(sorted(invalid.items())),
        noise={s: dict(sorted(c.items())) for s, c in sorted(noise.items())},
        workforce=workforce,
        invalid_rate=invalid_rate,
    )
    (out / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def _nested(counts: Counter[tuple[str, str]]) -> dict[str, dict[str, int]]:
    nested: dict[str, dict[str, int]] = {}
    for (source, kind), n in sorted(counts.items()):
        nested.setdefault(source, {})[kind] = n
    return nested
