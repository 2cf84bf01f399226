"""Training, saving and loading the leds linkage model (Splink 5; DuckDB by default).

Training, deterministic for a given frame and seed:

1. **Blocking plan from comparison counts**: candidate rules in priority order are counted with
   Splink's ``count_comparisons_from_blocking_rules``; a rule whose marginal count exceeds the
   per-rule budget is dropped, so predictions stay bounded (``budget_per_record`` x records).
2. **lambda** (probability that two random records match) from a deterministic rule: pairs that
   agree on name and full DOB, or on a PNC ID, at an assumed recall.
3. **u** by random sampling (``min(max_pairs, 100 x records)`` pairs, seeded).
4. **m** by expectation-maximisation in two sessions (blocked on DOB, then on name), each
   capped at ``em_max_pairs`` by training only on a stable hash-sample of the blocks.

Models are saved as JSON under ``DATA/link/models/<version>.json`` (Splink's model plus leds
metadata), with the surname term-frequency table beside it (``<version>.tf_surname.parquet``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from leds.link.backends import Backend, LinkError, get_backend
from leds.link.comparisons import comparisons
from leds.link.frame import ID_COLUMNS

MODEL_FORMAT = "leds.link.model/1"
INPUT_TABLE = "persons"

# Candidate prediction blocking rules, strongest first (planned from counts at training time).
CANDIDATE_RULES: tuple[str, ...] = (
    "l.pnc_id = r.pnc_id",
    "l.passport = r.passport",
    "l.driver_number = r.driver_number",
    "l.nino = r.nino",
    "l.cro = r.cro",
    "l.dob = r.dob AND l.surname_dm = r.surname_dm",
    "l.dob = r.dob AND l.forename_dm = r.forename_dm",
    "l.dob_y = r.dob_y AND l.surname_dm = r.surname_dm AND l.forename_dm = r.forename_dm",
    "l.surname_dm = r.forename_dm AND l.forename_dm = r.surname_dm",
    "l.postcode = r.postcode AND l.forename_dm = r.forename_dm",
    "l.postcode = r.postcode AND l.dob = r.dob",
    "l.postcode = r.postcode AND l.surname_dm = r.surname_dm",
    "l.surname_dm = r.surname_dm AND l.forename_dm = r.forename_dm AND l.forename2 = r.forename2",
    "l.dob_y = r.dob_y AND l.dob_m = r.dob_d AND l.dob_d = r.dob_m "
    "AND l.pc_district = r.pc_district",
    "l.surname_dm = r.surname_dm AND l.forename_dm = r.forename_dm "
    "AND l.pc_district = r.pc_district",
    "l.dob = r.dob AND l.pc_district = r.pc_district",
    "l.surname = r.surname AND l.dob_y = r.dob_y",
    "l.surname = r.surname AND l.forename1 = r.forename1 AND (l.dob_y IS NULL OR r.dob_y IS NULL)",
)
# lambda: records agreeing on one of these are taken as matches, found at DETERMINISTIC_RECALL.
DETERMINISTIC_RULES: tuple[str, ...] = (
    "l.pnc_id = r.pnc_id",
    "l.surname = r.surname AND l.forename1 = r.forename1 AND l.dob = r.dob",
)
DETERMINISTIC_RECALL = 0.8
# EM sessions: (blocking condition, its sampling column).
EM_SESSIONS: tuple[tuple[str, str], ...] = (
    ("l.dob = r.dob", "dob_bucket"),
    ("l.surname = r.surname AND l.forename1 = r.forename1", "name_bucket"),
)


@dataclass
class LinkModel:
    """A trained model: Splink settings (with m, u, lambda) and leds metadata."""

    settings: dict[str, Any]
    version: str = ""
    trained_at: str = ""
    records: int = 0
    seed: int = 0
    blocking_plan: list[dict[str, Any]] = field(default_factory=list)
    em_sessions: list[dict[str, Any]] = field(default_factory=list)
    tf_surname: pa.Table | None = None
    backend: str = "duckdb"

    def metadata(self) -> dict[str, Any]:
        return {
            "format": MODEL_FORMAT,
            "version": self.version,
            "trained_at": self.trained_at,
            "records": self.records,
            "seed": self.seed,
            "backend": self.backend,
            "blocking_plan": self.blocking_plan,
            "em_sessions": self.em_sessions,
        }

    @property
    def prior_match_weight(self) -> float:
        p = float(self.settings["probability_two_random_records_match"])
        return math.log2(p / (1 - p))


def base_settings(backend: Backend, blocking_rules: list[str] | tuple[str, ...] = ()) -> Any:
    from splink import SettingsCreator

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="id",
        comparisons=comparisons(backend),
        blocking_rules_to_generate_predictions=list[Any](blocking_rules),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=["source"],
        max_iterations=20,
        em_convergence=0.001,
    )


def _quiet() -> None:
    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.ERROR)


def for_backend(model: LinkModel, backend: Backend) -> LinkModel:
    """The same model (blocking rules, m, u, lambda) spelled for another backend's SQL."""
    if backend.name == model.backend:
        return model
    rules = [p["rule"] for p in model.blocking_plan if p["kept"]]
    target = base_settings(backend, rules).create_settings_dict(backend.dialect)
    pairs = zip(model.settings["comparisons"], target["comparisons"], strict=True)
    for src, dst in pairs:
        levels = zip(src["comparison_levels"], dst["comparison_levels"], strict=True)
        for a, b in levels:
            for key in ("m_probability", "u_probability"):
                if key in a:
                    b[key] = a[key]
    for key in ("probability_two_random_records_match", "linker_uid"):
        if key in model.settings:
            target[key] = model.settings[key]
    return replace(model, settings=target, backend=backend.name)


