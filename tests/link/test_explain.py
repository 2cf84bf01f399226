"""Explanations: per-comparison weights that add up to the model's score."""

from __future__ import annotations

import math
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from linkworld import LinkWorld

from leds.link.backends import LinkError
from leds.link.explain import explain, explain_ids, explain_person


def _person(rid: int, **values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": rid, "source": "pnc"}
    base.update(values)
    return base


def test_weights_add_up_to_the_predicted_score(
    link_world: LinkWorld,
    link_model,
    link_pairs: pa.Table,  # type: ignore[no-untyped-def]
) -> None:
    row = link_pairs.filter(pc.greater(link_pairs["match_probability"], 0.5)).slice(3, 1)
    a, b, weight = row["id_l"][0].as_py(), row["id_r"][0].as_py(), row["match_weight"][0].as_py()
    with link_world.store.engine.connect() as conn:
        ex = explain_ids(conn, link_model, a, b)
    assert ex.match_weight == pytest.approx(weight, abs=1e-6)
    assert ex.prior + sum(c.match_weight for c in ex.comparisons) == pytest.approx(weight)
    steps = ex.waterfall()
    assert steps[0][0] == "prior"
    assert steps[-1][0] == "total"
    assert steps[-2][2] == pytest.approx(weight)
    assert ex.match_probability == pytest.approx(2**weight / (1 + 2**weight))
    assert {c.comparison for c in ex.comparisons} >= {"name", "dob", "postcode", "identifiers"}


def test_the_issue_example_is_explained_level_by_level(link_model) -> None:  # type: ignore[no-untyped-def]
    a = _person(1, surname="Khan", forenames="Mohammed", dob="1985-04-03", sex="M",
                postcode="B8 1AA")  # fmt: skip
    b = _person(2, surname="Kahn", forenames="Muhammad", dob="1985-03-04", sex="M",
                postcode="B8 1AA")  # fmt: skip
    c = _person(3, surname="Mohammed", forenames="Khan", dob="1985-04-03", sex="M")
    d = _person(4, surname="Smith", forenames="John", dob="1960-01-01", sex="F")
    ab = {w.comparison: w for w in explain(link_model, a, b).comparisons}
    assert ab["name"].level == "surname variant, forename exact or variant"
    assert ab["dob"].level == "day/month swapped"
    assert ab["name"].match_weight > 0
    assert ab["dob"].match_weight > 0
    ac = {w.comparison: w for w in explain(link_model, a, c).comparisons}
    assert ac["name"].level == "forename and surname swapped"
    assert ac["postcode"].gamma == -1
    assert ac["postcode"].match_weight == 0
    assert explain(link_model, a, b).match_probability > 0.5
    ad = explain(link_model, a, d)
    assert ad.match_weight < -10
    assert math.isfinite(ad.match_weight)


def test_unknown_records_get_a_clear_error(link_world: LinkWorld, link_model) -> None:  # type: ignore[no-untyped-def]
    with link_world.store.engine.connect() as conn, pytest.raises(LinkError, match="no person"):
        explain_ids(conn, link_model, 1, 10**9)


def test_a_record_is_explained_against_a_person(
    link_world: LinkWorld,
    link_model,
    link_pairs: pa.Table,  # type: ignore[no-untyped-def]
) -> None:
    strong = link_pairs.filter(pc.greater(link_pairs["match_probability"], 0.99))
    a = strong["id_l"][0].as_py()
    mates = [
        b
        for x, b in zip(strong["id_l"].to_pylist(), strong["id_r"].to_pylist(), strict=True)
        if x == a
    ]
    with link_world.store.engine.connect() as conn:
        out = explain_person(conn, link_model, a, [a, *mates])
    assert sorted(e.record_b for e in out) == sorted(mates)
    weights = [e.match_weight for e in out]
    assert weights == sorted(weights, reverse=True)
    assert all(e.record_a == a for e in out)
    assert all(e.match_probability > 0.99 for e in out)
