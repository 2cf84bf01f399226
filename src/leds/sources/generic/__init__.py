"""Any CSV or Parquet file plus a TOML mapping to the person model (docs/extracts.md)."""

from leds.sources.generic.mapping import FieldMap, Mapping, load_mapping
from leds.sources.generic.parser import GenericSource

__all__ = ["FieldMap", "GenericSource", "Mapping", "load_mapping"]
