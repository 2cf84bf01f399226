"""Source parsers: each source system's native extract -> records and rejections.

``get_source(name)`` returns the parser of one system (see docs/extracts.md for the
formats); ``parse(path)`` on it yields :class:`~leds.model.records.SourceRecord` and
:class:`~leds.model.records.Rejection`::

    from leds.sources import get_source
    for item in get_source("pnc").parse(Path("world/pnc")):
        ...

The generic source (``"csv"``, CSV or Parquet) needs a TOML mapping:
``get_source("csv", mapping=Path("warrants.toml"))``.
"""

from __future__ import annotations

from pathlib import Path

from leds.errors import ExtractError
from leds.sources.base import FieldError, Source
from leds.sources.dvla import DvlaSource
from leds.sources.generic import GenericSource
from leds.sources.iabs import IabsSource
from leds.sources.pnc import PncSource
from leds.sources.pnd import PndSource

__all__ = [
    "SOURCE_NAMES",
    "DvlaSource",
    "FieldError",
    "GenericSource",
    "IabsSource",
    "PncSource",
    "PndSource",
    "Source",
    "get_source",
]

_FIXED: dict[str, type[Source]] = {
    "pnc": PncSource,
    "pnd": PndSource,
    "dvla": DvlaSource,
    "iabs": IabsSource,
}

#: The names :func:`get_source` accepts ("csv" is the generic mapped source).
SOURCE_NAMES: tuple[str, ...] = (*_FIXED, "csv")


def get_source(name: str, *, mapping: Path | None = None) -> Source:
    """The parser of source ``name`` (one of :data:`SOURCE_NAMES`).

    ``mapping`` (a TOML file) is required for ``"csv"`` and refused for the others; it is
    read and checked here. Raises :class:`ExtractError`.
    """
    key = name.strip().lower()
    if key == "csv":
        if mapping is None:
            raise ExtractError(
                "the csv source needs a mapping", hint="give a TOML mapping file (--mapping)"
            )
        return GenericSource(Path(mapping))
    cls = _FIXED.get(key)
    if cls is None:
        raise ExtractError(
            f"unknown source {name!r}", hint=f"valid sources: {', '.join(SOURCE_NAMES)}"
        )
    if mapping is not None:
        raise ExtractError(f"a mapping only applies to the csv source, not {key}")
    return cls()
