"""Parsing in a producer process yields exactly what parsing in-process yields, and errors
reach the caller as the same clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from leds.errors import ExtractError
from leds.sources.background import parse_extract

LINES = [
    "H|PNC|1|2026-11-26T12:00:00Z|1",
    "NOM|2001/0171310W||SMITH|ANNA MARIA|F|04031985|LEEDS|W1|165|SLIM||GBR|",
    "NOM|2008/0056560X||JONES|PETER|M|01011970|YORK||175|||GBR|",
    "ARR|2001/0171310W|AR000000001|02022020|WYP|Theft",
    "T|3",
]


def _items(path: Path, background: bool) -> tuple[list[object], list[str]]:
    with parse_extract("pnc", path, background=background) as run:
        items = list(run.items)
    return items, run.notices


def test_background_parse_equals_inline_parse(tmp_path: Path) -> None:
    for part in (1, 2):
        (tmp_path / f"pnc-0000{part}.txt").write_text("\n".join(LINES) + "\n")
    inline, inline_notes = _items(tmp_path, background=False)
    background, background_notes = _items(tmp_path, background=True)
    assert background == inline
    assert background_notes == inline_notes
    assert len(inline) == 6  # the second part's records are duplicate keys: rejected


def test_background_parse_reports_errors(tmp_path: Path) -> None:
    with pytest.raises(ExtractError) as inline:
        _items(tmp_path / "missing", background=True)  # the path: refused before any process
    assert "missing" in str(inline.value)
    batch = tmp_path / "batch-00001.json"
    batch.write_text('{"schema": "iabs-export/1", "batch": 1, "subj')  # truncated
    with parse_extract("iabs", batch, background=True) as run, pytest.raises(ExtractError):
        list(run.items)  # raised in the producer process, re-raised here