def _sample_proportion(n_records: int) -> float:
    """Share of records each side of a counting join samples (exact up to 200,000 records)."""
    return 1.0 if n_records <= 200_000 else max(0.1, 200_000 / n_records)


def _count(table: Any, rules: list[str], n_records: int) -> list[Any]:
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    with warnings.catch_warnings():
        # Splink warns when a sampled estimate rests on few pairs; such rules are small.
        warnings.filterwarnings("ignore", category=UserWarning, module=r"splink\.")
        return list(
            count_comparisons_from_blocking_rules(
                table,
                blocking_rules=list[Any](rules),
                link_type="dedupe_only",
                unique_id_column_name="id",
                record_sample_proportion=_sample_proportion(n_records),
            )
        )


def plan_blocking(
    backend: Backend,
    db_api: Any,
    table: Any,
    n_records: int,
    *,
    budget_per_record: float = 40.0,
    candidates: tuple[str, ...] = CANDIDATE_RULES,
) -> list[dict[str, Any]]:
    """Count the candidate rules' comparisons and keep those within budget (in order)."""
    per_rule_cap = max(50_000, int(budget_per_record * n_records / 3))
    total_cap = max(150_000, int(budget_per_record * n_records))
    counts = _count(table, list(candidates), n_records)
    plan: list[dict[str, Any]] = []
    kept: list[str] = []
    total = 0
    for rule, rec in zip(candidates, counts, strict=True):
        marginal = int(rec["marginal_comparison_count"])
        keep = marginal <= per_rule_cap and total + marginal <= total_cap
        if keep:
            kept.append(rule)
            total += marginal
        plan.append({"rule": rule, "marginal_comparisons": marginal, "kept": keep})
    if not kept:
        raise LinkError("no blocking rule fits the comparison budget", hint="raise the budget")
    if len(kept) < len(candidates):
        # Marginal counts shift when a rule is dropped: recount the kept rules only.
        recount = _count(table, kept, n_records)
        by_rule = {
            r: int(c["marginal_comparison_count"]) for r, c in zip(kept, recount, strict=True)
        }
        for item in plan:
            if item["kept"]:
                item["marginal_comparisons"] = by_rule[item["rule"]]
    return plan


def _sample_condition(column: str, n_pairs: int, cap: int) -> tuple[str, int]:
    """Extra condition keeping about ``cap`` of ``n_pairs`` blocked pairs (stable buckets)."""
    if n_pairs <= cap:
        return "", 1000
    keep = max(1, int(1000 * cap / n_pairs))
    return f" AND l.{column} < {keep}", keep


def train(
    frame: pa.Table,
    *,
    seed: int = 42,
    backend: Backend | None = None,
    max_pairs: float = 5e6,
    em_max_pairs: int = 1_000_000,
    budget_per_record: float = 40.0,
    progress: Callable[[int], None] | None = None,
) -> LinkModel:
    """Train the model on a linkage frame (see the module docstring for the steps).

    ``progress(step)`` is called after each of the 5 steps.
    """
    from splink import Linker

    if frame.num_rows < 2:
        raise LinkError(
            f"cannot train a linkage model on {frame.num_rows} person record(s)",
            hint="import at least two sources' person records first",
        )
    _quiet()
    backend = backend or get_backend()
    db_api = backend.db_api()
    table = backend.register(db_api, frame, INPUT_TABLE)
    n = frame.num_rows

    def step(k: int) -> None:
        if progress:
            progress(k)

    plan = plan_blocking(backend, db_api, table, n, budget_per_record=budget_per_record)
    rules = [p["rule"] for p in plan if p["kept"]]
    step(1)
    linker = Linker(table, base_settings(backend, rules), log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        list(DETERMINISTIC_RULES), recall=DETERMINISTIC_RECALL
    )
    step(2)
    u_pairs = min(max_pairs, max(1e5, 100.0 * n))  # bounded by the records, not their square
    linker.training.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=seed)
    step(3)
    sessions: list[dict[str, Any]] = []
    for rule, column in EM_SESSIONS:
        counted = _count(table, [rule], n)
        pairs = int(counted[0]["marginal_comparison_count"])
        extra, keep = _sample_condition(column, pairs, em_max_pairs)
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule + extra, fix_probability_two_random_records_match=True
        )
        sessions.append({"rule": rule + extra, "pairs": pairs, "sampled_per_mille": keep})
    step(4)
    settings = _fill_unobserved(linker.misc.save_model_to_json(out_path=None), frame, u_pairs)
    tf = _tf_table(backend, linker)
    step(5)
    return LinkModel(
        settings=settings,
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        records=n,
        seed=seed,
        blocking_plan=plan,
        em_sessions=sessions,
        tf_surname=tf,
        backend=backend.name,
    )


