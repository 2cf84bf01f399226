"""Search fixtures: one small synthetic world (session scope), imported through the one door into
a SQLite store and (when a server answers) a PostgreSQL store, indexed, and linked into persons
from the ground truth (so grouping by person id is exact and independent of the model).

``search_world`` is parametrised over the backends; tests must not change its records (use the
function-scoped ``store`` fixture for tests that write).
"""

from __future__ import annotations

import csv
import itertools
import uuid
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from searchworld import SearchWorld
from sqlalchemy import Engine, text

from actors import STEWARD
from leds.governance.identity import PurposeStatement
from leds.link import index as link_index
from leds.search.index import build_indexes
from leds.service import Service
from leds.store import Store
from leds.synth import generate_world

ADMIN = PurposeStatement.of("admin-process", "loading the synthetic search test world")
SOURCES = ("pnc", "pnd", "dvla", "iabs")
PERSONS = 400
SEED = 5


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("search-world")
    generate_world(out, PERSONS, SEED, part_size=PERSONS, workers=1)
    return out


def _truth(world: Path, store: Store) -> dict[int, str]:
    keys: dict[tuple[str, str], str] = {}
    for part in sorted((world / "truth").glob("truth-*.csv")):
        with part.open(newline="") as fh:
            for r in csv.DictReader(fh):
                if r["kind"] == "person":
                    keys[(r["source"], r["source_record_id"])] = r["person_id"]
    out: dict[int, str] = {}
    with store.engine.connect() as conn:
        for rid, source, key in conn.execute(
            text("SELECT id, source, source_record_id FROM records WHERE kind = 'person'")
        ):
            if (source, key) in keys:
                out[int(rid)] = keys[(source, key)]
    return out


def _load(world: Path, data: Path, url: str | None, backend: str) -> SearchWorld:
    service = Service.open(data, store_url=url)
    for source in SOURCES:
        service.import_source(STEWARD, ADMIN, source, world / source)
    store = service._store
    truth = _truth(world, store)
    # Link from the ground truth: a chain of certain pairs per true person.
    by_person: dict[str, list[int]] = {}
    for rid, pid in sorted(truth.items()):
        by_person.setdefault(pid, []).append(rid)
    left, right = [], []
    for ids in by_person.values():
        for a, b in itertools.pairwise(ids):
            left.append(a)
            right.append(b)
    pairs = pa.table(
        {
            "id_l": pa.array(left, pa.int64()),
            "id_r": pa.array(right, pa.int64()),
            "match_weight": pa.array([20.0] * len(left), pa.float64()),
            "match_probability": pa.array([1.0] * len(left), pa.float64()),
        }
    )
    with store.transaction() as conn:
        run = link_index.start_run(
            conn, kind="full", model_version="truth", threshold=0.9, actor_id="test"
        )
        outcome = link_index.cluster_full(conn, run, sorted(truth), pairs, threshold=0.9)
        link_index.finish_run(conn, run, outcome)
        build_indexes(conn)
        mapping = link_index.persons_of(conn, sorted(truth))
    person_of_truth = {truth[r]: p for r, p in mapping.items()}
    return SearchWorld(world, store, backend, truth, person_of_truth)


@pytest.fixture(scope="session")
def sqlite_world(
    world_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SearchWorld]:
    data = tmp_path_factory.mktemp("search-sqlite")
    sw = _load(world_dir, data, None, "sqlite")
    yield sw
    sw.store.close()


@pytest.fixture(scope="session")
def postgres_world(
    world_dir: Path, pg_admin: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SearchWorld]:
    name = f"leds_search_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{name}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE'))
        conn.execute(text(f'CREATE DATABASE "{name}" OWNER "{name}"'))
    url = pg_admin.url.set(database=name, username=name, password=None)
    data = tmp_path_factory.mktemp("search-pg")
    sw = _load(world_dir, data, url.render_as_string(hide_password=False), "postgres")
    yield sw
    sw.store.close()
    with pg_admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'DROP ROLE IF EXISTS "{name}"'))


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def search_world(request: pytest.FixtureRequest) -> SearchWorld:
    """The indexed, linked search world on each backend."""
    name = "sqlite_world" if request.param == "sqlite" else "postgres_world"
    world: SearchWorld = request.getfixturevalue(name)
    return world
