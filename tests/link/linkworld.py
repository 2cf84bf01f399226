"""The linkage test world's handle and loader (shared by tests/link/conftest.py and tests)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from actors import STEWARD
from leds.governance.identity import PurposeStatement
from leds.service import Service
from leds.store import Store

ADMIN = PurposeStatement.of("admin-process", "loading the synthetic linkage test world")
SOURCES = ("pnc", "pnd", "dvla", "iabs")


@dataclass
class LinkWorld:
    world: Path
    data: Path
    service: Service
    store: Store


def import_world(world: Path, data: Path, sources: tuple[str, ...] = SOURCES) -> LinkWorld:
    service = Service.open(data)
    for source in sources:
        service.import_source(STEWARD, ADMIN, source, world / source)
    return LinkWorld(world, data, service, service._store)
