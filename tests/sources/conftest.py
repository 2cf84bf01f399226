"""Fixtures of the source parser tests (helpers live in ``source_fixtures``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from source_fixtures import Extracts


@pytest.fixture
def extracts(tmp_path: Path) -> Extracts:
    return Extracts(tmp_path)
