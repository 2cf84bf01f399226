"""The search test world's handle (shared by the conftest and the tests)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from leds.store import Store


@dataclass
class SearchWorld:
    world: Path
    store: Store
    backend: str
    truth: dict[int, str]  # record id -> true person id (person records)
    person_of_truth: dict[str, str]  # true person id -> link person id
