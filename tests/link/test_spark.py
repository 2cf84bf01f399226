"""The same model on Splink's Spark backend (pyspark, local mode): opt-in.

Runs only with ``LEDS_TEST_SPARK=1`` and pyspark installed (``pip install 'leds[spark]'``);
it starts a local JVM (Java 17), so it is slow and not part of ``make test``.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from leds.link.backends import get_backend
from leds.link.model import LinkModel, for_backend
from leds.link.predict import predict

pytestmark = [
    # pyspark 4.3 warns about pandas 3 when it starts; leds hands it Arrow, not pandas.
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    pytest.mark.skipif(
        os.environ.get("LEDS_TEST_SPARK") != "1",
        reason="Spark backend test is opt-in: set LEDS_TEST_SPARK=1 to run it",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("pyspark") is None,
        reason="pyspark is not installed: pip install 'leds[spark]' (pyspark==4.3.0)",
    ),
]


@pytest.fixture(scope="module")
def spark_backend() -> Iterator[Any]:
    backend = get_backend("spark")
    yield backend
    backend.spark.stop()


def test_spark_backend_scores_like_duckdb(
    spark_backend: Any, link_model: LinkModel, link_frame: pa.Table, link_pairs: pa.Table
) -> None:
    """The DuckDB-trained model, spelled for Spark, gives the same pairs and weights."""
    some = link_pairs.slice(0, 150)
    wanted = pa.concat_arrays([some["id_l"].combine_chunks(), some["id_r"].combine_chunks()])
    frame = link_frame.filter(pc.is_in(link_frame["id"], value_set=wanted))
    spark_model = for_backend(link_model, spark_backend)
    assert spark_model.backend == "spark"
    on_spark = predict(spark_model, frame, backend=spark_backend)
    on_duckdb = predict(link_model, frame)
    assert on_duckdb.num_rows >= 100, "the sample has candidate pairs"

    def weights(t: pa.Table) -> dict[tuple[int, int], float]:
        return {
            (a, b): w
            for a, b, w in zip(
                t["id_l"].to_pylist(), t["id_r"].to_pylist(), t["match_weight"].to_pylist(),
                strict=True,
            )
        }  # fmt: skip

    a, b = weights(on_spark), weights(on_duckdb)
    assert set(a) == set(b)
    assert all(abs(a[k] - b[k]) < 1e-6 for k in b), "same levels, same weights"
