"""Shared linkage fixtures (owned by L1; L2's tests use them too).

Fixtures: ``link_world`` (imported world), ``fresh_link_world`` (a function-scoped copy to
write to), ``link_frame`` (its linkage frame), ``link_model`` (a model trained on it),
``link_pairs`` (all scored pairs), ``link_truth`` (record id -> true person id).

``link_world`` (session scope): a small synthetic world (1,500 persons, seed 11) generated and
imported through the one door into a SQLite store in a temporary data directory. It is a
:class:`LinkWorld` with ``world`` (the world directory, ground truth in ``truth/``), ``data``
(the data directory), ``service`` and ``store``. Tests must not change its records; copy what
they need or use ``fresh_link_world`` for a function-scoped, freshly imported copy.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from linkworld import LinkWorld, import_world
from sqlalchemy import text

from leds.link.frame import read_person_frame
from leds.link.model import LinkModel, train
from leds.link.predict import predict
from leds.synth import generate_world

PERSONS = 1_500
SEED = 11


@pytest.fixture(scope="session")
def link_world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated world directory (shared; read only)."""
    out = tmp_path_factory.mktemp("link-world")
    generate_world(out, PERSONS, SEED, part_size=PERSONS, workers=1)
    return out


@pytest.fixture(scope="session")
def link_world(
    link_world_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LinkWorld]:
    """The small world imported into a SQLite store (shared; do not modify)."""
    lw = import_world(link_world_dir, tmp_path_factory.mktemp("link-data"))
    yield lw
    lw.store.close()


@pytest.fixture
def fresh_link_world(link_world_dir: Path, tmp_path: Path) -> Iterator[LinkWorld]:
    """A freshly imported copy of the small world, for tests that write (function scope)."""
    lw = import_world(link_world_dir, tmp_path / "data")
    yield lw
    lw.store.close()


@pytest.fixture(scope="session")
def link_frame(link_world: LinkWorld) -> pa.Table:
    """The linkage frame of the small world (every person record)."""
    with link_world.store.engine.connect() as conn:
        return read_person_frame(conn)


@pytest.fixture(scope="session")
def link_model(link_frame: pa.Table) -> LinkModel:
    """A model trained on the small world (seed 1); not saved."""
    return train(link_frame, seed=1)


@pytest.fixture(scope="session")
def link_pairs(link_model: LinkModel, link_frame: pa.Table) -> pa.Table:
    """All scored pairs of the small world at the default floor."""
    return predict(link_model, link_frame)


@pytest.fixture(scope="session")
def link_truth(link_world: LinkWorld) -> dict[int, str]:
    """Record id -> true person id for every person record of the small world."""
    truth: dict[tuple[str, str], str] = {}
    for part in sorted((link_world.world / "truth").glob("truth-*.csv")):
        with part.open(newline="") as fh:
            for r in csv.DictReader(fh):
                if r["kind"] == "person":
                    truth[(r["source"], r["source_record_id"])] = r["person_id"]
    with link_world.store.engine.connect() as conn:
        rows = conn.execute(
            text("select id, source, source_record_id from records where kind = 'person'")
        )
        return {int(i): truth[(s, k)] for i, s, k in rows}
