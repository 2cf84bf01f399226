"""A small face gallery in the store for candidate-list and review tests.

Person and custody records are written straight into ``records`` (one import), each custody
record with an enrolled synthetic template at gallery slot = person index; the vectors stay in
memory and are searched exactly, as a gallery index would.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
import numpy.typing as npt
import pytest
from sqlalchemy import Connection, Engine, func, select, text, update

from leds.store import Store, open_store
from leds.store.schema import imports, records
from leds.store.tables_biometrics import biometric_templates
from leds.synth import biometrics as synth

ALGORITHM = "synthetic-face-v1"
SEED = 11
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def shared_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """One migrated store per backend for a whole test module (tests keep to their own rows).

    The per-test ``store`` fixture costs a PostgreSQL database each; these tests only need
    their own gallery rows, which :func:`make_gallery` keeps apart (own ids, own slots).
    """
    if request.param == "sqlite":
        handle = open_store(tmp_path_factory.mktemp("biometrics") / "data")
        yield handle
        handle.close()
        return
    admin: Engine = request.getfixturevalue("pg_admin")
    name = f"leds_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{name}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE'))
        conn.execute(text(f'CREATE DATABASE "{name}" OWNER "{name}"'))
    url = admin.url.set(database=name, username=name, password=None)
    handle = open_store(url.render_as_string(hide_password=False))
    yield handle
    handle.close()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'DROP ROLE IF EXISTS "{name}"'))


@dataclass
class Gallery:
    vectors: npt.NDArray[np.float32]
    template_ids: list[int]
    custody_ids: list[int]
    person_ids: list[int]
    first_slot: int = 0

    def probe(self, person: int) -> npt.NDArray[np.float32]:
        return synth.capture(SEED, person, 2, 85)

    def search_for(self, person: int) -> Callable[[int], list[tuple[int, float]]]:
        probe = self.probe(person)

        def search(k: int) -> list[tuple[int, float]]:
            scores = self.vectors @ probe
            top = np.argsort(-scores, kind="stable")[:k]
            return [(self.first_slot + int(i), float(scores[i])) for i in top]

        return search


def probe_hash(person: int) -> str:
    return hashlib.sha256(synth.capture(SEED, person, 2, 85).tobytes()).hexdigest()


def make_gallery(conn: Connection, persons: int = 30) -> Gallery:
    """Records and templates of ``persons`` persons, apart from any other gallery's rows."""
    tag = uuid.uuid4().hex[:8]
    top = conn.execute(
        select(func.max(biometric_templates.c.slot)).where(biometric_templates.c.modality == "face")
    ).scalar()
    first_slot = 0 if top is None else int(top) + 1
    import_id = conn.execute(
        imports.insert()
        .values(source="pnd", path="test", actor_id="steward1", started_at=NOW, status="done")
        .returning(imports.c.id)
    ).scalar_one()
    base = {"payload": "{}", "import_id": import_id, "file": "t.json", "imported_at": NOW}
    person_ids, custody_ids, template_ids = [], [], []
    for i in range(persons):
        pid = conn.execute(
            records.insert()
            .values(
                **base,
                source="pnd",
                kind="person",
                source_record_id=f"PNDP{i:06d}{tag}",
                subject_id=f"PNDP{i:06d}{tag}",
                content_hash=hashlib.sha256(f"p{i}{tag}".encode()).hexdigest(),
                line=2 * i + 1,
                sex="F" if i % 2 else "M",
                dob=date(1960 + i % 40, 1 + i % 12, 1 + i % 28),
                ethnicity=("W1", "A1", "B2")[i % 3],
            )
            .returning(records.c.id)
        ).scalar_one()
        cid = conn.execute(
            records.insert()
            .values(
                **base,
                source="pnd",
                kind="custody",
                source_record_id=f"CU{i:06d}{tag}",
                subject_id=f"PNDP{i:06d}{tag}",
                content_hash=hashlib.sha256(f"c{i}{tag}".encode()).hexdigest(),
                line=2 * i + 2,
            )
            .returning(records.c.id)
        ).scalar_one()
        tid = conn.execute(
            biometric_templates.insert()
            .values(
                modality="face",
                sample_ref=f"CI{i:08d}{tag}",
                record_id=cid,
                subject_record_id=pid,
                slot=first_slot + i,
                quality=85,
                algorithm=ALGORITHM,
                enrolled_at=NOW,
            )
            .returning(biometric_templates.c.id)
        ).scalar_one()
        person_ids.append(int(pid))
        custody_ids.append(int(cid))
        template_ids.append(int(tid))
    vectors = np.vstack([synth.capture(SEED, i, 1, 85) for i in range(persons)])
    return Gallery(vectors, template_ids, custody_ids, person_ids, first_slot)


def remove_template(conn: Connection, template_id: int) -> None:
    conn.execute(
        update(biometric_templates)
        .where(biometric_templates.c.id == template_id)
        .values(removed_at=NOW, removal_reason="retention review")
    )
