"""The misuse thresholds a deployment and an auditor may set, validated before any use.

A deployment's defaults live in an optional ``DATA/misuse.toml`` whose keys are the fields of
:class:`~leds.governance.misuse.Rules` (all optional; what is left out keeps the shipped
default)::

    timezone = "Europe/London"
    baseline_days = 28        # 1-90
    min_baseline_days = 3     # 1-baseline_days
    factor = 3.0              # 1-100
    floor = 20                # 1-100000
    new_user_ceiling = 100    # 1-100000
    work_start = "07:00"      # HH:MM (or a TOML time), before work_end
    work_end = "19:00"
    out_of_hours_min = 3      # 1-10000
    refusals_min = 5          # 1-10000

An auditor may override the thresholds of one view (:data:`OVERRIDABLE`: not the timezone or
the new-user rule). Every problem is reported at once, naming the key and what is allowed.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, fields, replace
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leds.errors import LedsError
from leds.governance.misuse import Rules

FILE_NAME = "misuse.toml"
OVERRIDABLE = (
    "factor",
    "floor",
    "out_of_hours_min",
    "refusals_min",
    "work_start",
    "work_end",
    "baseline_days",
)
# Integer thresholds and their bounds (inclusive); factor is a number, the times HH:MM.
INT_BOUNDS: dict[str, tuple[int, int]] = {
    "baseline_days": (1, 90),
    "min_baseline_days": (1, 90),
    "floor": (1, 100_000),
    "new_user_ceiling": (1, 100_000),
    "out_of_hours_min": (1, 10_000),
    "refusals_min": (1, 10_000),
}
FACTOR_BOUNDS = (1.0, 100.0)
KEYS = tuple(f.name for f in fields(Rules))


class MisuseRulesError(LedsError):
    """Misuse thresholds that cannot be used (an unknown key, a value out of bounds)."""


def _allowed(key: str) -> str:
    if key in INT_BOUNDS:
        low, high = INT_BOUNDS[key]
        extra = " and at most baseline_days" if key == "min_baseline_days" else ""
        return f"a whole number from {low} to {high}{extra}"
    if key == "factor":
        return f"a number from {FACTOR_BOUNDS[0]:g} to {FACTOR_BOUNDS[1]:g}"
    if key in ("work_start", "work_end"):
        return "a time of day HH:MM (work_start before work_end)"
    return "an IANA time zone name such as Europe/London"


def _time(value: Any) -> time | None:
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0) if value.tzinfo is None else None
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 5 and text[2] == ":" and text[:2].isdigit() and text[3:].isdigit():
            hour, minute = int(text[:2]), int(text[3:])
            if hour < 24 and minute < 60:
                return time(hour, minute)
    return None


def parse_value(key: str, value: Any) -> Any:
    """The value of ``key`` as :class:`Rules` holds it, or None when it is not allowed."""
    if key in INT_BOUNDS:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            return None
        low, high = INT_BOUNDS[key]
        return value if low <= value <= high else None
    if key == "factor":
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        number = float(value)
        ok = math.isfinite(number) and FACTOR_BOUNDS[0] <= number <= FACTOR_BOUNDS[1]
        return number if ok else None
    if key in ("work_start", "work_end"):
        return _time(value)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return value.strip()


def rules_from(
    given: Mapping[str, Any],
    base: Rules | None = None,
    *,
    allowed: tuple[str, ...] = KEYS,
    where: str = "misuse thresholds",
) -> Rules:
    """``base`` (default: the shipped rules) with the values ``given`` (keys among
    ``allowed``), each checked against its bounds; every problem reported at once."""
    problems: list[str] = []
    changes: dict[str, Any] = {}
    for key, raw in given.items():
        if key not in allowed:
            problems.append(f"{key!r} is not a threshold that can be set here")
            continue
        value = parse_value(key, raw)
        if value is None:
            problems.append(f"{key} = {raw!r} is not allowed: give {_allowed(key)}")
        else:
            changes[key] = value
    if not problems:
        rules = replace(base or Rules(), **changes)
        if rules.work_start >= rules.work_end:
            problems.append(
                f"work_start ({rules.work_start:%H:%M}) must be before work_end "
                f"({rules.work_end:%H:%M})"
            )
        if rules.min_baseline_days > rules.baseline_days:
            problems.append(
                f"min_baseline_days ({rules.min_baseline_days}) must be at most baseline_days "
                f"({rules.baseline_days})"
            )
        if not problems:
            return rules
    unknown = any("not a threshold" in p for p in problems)
    hint = "the keys are " + ", ".join(allowed) if unknown else "see the bounds named"
    raise MisuseRulesError(f"{where}: " + "; ".join(problems), hint=hint)


def load_rules(path: Path) -> Rules:
    """The deployment's rules from ``path`` (a ``misuse.toml``; absent: the shipped rules)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Rules()
    except (OSError, UnicodeDecodeError) as exc:
        raise MisuseRulesError(
            f"cannot read the misuse thresholds in {path}: {exc}",
            hint="an operator must fix or remove the file",
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MisuseRulesError(
            f"{path} is not valid TOML ({exc})", hint="an operator must fix or remove the file"
        ) from None
    return rules_from(data, where=str(path))


def rules_dict(rules: Rules) -> dict[str, Any]:
    """The rules as JSON values (times as HH:MM), for responses and audit entries."""
    out = asdict(rules)
    for key in ("work_start", "work_end"):
        out[key] = out[key].strftime("%H:%M")
    return out


__all__ = [
    "FILE_NAME",
    "KEYS",
    "OVERRIDABLE",
    "MisuseRulesError",
    "load_rules",
    "parse_value",
    "rules_dict",
    "rules_from",
]
