"""The import pipeline gives the same records and rejections in order whether files are
prepared in worker processes or in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from leds.ingest import Ingest
from leds.synth import generate_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    generate_world(out, 900, 3, part_size=300, workers=1, invalid_rate=0.01)
    return out


@pytest.mark.parametrize("source", ["pnc", "pnd", "dvla", "iabs"])
def test_workers_yield_exactly_what_in_process_preparation_yields(world: Path, source: str) -> None:
    inline = Ingest(source, world / source, workers=1)
    parallel = Ingest(source, world / source, workers=2)
    assert parallel.workers == 2
    assert list(parallel.items()) == list(inline.items())
    assert parallel.notices == inline.notices
