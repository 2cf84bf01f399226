"""Small synthetic worlds shared by the synth tests (generated once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from leds.synth import WorldManifest, generate_world


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WorldManifest]:
    """1,500 persons in 3 parts, no injected invalid rows."""
    out = tmp_path_factory.mktemp("world")
    return out, generate_world(out, 1500, 11, part_size=500, workers=1, invalid_rate=0.0)


@pytest.fixture(scope="session")
def dirty_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WorldManifest]:
    """800 persons with a high invalid-row rate (5%)."""
    out = tmp_path_factory.mktemp("dirty")
    return out, generate_world(out, 800, 5, part_size=400, workers=1, invalid_rate=0.05)
