"""Explanations: why the model scores two records as it does (the data of a waterfall chart).

The total match weight is the prior (from lambda) plus each comparison's weight
(``log2(m/u)`` of the level that applied, plus the term-frequency adjustment where the level
has one). ``match_probability = 2^w / (1 + 2^w)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Connection

from leds.link.backends import Backend, LinkError, get_backend
from leds.link.frame import COLUMNS, prepare, read_person_frame
from leds.link.model import LinkModel, _quiet

# Which frame columns each comparison reads (shown beside its weight).
SHOWN: dict[str, tuple[str, ...]] = {
    "name": ("surname", "forename1"),
    "middle_name": ("forename2",),
    "dob": ("dob", "dob_y", "dob_m", "dob_d"),
    "postcode": ("postcode", "postcodes"),
    "identifiers": ("pnc_id", "cro", "driver_number", "nino", "passport"),
    "sex": ("sex",),
    "nationality": ("nationality",),
}


@dataclass(frozen=True)
class ComparisonWeight:
    comparison: str
    level: str  # the label of the level that applied
    gamma: int  # its index (-1: a value is missing)
    match_weight: float  # log2 of the level's Bayes factor, including any tf adjustment
    tf_adjustment: float  # the term-frequency part of match_weight (0 if none)
    left: dict[str, Any] = field(default_factory=dict)
    right: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Explanation:
    record_a: int
    record_b: int
    model_version: str
    prior: float  # match weight of lambda
    comparisons: list[ComparisonWeight]
    match_weight: float  # prior + sum of comparison weights
    match_probability: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def waterfall(self) -> list[tuple[str, float, float]]:
        """(step, weight, running total) rows: prior, each comparison, the total."""
        rows = [("prior", self.prior, self.prior)]
        running = self.prior
        for c in self.comparisons:
            running += c.match_weight
            rows.append((f"{c.comparison}: {c.level}", c.match_weight, running))
        rows.append(("total", self.match_weight, self.match_weight))
        return rows


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def explain(
    model: LinkModel,
    rec_a: Mapping[str, Any],
    rec_b: Mapping[str, Any],
    *,
    backend: Backend | None = None,
) -> Explanation:
    """Explain the score of two person records (dicts of ``records`` columns, with ``id``)."""
    frame = prepare([rec_a, rec_b])
    return _explain_frame(model, frame.to_pylist(), backend)


def explain_ids(conn: Connection, model: LinkModel, record_a: int, record_b: int) -> Explanation:
    """Explain two stored person records by id (their address history included)."""
    frame = read_person_frame(conn, [record_a, record_b])
    rows = {int(r["id"]): r for r in frame.to_pylist()}
    missing = [i for i in (record_a, record_b) if i not in rows]
    if missing:
        raise LinkError(
            f"no person record with id {', '.join(map(str, missing))}",
            hint="give the ids of person records (records of kind 'person')",
        )
    return _explain_frame(model, [rows[record_a], rows[record_b]], None)


def explain_person(
    conn: Connection, model: LinkModel, record_id: int, person_records: Sequence[int]
) -> list[Explanation]:
    """Explain one record against each record of a person, strongest first."""
    out = [explain_ids(conn, model, record_id, r) for r in person_records if r != record_id]
    return sorted(out, key=lambda e: -e.match_weight)


def _explain_frame(
    model: LinkModel, rows: list[dict[str, Any]], backend: Backend | None
) -> Explanation:
    import pyarrow as pa
    from splink import Linker

    from leds.link.frame import SCHEMA

    backend = backend or get_backend(model.backend)
    _quiet()
    settings = dict(model.settings)
    settings["retain_intermediate_calculation_columns"] = True
    settings["retain_matching_columns"] = True
    db_api = backend.db_api()
    table = backend.register(db_api, pa.Table.from_pylist(rows, schema=SCHEMA), "explain_in")
    linker = Linker(table, settings, log_level=None)
    if model.tf_surname is not None:
        tf = backend.register(db_api, model.tf_surname, "tf_surname_lookup")
        linker.table_management.register_term_frequency_lookup(tf, "surname")
    left = {k: rows[0][k] for k in COLUMNS}
    right = {k: rows[1][k] for k in COLUMNS}
    scored = linker.inference.score_pair(left, right).as_record_list()[0]
    weights: list[ComparisonWeight] = []
    for comp in settings["comparisons"]:
        name = comp["output_column_name"]
        gamma = int(scored[f"gamma_{name}"])
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        if gamma < 0:
            label, weight, tf_w = "a value is missing", 0.0, 0.0
        else:
            level = levels[len(levels) - 1 - gamma]
            label = level.get("label_for_charts") or level.get("sql_condition", "")
            tf_raw = scored.get(f"mw_tf_adj_{name}")
            tf_w = float(tf_raw) if tf_raw is not None else 0.0
            weight = float(scored[f"mw_{name}"]) + tf_w
        cols = SHOWN.get(name, ())
        weights.append(
            ComparisonWeight(
                name,
                str(label),
                gamma,
                weight,
                tf_w,
                {c: _clean(left.get(c)) for c in cols},
                {c: _clean(right.get(c)) for c in cols},
            )
        )
    total = float(scored["match_weight"])
    return Explanation(
        int(rows[0]["id"]),
        int(rows[1]["id"]),
        model.version,
        model.prior_match_weight,
        weights,
        total,
        2**total / (1 + 2**total),
    )
