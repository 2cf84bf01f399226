"""Minimal readers of the extract formats, for the tests (not the real parsers)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def pnc_lines(world: Path) -> Iterator[list[str]]:
    for path in sorted((world / "pnc").glob("pnc-*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        yield from (line.split("|") for line in lines[1:-1])


def pnd_objects(world: Path) -> Iterator[dict[str, Any]]:
    for path in sorted((world / "pnd").glob("pnd-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            obj = json.loads(line)
            if obj["type"] != "end":
                yield obj


def csv_rows(world: Path, stem: str) -> Iterator[dict[str, str]]:
    for path in sorted((world / "dvla").glob(f"{stem}-*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            yield from csv.DictReader(fh)


def iabs_batches(world: Path) -> Iterator[dict[str, Any]]:
    for path in sorted((world / "iabs").glob("batch-*.json")):
        yield json.loads(path.read_text(encoding="utf-8"))


def truth(world: Path) -> dict[tuple[str, str, str], str]:
    out: dict[tuple[str, str, str], str] = {}
    for path in sorted((world / "truth").glob("truth-*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                key = (row["source"], row["kind"], row["source_record_id"])
                assert key not in out, key
                out[key] = row["person_id"]
    return out


PNC_KINDS = {
    "NOM": "person",
    "ALI": "alias",
    "ADR": "address",
    "ARR": "arrest",
    "CHG": "charge",
    "DSP": "disposal",
    "MKR": "marker",
    "VOI": "vehicle",
    "PRP": "property",
}


def pnc_record_id(fields: list[str]) -> tuple[str, str | None]:
    """(source_record_id, subject) of a PNC line, as docs/extracts.md defines them."""
    t = fields[0]
    if t == "NOM":
        return fields[1], fields[1]
    if t == "ALI":
        return f"{fields[1]}/A{fields[2]}", fields[1]
    if t == "ADR":
        return f"{fields[1]}/D{fields[2]}", fields[1]
    if t in ("ARR", "MKR"):
        return fields[2], fields[1]
    if t in ("CHG", "DSP"):
        return fields[3], fields[1]
    if t == "VOI":
        return fields[2], None
    return fields[1], fields[2] or None  # PRP
