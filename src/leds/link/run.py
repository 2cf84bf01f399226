"""Orchestration: model + person index, full or incremental.

``link_full``: read every person record (chunked), train a model (or reuse the current one),
save it, score all blocked pairs, cluster them into the person index (stable ids, history,
review decisions honoured: :func:`leds.link.index.cluster_full`), queue the uncertain pairs
for review, and keep the linkage frame as ``DATA/link/frame.parquet`` for incremental runs.

``link_incremental``: score only the new records (of some imports, or given ids) against the
kept frame with the saved model, attach them (:func:`leds.link.index.attach`) and add them to
the frame: no retraining, no full re-scoring.

Neither writes audit events: the caller (the service) records the *combination* event with
what :class:`LinkResult` returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import select

from leds.link.backends import Backend, LinkError
from leds.link.frame import SCHEMA, read_person_frame
from leds.link.model import LinkModel, list_models, load_model, save_model, train
from leds.link.predict import FLOOR, predict, score_new
from leds.store import Store
from leds.store.schema import records

DEFAULT_THRESHOLD = 0.9
REVIEW_LOW = 0.3
REVIEW_HIGH = 0.97


@dataclass
class LinkResult:
    """What a linkage run did (for the caller's audit entry and report)."""

    run_id: int
    kind: str  # full | incremental
    model_version: str
    trained: bool
    records: int  # person records read
    record_ids: list[int]  # the records linked in this run (all, or the new ones)
    pairs: int  # scored pairs at or above the floor
    queued_for_review: int
    outcome: Any  # leds.link.index.ClusterOutcome
    seconds: dict[str, float] = field(default_factory=dict)


def frame_path(data_dir: Path) -> Path:
    return Path(data_dir) / "link" / "frame.parquet"


def _save_frame(frame: pa.Table, data_dir: Path) -> None:
    path = frame_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    pq.write_table(frame, tmp)
    tmp.replace(path)


def _load_frame(data_dir: Path) -> pa.Table | None:
    path = frame_path(data_dir)
    if not path.exists():
        return None
    table = pq.read_table(path)
    return table if table.schema.equals(SCHEMA) else None


def link_full(
    store: Store,
    data_dir: Path,
    *,
    actor_id: str,
    threshold: float = DEFAULT_THRESHOLD,
    retrain: bool = True,
    seed: int = 42,
    floor: float = FLOOR,
    review_band: tuple[float, float] = (REVIEW_LOW, REVIEW_HIGH),
    backend: Backend | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> LinkResult:
    """Link every person record: train (or reuse) the model, predict, cluster, queue reviews.

    ``progress(stage, n)`` reports ``("read", records)``, ``("train", step)``,
    ``("predict", pairs)`` and ``("cluster", records)``.
    """
    from leds.link import index

    _check_threshold(threshold)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    with store.engine.connect() as conn:
        frame = read_person_frame(
            conn, progress=(lambda n: progress("read", n)) if progress else None
        )
    if frame.num_rows == 0:
        raise LinkError("there are no person records to link", hint="import a source first")
    seconds["read"] = time.perf_counter() - t0
    trained = retrain or not list_models(data_dir)
    t0 = time.perf_counter()
    if trained:
        model = train(
            frame,
            seed=seed,
            backend=backend,
            progress=(lambda k: progress("train", k)) if progress else None,
        )
    else:
        model = load_model(data_dir)
    seconds["train"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    pairs = predict(model, frame, floor=floor, backend=backend)
    seconds["predict"] = time.perf_counter() - t0
    if progress:
        progress("predict", pairs.num_rows)
    t0 = time.perf_counter()
    ids = frame["id"]
    with store.transaction() as conn:
        if trained:
            save_model(model, data_dir, conn, actor_id=actor_id)
        run_id = index.start_run(
            conn, kind="full", model_version=model.version, threshold=threshold, actor_id=actor_id
        )
        outcome = index.cluster_full(
            conn,
            run_id,
            ids,
            pairs,
            threshold=threshold,
            progress=(lambda n: progress("cluster", n)) if progress else None,
        )
        queued = index.queue_for_review(
            conn, run_id, pairs, low=review_band[0], high=review_band[1]
        )
        index.finish_run(conn, run_id, outcome)
    seconds["cluster"] = time.perf_counter() - t0
    _save_frame(frame, data_dir)
    return LinkResult(
        run_id,
        "full",
        model.version,
        trained,
        frame.num_rows,
        ids.to_pylist(),
        pairs.num_rows,
        queued,
        outcome,
        seconds,
    )


def new_record_ids(store: Store, import_ids: Sequence[int]) -> list[int]:
    """Person records written by these imports."""
    with store.engine.connect() as conn:
        q = select(records.c.id).where(
            records.c.kind == "person", records.c.import_id.in_([int(i) for i in import_ids])
        )
        return sorted(int(r) for (r,) in conn.execute(q))


def link_incremental(
    store: Store,
    data_dir: Path,
    *,
    actor_id: str,
    import_ids: Sequence[int] = (),
    record_ids: Sequence[int] = (),
    threshold: float = DEFAULT_THRESHOLD,
    floor: float = FLOOR,
    review_band: tuple[float, float] = (REVIEW_LOW, REVIEW_HIGH),
    model: LinkModel | None = None,
    backend: Backend | None = None,
) -> LinkResult:
    """Attach new person records (of ``import_ids`` and/or ``record_ids``) to the index.

    Uses the saved model and the frame kept by the last run; the records must be person
    records already in the store. Records already in the frame are re-scored (their new
    version replaces the old one).
    """
    from leds.link import index

    _check_threshold(threshold)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    model = model or load_model(data_dir)
    ids = sorted(set(new_record_ids(store, import_ids)) | {int(i) for i in record_ids})
    if not ids:
        raise LinkError(
            "no new person records to link", hint="give import ids or person record ids"
        )
    with store.engine.connect() as conn:
        new_frame = read_person_frame(conn, ids)
        if new_frame.num_rows != len(ids):
            found = set(new_frame["id"].to_pylist())
            missing = [i for i in ids if i not in found][:10]
            raise LinkError(
                f"not person records: {', '.join(map(str, missing))}",
                hint="give the ids of stored person records (kind 'person')",
            )
        existing = _load_frame(data_dir)
        if existing is None:
            everything = read_person_frame(conn)
            existing = everything.filter(
                pc.invert(pc.is_in(everything["id"], value_set=new_frame["id"]))
            )
    seconds["read"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    pairs = score_new(model, new_frame, existing, floor=floor, backend=backend)
    seconds["predict"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with store.transaction() as conn:
        run_id = index.start_run(
            conn,
            kind="incremental",
            model_version=model.version,
            threshold=threshold,
            actor_id=actor_id,
        )
        outcome = index.attach(conn, run_id, ids, pairs, threshold=threshold)
        queued = index.queue_for_review(
            conn, run_id, pairs, low=review_band[0], high=review_band[1]
        )
        index.finish_run(conn, run_id, outcome)
    seconds["attach"] = time.perf_counter() - t0
    kept = existing.filter(pc.invert(pc.is_in(existing["id"], value_set=new_frame["id"])))
    _save_frame(pa.concat_tables([kept, new_frame]), data_dir)
    return LinkResult(
        run_id,
        "incremental",
        model.version,
        False,
        new_frame.num_rows,
        ids,
        pairs.num_rows,
        queued,
        outcome,
        seconds,
    )


def _check_threshold(threshold: float) -> None:
    if not 0.0 < threshold < 1.0:
        raise LinkError(
            f"match threshold {threshold} is not a probability strictly between 0 and 1",
            hint="use e.g. 0.9",
        )