def _fill_unobserved(settings: dict[str, Any], frame: pa.Table, max_pairs: float) -> dict[str, Any]:
    """Give levels never seen while training an explicit, conservative probability.

    u never observed in ``max_pairs`` random pairs: for the identifiers' "equal" level it is the
    chance that two records share one of ``d`` distinct identifier values (``1/d``); otherwise
    half of one observation (``0.5/max_pairs``). m never observed among likely matches: 0.001.
    """
    distinct = 0
    for col in ID_COLUMNS:
        distinct += len(pc.unique(frame[col].drop_null()))
    for comp in settings["comparisons"]:
        for level in comp["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            if level.get("u_probability") is None:
                if comp["output_column_name"] == "identifiers" and distinct:
                    level["u_probability"] = 1.0 / distinct
                else:
                    level["u_probability"] = 0.5 / max_pairs
            if level.get("m_probability") is None:
                level["m_probability"] = 0.001
    return settings


def _tf_table(backend: Backend, linker: Any) -> pa.Table:
    sdf = linker.table_management.compute_tf_table("surname")
    return backend.to_arrow(sdf, ["surname", "tf_surname"])


def _models_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "link" / "models"


def save_model(
    model: LinkModel, data_dir: Path, conn: Any = None, *, actor_id: str | None = None
) -> str:
    """Write the model under ``DATA/link/models/`` and return its version (``m<UTC time>``).

    If the store has L2's ``link_models`` table and ``conn`` is given, a row is added too.
    """
    directory = _models_dir(data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    version = f"m{stamp}"
    k = 1
    while (directory / f"{version}.json").exists():
        k += 1
        version = f"m{stamp}-{k}"
    model.version = version
    body = {"leds": model.metadata(), "splink": model.settings}
    tmp = directory / f".{version}.json.tmp"
    tmp.write_text(json.dumps(body, indent=1, sort_keys=True), encoding="utf-8")
    if model.tf_surname is not None:
        pq.write_table(model.tf_surname, directory / f"{version}.tf_surname.parquet")
    tmp.replace(directory / f"{version}.json")
    (directory / "CURRENT").write_text(version + "\n", encoding="utf-8")
    if conn is not None:
        _record_model_row(conn, model, directory / f"{version}.json", actor_id)
    return version


def _record_model_row(conn: Any, model: LinkModel, path: Path, actor_id: str | None) -> None:
    try:
        from leds.store import tables_link
    except ImportError:  # pragma: no cover - the module is always there
        return
    table = getattr(tables_link, "link_models", None)
    if table is None:
        return
    values = {
        "version": model.version,
        "created_at": datetime.fromisoformat(model.trained_at),
        "path": str(path),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "records": model.records,
        "settings": json.dumps(model.metadata(), sort_keys=True),
        "actor_id": actor_id,
    }
    cols = {c.name for c in table.columns}
    row = {k: v for k, v in values.items() if k in cols}
    conn.execute(table.insert().values(**row))


def list_models(data_dir: Path) -> list[str]:
    """Saved model versions, oldest first."""
    directory = _models_dir(data_dir)
    return sorted(p.stem for p in directory.glob("m*.json")) if directory.exists() else []


def load_model(data_dir: Path, version: str | None = None) -> LinkModel:
    """Load a saved model (the current one by default)."""
    directory = _models_dir(data_dir)
    if version is None:
        current = directory / "CURRENT"
        if not current.exists():
            raise LinkError(
                f"no linkage model in {directory}",
                hint="run `leds link` (a full linkage trains and saves one) first",
            )
        version = current.read_text(encoding="utf-8").strip()
    path = directory / f"{version}.json"
    if not path.exists():
        raise LinkError(
            f"no linkage model version {version!r} in {directory}",
            hint=f"known versions: {', '.join(list_models(data_dir)) or 'none'}",
        )
    body = json.loads(path.read_text(encoding="utf-8"))
    meta = body.get("leds", {})
    if meta.get("format") != MODEL_FORMAT:
        raise LinkError(f"{path} is not a {MODEL_FORMAT} model file")
    tf_path = directory / f"{version}.tf_surname.parquet"
    return LinkModel(
        settings=body["splink"],
        version=version,
        trained_at=meta.get("trained_at", ""),
        records=int(meta.get("records", 0)),
        seed=int(meta.get("seed", 0)),
        blocking_plan=list(meta.get("blocking_plan", [])),
        em_sessions=list(meta.get("em_sessions", [])),
        tf_surname=pq.read_table(tf_path) if tf_path.exists() else None,
        backend=str(meta.get("backend", "duckdb")),
    )
