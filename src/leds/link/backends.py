"""The one place where linkage backends differ: SQL functions, data types, table hand-over.

The model (comparisons, blocking rules, parameters) is the same on every backend; what changes
is how a similarity function or an array test is spelled in SQL, how the Arrow frame is handed
to the engine (DuckDB takes Arrow directly; Spark gets plain types: dates as ISO strings,
lists as arrays), and how results come back as Arrow. Comparisons and blocking rules ask the
:class:`Backend` for SQL fragments and never spell a function themselves.

* ``duckdb`` (default): in-process, no set-up. ``threads`` and ``memory_limit`` bound it.
* ``spark``: ``pyspark`` in local mode (optional extra ``leds[spark]``); Splink registers its
  similarity UDFs (Jaro-Winkler...) itself.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import pyarrow as pa

from leds.errors import LedsError


class LinkError(LedsError):
    """A linkage step cannot run (missing backend, no records, no model...)."""


class Backend(ABC):
    """One linkage engine: SQL spelling + data hand-over."""

    name: str
    dialect: str  # Splink's dialect name

    @abstractmethod
    def db_api(self) -> Any:
        """A fresh Splink database API for this engine."""

    @abstractmethod
    def register(self, db_api: Any, table: pa.Table, name: str) -> Any:
        """Register an Arrow frame with the engine; returns a SplinkDataFrame."""

    @abstractmethod
    def to_arrow(self, splink_df: Any, columns: list[str]) -> pa.Table:
        """Fetch some columns of a SplinkDataFrame as Arrow."""

    # ---- SQL spelling ------------------------------------------------------------------
    def jaro_winkler(self, left: str, right: str) -> str:
        from splink.internals.dialects import SplinkDialect

        fn = SplinkDialect.from_string(self.dialect).jaro_winkler_function_name
        return f"{fn}({left}, {right})"

    @abstractmethod
    def arrays_overlap(self, left: str, right: str) -> str:
        """SQL: the two arrays share at least one element (false if either is empty/null)."""

    @abstractmethod
    def array_contains(self, array: str, value: str) -> str:
        """SQL: the array holds the value."""


class DuckDBBackend(Backend):
    name = "duckdb"
    dialect = "duckdb"

    def __init__(self, *, threads: int | None = None, memory_limit: str | None = None) -> None:
        self.threads = threads
        self.memory_limit = memory_limit

    def db_api(self) -> Any:
        import duckdb
        from splink import DuckDBAPI

        con = duckdb.connect(":memory:")
        if self.threads:
            con.execute(f"SET threads = {int(self.threads)}")
        if self.memory_limit:
            con.execute(f"SET memory_limit = '{self.memory_limit}'")
        con.execute("SET preserve_insertion_order = false")
        return DuckDBAPI(connection=con)

    def register(self, db_api: Any, table: pa.Table, name: str) -> Any:
        return db_api.register(table, table_name=name)

    def to_arrow(self, splink_df: Any, columns: list[str]) -> pa.Table:
        con = splink_df.db_api._con
        cols = ", ".join(columns)
        result = con.sql(f"SELECT {cols} FROM {splink_df.physical_name}")
        table: pa.Table = result.to_arrow_table()
        return table

    def arrays_overlap(self, left: str, right: str) -> str:
        return f"len(list_intersect({left}, {right})) > 0"

    def array_contains(self, array: str, value: str) -> str:
        return f"list_contains({array}, {value})"


class SparkBackend(Backend):
    name = "spark"
    dialect = "spark"

    def __init__(self, spark: Any = None, *, partitions: int = 4) -> None:
        self._spark = spark
        self.partitions = partitions

    @property
    def spark(self) -> Any:
        if self._spark is None:
            try:
                from pyspark.sql import (  # type: ignore[import-not-found, unused-ignore]
                    SparkSession,
                )
            except ImportError as exc:
                raise LinkError(
                    "the Spark linkage backend needs pyspark",
                    hint="install the optional extra: pip install 'leds[spark]'",
                ) from exc
            from splink.backends.spark import similarity_jar_location

            self._spark = (
                SparkSession.builder.master("local[2]")
                # Splink's Scala similarity UDFs (jaro_winkler...) must be on the classpath.
                .config("spark.jars", similarity_jar_location())
                .appName("leds-link")
                .config("spark.sql.shuffle.partitions", str(self.partitions))
                .config("spark.ui.enabled", "false")
                .config("spark.driver.memory", "2g")
                .getOrCreate()
            )
        return self._spark

    def db_api(self) -> Any:
        from splink import SparkAPI

        return SparkAPI(  # type: ignore[no-untyped-call, unused-ignore]
            spark_session=self.spark,
            num_partitions_on_repartition=self.partitions,
            break_lineage_method="persist",  # in memory: no checkpoint files in local mode
        )

    def register(self, db_api: Any, table: pa.Table, name: str) -> Any:
        # Spark gets plain types: dates as ISO strings (Splink's Spark date parsing expects
        # strings), everything else as is.
        cols = []
        for field in table.schema:
            col = table[field.name]
            if pa.types.is_date(field.type):
                col = col.cast(pa.string())
            cols.append(col)
        plain = pa.table(cols, names=table.column_names)
        frame = self.spark.createDataFrame(plain)  # Arrow in, no pandas (pyspark >= 4)
        return db_api.register(frame, table_name=name)

    def to_arrow(self, splink_df: Any, columns: list[str]) -> pa.Table:
        table: pa.Table = splink_df.as_spark_dataframe().select(*columns).toArrow()
        return table

    def arrays_overlap(self, left: str, right: str) -> str:
        return f"arrays_overlap({left}, {right})"

    def array_contains(self, array: str, value: str) -> str:
        return f"array_contains({array}, {value})"


def get_backend(name: str = "duckdb", **options: Any) -> Backend:
    """The backend called ``name`` (``duckdb`` or ``spark``)."""
    if name == "duckdb":
        return DuckDBBackend(**options)
    if name == "spark":
        return SparkBackend(**options)
    raise LinkError(f"unknown linkage backend {name!r}", hint="use 'duckdb' or 'spark'")
