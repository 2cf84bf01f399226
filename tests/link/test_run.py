"""End to end: link_full then link_incremental on a freshly imported small world."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
from linkworld import ADMIN, LinkWorld, import_world
from sqlalchemy import select

from actors import STEWARD
from leds.link import index
from leds.link.backends import LinkError
from leds.link.model import list_models
from leds.link.run import frame_path, link_full, link_incremental
from leds.store.schema import records
from leds.store.tables_link import link_models

SEED_SOURCES = ("pnc", "pnd", "dvla")


def test_full_then_incremental_link(link_world_dir: Path, tmp_path: Path) -> None:
    lw: LinkWorld = import_world(link_world_dir, tmp_path / "data", SEED_SOURCES)
    try:
        full = link_full(lw.store, lw.data, actor_id="steward1", threshold=0.9, seed=1)
        assert full.trained
        assert list_models(lw.data) == [full.model_version]
        with lw.store.engine.connect() as conn:
            row = conn.execute(
                select(link_models).where(link_models.c.version == full.model_version)
            ).one()
        assert row.records == full.records
        assert row.actor_id == "steward1"
        assert frame_path(lw.data).exists()
        assert full.records == len(full.record_ids) > 2000
        with lw.store.engine.connect() as conn:
            persons = index.persons_of(conn, full.record_ids)
        assert set(persons) == set(full.record_ids), "every person record gets a person id"

        # A re-run with the saved model keeps every person id.
        again = link_full(lw.store, lw.data, actor_id="steward1", retrain=False)
        assert not again.trained
        assert again.model_version == full.model_version
        with lw.store.engine.connect() as conn:
            assert index.persons_of(conn, full.record_ids) == persons

        # The iabs import is attached incrementally.
        summary = lw.service.import_source(STEWARD, ADMIN, "iabs", link_world_dir / "iabs").value
        inc = link_incremental(
            lw.store, lw.data, actor_id="steward1", import_ids=[summary.import_id]
        )
        assert inc.kind == "incremental"
        assert inc.records == summary.by_kind["person"]
        with lw.store.engine.connect() as conn:
            rows = conn.execute(
                select(records.c.id, records.c.source, records.c.source_record_id).where(
                    records.c.kind == "person"
                )
            ).all()
            after = index.persons_of(conn, [r.id for r in rows])
        assert len(after) == len(rows)
        # Judge against the truth: records of one true person share one person id.
        truth = _truth(lw)
        by_person: dict[str, set[str]] = {}
        for r in rows:
            by_person.setdefault(truth[(r.source, r.source_record_id)], set()).add(after[r.id])
        split = sum(len(v) > 1 for v in by_person.values())
        assert split <= 0.01 * len(by_person), split
        sizes = Counter(after.values())
        assert max(sizes.values()) < 10
    finally:
        lw.store.close()


def _truth(lw: LinkWorld) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for part in sorted((lw.world / "truth").glob("truth-*.csv")):
        with part.open(newline="") as fh:
            for r in csv.DictReader(fh):
                if r["kind"] == "person":
                    out[(r["source"], r["source_record_id"])] = r["person_id"]
    return out


def test_incremental_needs_records_and_a_model(fresh_link_world: LinkWorld) -> None:
    lw = fresh_link_world
    with pytest.raises(LinkError, match="no linkage model"):
        link_incremental(lw.store, lw.data, actor_id="steward1", record_ids=[1])
    with pytest.raises(LinkError, match="between 0 and 1"):
        link_full(lw.store, lw.data, actor_id="steward1", threshold=1.5)
