"""Scoring weights from the saved linkage model (helper L1's ``DATA/link/models``), when one exists.

The model file is read directly (JSON; no Splink import): for the comparisons whose levels map
one-to-one onto person search's field levels, the weight of a level is ``log2(m / u)``:

* ``dob``: "exact" -> exact, "day/month swapped" -> transposed, "year only" -> year,
  the else level -> none;
* ``postcode``: "exact" -> exact, "same sector" -> sector, the else level -> none;
* ``identifiers``: "shared identifier equal" -> identifier exact.

Name levels stay :data:`leds.search.persons.WEIGHTS` defaults: the model compares surname and
forename together (one combined comparison), search scores them apart.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

__all__ = ["model_weights"]

_MAP: dict[str, tuple[str, dict[str, str]]] = {
    "dob": ("dob", {"exact": "exact", "day/month swapped": "transposed", "year only": "year"}),
    "postcode": ("postcode", {"exact": "exact", "same sector": "sector"}),
    "identifiers": ("identifier", {"shared identifier equal": "exact"}),
}


def _weight(level: dict[str, Any]) -> float | None:
    m, u = level.get("m_probability"), level.get("u_probability")
    if not isinstance(m, int | float) or not isinstance(u, int | float) or m <= 0 or u <= 0:
        return None
    return math.log2(float(m) / float(u))


def model_weights(data_dir: Path) -> tuple[str, dict[str, dict[str, float]]] | None:
    """(model version, field -> level -> weight) from the current saved model, or None when
    there is none (or it cannot be read: search then uses its documented defaults)."""
    directory = Path(data_dir) / "link" / "models"
    current = directory / "CURRENT"
    if not current.exists():
        return None
    version = current.read_text(encoding="utf-8").strip()
    try:
        body = json.loads((directory / f"{version}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    out: dict[str, dict[str, float]] = {}
    for comparison in body.get("splink", {}).get("comparisons", []):
        target = _MAP.get(str(comparison.get("output_column_name")))
        if target is None:
            continue
        field, labels = target
        levels = [
            lv for lv in comparison.get("comparison_levels", []) if not lv.get("is_null_level")
        ]
        for level in levels:
            name = labels.get(str(level.get("label_for_charts")))
            weight = _weight(level)
            if name is not None and weight is not None:
                out.setdefault(field, {})[name] = round(weight, 3)
        if levels and (weight := _weight(levels[-1])) is not None and field != "identifier":
            out.setdefault(field, {})["none"] = round(weight, 3)  # the else level
    return (version, out) if out else None
