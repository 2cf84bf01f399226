"""Training, saving, prediction and incremental scoring on the small world."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from leds.link.backends import LinkError, get_backend
from leds.link.model import load_model, save_model, train
from leds.link.predict import PAIRS_SCHEMA, predict, score_new


def clusters(ids: list[int], pairs: pa.Table, threshold: float) -> dict[int, int]:
    parent = {i: i for i in ids}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    kept = pairs.filter(pc.greater_equal(pairs["match_probability"], threshold))
    for a, b in zip(kept["id_l"].to_pylist(), kept["id_r"].to_pylist(), strict=True):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
    return {i: find(i) for i in ids}


def pairwise_f1(predicted: dict[int, int], truth: dict[int, str]) -> tuple[float, float, float]:
    def n_pairs(labels: list[object]) -> int:
        return sum(n * (n - 1) // 2 for n in Counter(labels).values())

    tp = n_pairs([(predicted[i], truth[i]) for i in predicted])
    p = tp / max(1, n_pairs(list(predicted.values())))
    r = tp / max(1, n_pairs([truth[i] for i in predicted]))
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def test_frame_has_every_person_record(link_frame: pa.Table, link_truth: dict[int, str]) -> None:
    assert set(link_frame["id"].to_pylist()) == set(link_truth)
    rows = link_frame.to_pylist()
    partial = [r for r in rows if r["dob"] is None and r["dob_y"] is not None]
    assert partial, "the world has partial dates of birth; the frame keeps their year"
    pnc = [r for r in rows if r["source"] == "pnc"]
    assert sum(r["postcode"] is not None for r in pnc) > 0.9 * len(pnc), "from address records"


def test_model_is_trained_with_a_counted_blocking_plan(link_model) -> None:  # type: ignore[no-untyped-def]
    plan = link_model.blocking_plan
    assert plan
    assert all("marginal_comparisons" in p for p in plan)
    assert any(p["kept"] for p in plan)
    lam = link_model.settings["probability_two_random_records_match"]
    assert 0 < lam < 0.01
    for comp in link_model.settings["comparisons"]:
        for level in comp["comparison_levels"]:
            if not level.get("is_null_level"):
                assert level.get("u_probability") is not None, (comp["output_column_name"], level)
    name = next(c for c in link_model.settings["comparisons"] if c["output_column_name"] == "name")
    exact = name["comparison_levels"][1]
    assert exact["m_probability"] > exact["u_probability"] * 100
    assert [s["rule"] for s in link_model.em_sessions]


def test_bad_input_gets_a_clear_error(link_frame: pa.Table) -> None:
    with pytest.raises(LinkError, match="cannot train"):
        train(link_frame.slice(0, 1))
    with pytest.raises(LinkError, match="no linkage model"):
        load_model(Path("/nonexistent-leds-data"))


def test_save_and_load_keep_the_model_versioned(link_model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    v1 = save_model(link_model, tmp_path)
    v2 = save_model(link_model, tmp_path)
    assert v1 != v2
    assert load_model(tmp_path).version == v2
    old = load_model(tmp_path, v1)
    assert old.settings == link_model.settings
    assert old.tf_surname is not None
    assert old.tf_surname.num_rows > 100
    body = json.loads((tmp_path / "link" / "models" / f"{v1}.json").read_text())
    assert body["leds"]["blocking_plan"] == link_model.blocking_plan
    with pytest.raises(LinkError, match="no linkage model version"):
        load_model(tmp_path, "m-nope")


def test_predictions_find_the_true_persons(
    link_pairs: pa.Table, link_truth: dict[int, str]
) -> None:
    assert link_pairs.schema.equals(PAIRS_SCHEMA)
    assert pc.all(pc.less(link_pairs["id_l"], link_pairs["id_r"])).as_py()
    assert pc.min(link_pairs["match_probability"]).as_py() >= 0.01
    p, r, f1 = pairwise_f1(clusters(list(link_truth), link_pairs, 0.9), link_truth)
    assert f1 >= 0.99, (p, r, f1)


def test_incremental_scoring_matches_full_prediction(
    link_model,
    link_frame: pa.Table,
    link_pairs: pa.Table,  # type: ignore[no-untyped-def]
) -> None:
    is_new = pc.equal(link_frame["source"], "iabs")
    new, old = link_frame.filter(is_new), link_frame.filter(pc.invert(is_new))
    inc = score_new(link_model, new, old)
    new_ids = set(new["id"].to_pylist())

    def strong(t: pa.Table) -> set[tuple[int, int]]:
        t = t.filter(pc.greater_equal(t["match_probability"], 0.9))
        return {
            (a, b)
            for a, b in zip(t["id_l"].to_pylist(), t["id_r"].to_pylist(), strict=True)
            if a in new_ids or b in new_ids
        }

    full, got = strong(link_pairs), strong(inc)
    assert full, "the iabs records link to others"
    assert len(full & got) >= 0.995 * len(full)
    assert not got - full
    assert score_new(link_model, new.slice(0, 0), old).num_rows == 0


def test_predict_on_a_tiny_frame(link_model, link_frame: pa.Table) -> None:  # type: ignore[no-untyped-def]
    assert predict(link_model, link_frame.slice(0, 1)).num_rows == 0


def test_the_same_model_is_spelled_for_spark_in_one_place(link_model) -> None:  # type: ignore[no-untyped-def]
    """Backend differences live in backends.py: the Spark spelling keeps every m and u."""
    from leds.link.backends import SparkBackend
    from leds.link.model import for_backend

    spark = for_backend(link_model, SparkBackend(spark=object()))
    assert spark.backend == "spark"
    text = json.dumps(spark.settings)
    assert "arrays_overlap" in text
    assert "list_intersect" not in text
    assert "list_intersect" in json.dumps(link_model.settings)
    for a, b in zip(link_model.settings["comparisons"], spark.settings["comparisons"], strict=True):
        for la, lb in zip(a["comparison_levels"], b["comparison_levels"], strict=True):
            assert la.get("m_probability") == lb.get("m_probability")
            assert la.get("u_probability") == lb.get("u_probability")
    assert for_backend(link_model, get_backend("duckdb")) is link_model
