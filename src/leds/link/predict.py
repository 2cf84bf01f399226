"""Prediction with a trained model: all pairs of a frame, or new records against existing ones.

Both return the pairs table of the linkage contract: ``id_l < id_r``, ``match_weight``,
``match_probability``, only pairs at or above ``floor`` probability.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from leds.link.backends import Backend, get_backend
from leds.link.frame import SCHEMA
from leds.link.model import INPUT_TABLE, LinkModel, _quiet

FLOOR = 0.01
PAIRS_SCHEMA = pa.schema(
    [
        ("id_l", pa.int64()),
        ("id_r", pa.int64()),
        ("match_weight", pa.float64()),
        ("match_probability", pa.float64()),
    ]
)
_PAIR_COLUMNS = ["id_l", "id_r", "match_weight", "match_probability"]


def _ordered(table: pa.Table) -> pa.Table:
    """Cast to the pairs schema with ``id_l < id_r`` (swapping where needed), deduplicated."""
    if table.num_rows == 0:
        return PAIRS_SCHEMA.empty_table()
    a = pc.cast(table["id_l"], pa.int64())
    b = pc.cast(table["id_r"], pa.int64())
    swap = pc.greater(a, b)
    out = pa.table(
        {
            "id_l": pc.if_else(swap, b, a),
            "id_r": pc.if_else(swap, a, b),
            "match_weight": pc.cast(table["match_weight"], pa.float64()),
            "match_probability": pc.cast(table["match_probability"], pa.float64()),
        },
        schema=PAIRS_SCHEMA,
    )
    return out.sort_by([("id_l", "ascending"), ("id_r", "ascending")])


def _linker(model: LinkModel, backend: Backend, frame: pa.Table) -> tuple[Any, Any, Any]:
    from splink import Linker

    _quiet()
    db_api = backend.db_api()
    table = backend.register(db_api, frame, INPUT_TABLE)
    linker = Linker(table, dict(model.settings), log_level=None)
    _register_tf(model, backend, db_api, linker)
    return linker, db_api, table


def _register_tf(model: LinkModel, backend: Backend, db_api: Any, linker: Any) -> None:
    if model.tf_surname is not None:
        tf = backend.register(db_api, model.tf_surname, "tf_surname_lookup")
        linker.table_management.register_term_frequency_lookup(tf, "surname")


def predict(
    model: LinkModel,
    frame: pa.Table,
    *,
    floor: float = FLOOR,
    backend: Backend | None = None,
    chunks: int = 1,
) -> pa.Table:
    """Score every blocked pair of the frame; keep pairs with probability >= ``floor``.

    ``chunks`` > 1 splits the work (Splink's chunked prediction) to bound memory.
    """
    backend = backend or get_backend(model.backend)
    if frame.num_rows < 2:
        return PAIRS_SCHEMA.empty_table()
    linker, _db, _t = _linker(model, backend, frame)
    kwargs: dict[str, Any] = {}
    if chunks > 1:
        kwargs = {"num_chunks_left": chunks, "num_chunks_right": 1}
    sdf = linker.inference.predict(
        threshold_match_probability=floor, warning_mode="never", **kwargs
    )
    pairs = backend.to_arrow(sdf, _PAIR_COLUMNS_SPLINK)
    sdf.drop_table_from_database_and_remove_from_cache()
    return _ordered(_rename(pairs))


_PAIR_COLUMNS_SPLINK = ["id_l", "id_r", "match_weight", "match_probability"]


def _rename(table: pa.Table) -> pa.Table:
    return table.rename_columns(_PAIR_COLUMNS)


def score_new(
    model: LinkModel,
    new_frame: pa.Table,
    existing_frame: pa.Table,
    *,
    floor: float = FLOOR,
    backend: Backend | None = None,
) -> pa.Table:
    """Pairs of new records with existing ones and among themselves (incremental linking).

    Records of ``new_frame`` that are also in ``existing_frame`` (same id) are taken as their
    new version: the old version is left out of the comparison.
    """
    from splink import Linker

    backend = backend or get_backend(model.backend)
    if new_frame.num_rows == 0:
        return PAIRS_SCHEMA.empty_table()
    new_ids = new_frame["id"]
    existing = existing_frame.filter(pc.invert(pc.is_in(existing_frame["id"], value_set=new_ids)))
    _quiet()
    db_api = backend.db_api()
    new_t = backend.register(db_api, new_frame.select(SCHEMA.names), "new_persons")
    old_t = backend.register(db_api, existing.select(SCHEMA.names), "existing_persons")
    linker = Linker(new_t, dict(model.settings), log_level=None)
    _register_tf(model, backend, db_api, linker)
    parts: list[pa.Table] = []
    if existing.num_rows:
        between = linker.inference.predict_between(
            new_t, old_t, threshold_match_probability=floor, warning_mode="never"
        )
        parts.append(_rename(backend.to_arrow(between, _PAIR_COLUMNS_SPLINK)))
    if new_frame.num_rows > 1:
        within = linker.inference.predict_within(
            new_t, threshold_match_probability=floor, warning_mode="never"
        )
        parts.append(_rename(backend.to_arrow(within, _PAIR_COLUMNS_SPLINK)))
    if not parts:
        return PAIRS_SCHEMA.empty_table()
    return _ordered(pa.concat_tables(parts))
