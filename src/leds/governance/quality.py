"""Data quality (UI.md screen 10): per source imports, rows, rejected rows by reason,
cross-source conflicts and timeliness; the linkage runs and the model behind them.

Every figure is an aggregate the database computes in bounded passes (GROUP BY over
``imports``, ``records``, ``rejections`` and ``person_records``); nothing here lists records or
compares them pairwise. Nothing here names anyone either:

* **Rejection reasons** are grouped by (source, field, reason) and the reason's quoted values
  and long numbers are masked (``impossible date '19950431'`` becomes ``impossible date
  '…'``): a reason can quote the rejected row, and the rows themselves stay behind the
  ``list_rejections`` policy (the rejections page). At most :data:`REASON_GROUPS` groups are
  read; the rows of any further reasons are counted as "other reasons".
* **Cross-source conflicts** are counted as the person page shows them (leds.search.views:
  nominal records of one person giving different DOB, sex or nationality), restricted to
  conflicts *between sources*: a person counts when two of its nominal records from different
  sources give different values. With ``d`` distinct values and ``s`` distinct sources among
  the records that give the field, that is exactly ``d > 1 and s > 1`` (if every cross-source
  pair agreed, all values would be one), so one GROUP BY per person answers it.
* **Timeliness** is the age of each source's newest import and newest record, against the
  time of the call; no freshness target is configured, so none is invented.
* **Retention** is not built yet (ROADMAP.md, lifecycle): :data:`RETENTION_NOTE` says so
  rather than showing an empty queue as if it had been checked.

The functions take a SQLAlchemy ``Connection``; the service owns authorisation and the audit
entry (``leds.service.quality``).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, case, distinct, func, or_, select

from leds.link.index import RunInfo, recent_runs
from leds.model.codes import SourceSystem
from leds.store.schema import imports, records, rejections
from leds.store.tables_link import person_records, review_queue

REASON_GROUPS = 500  # (source, field, reason) groups read, most frequent first
REASONS_SHOWN = 8  # per source; the rest are "other reasons"
RUNS_SHOWN = 10
CONFLICT_FIELDS = ("dob", "sex", "nationality")
RETENTION_NOTE = (
    "No retention rules are configured yet. The retention engine (reviews due, step-down, "
    "deletions pending a second approval) is on the roadmap, not built: nothing is queued "
    "for review or deletion."
)
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_LONG_NUMBER = re.compile(r"\d{4,}")
_MODEL_VERSION = re.compile(r"m\d{8}T\d{6}(-\d+)?")


@dataclass(frozen=True, slots=True)
class ReasonCount:
    """Rejected rows of a source with one (masked) reason; ``import_id``: the latest import
    with such a row (its rejections page)."""

    field: str | None
    reason: str
    rows: int
    import_id: int


@dataclass(frozen=True, slots=True)
class SourceQuality:
    source: str
    imports: int
    last_import_id: int | None
    last_import_status: str | None
    last_import_at: datetime | None  # finished (or started, if still running)
    last_complete_at: datetime | None
    records: int
    by_kind: dict[str, int]
    rows_read: int
    rejected: int
    newest_record_at: datetime | None
    reasons: list[ReasonCount]
    other_reason_rows: int
    persons_in_conflict: int

    def age_seconds(self, now: datetime) -> float | None:
        """Seconds since the last complete import (None: never imported)."""
        if self.last_complete_at is None:
            return None
        return max(0.0, (now - self.last_complete_at).total_seconds())


@dataclass(frozen=True, slots=True)
class ConflictCounts:
    """Persons whose nominal records from different sources disagree, per field."""

    linked_persons: int  # persons with at least two nominal records
    multi_source_persons: int  # ... from at least two sources
    by_field: dict[str, int]
    any_field: int


@dataclass(frozen=True, slots=True)
class LevelParameters:
    label: str
    m: float | None
    u: float | None
    weight: float | None  # log2(m / u)


@dataclass(frozen=True, slots=True)
class ComparisonParameters:
    name: str
    levels: list[LevelParameters]


@dataclass(frozen=True, slots=True)
class ModelParameters:
    """The m and u probabilities of a saved linkage model (per comparison level)."""

    version: str
    trained_at: str | None
    records: int | None
    prior: float | None  # probability that two random records match
    comparisons: list[ComparisonParameters]


@dataclass(frozen=True, slots=True)
class DataQuality:
    as_of: datetime
    sources: list[SourceQuality]
    conflicts: ConflictCounts
    runs: list[RunInfo]
    pending_review: int
    model: ModelParameters | None
    model_note: str | None
    retention_configured: bool = False
    retention_note: str = RETENTION_NOTE
    notes: list[str] = field(default_factory=list)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def mask(reason: str) -> str:
    """A rejection reason with its quoted values and long numbers masked."""
    return _LONG_NUMBER.sub("…", _QUOTED.sub("'…'", reason))


# ---- per source ---------------------------------------------------------------------------
def _imports(conn: Connection) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    rows = conn.execute(
        select(
            imports.c.source,
            func.count(),
            func.max(imports.c.id),
            func.coalesce(func.sum(imports.c.read), 0),
            func.coalesce(func.sum(imports.c.rejected), 0),
            func.max(case((imports.c.status == "complete", imports.c.finished_at))),
        ).group_by(imports.c.source)
    )
    for source, n, last_id, read, rejected, complete_at in rows:
        out[source] = {
            "imports": int(n),
            "last_id": int(last_id),
            "read": int(read),
            "rejected": int(rejected),
            "complete_at": _utc(complete_at),
        }
    last_ids = [v["last_id"] for v in out.values()]
    if last_ids:
        for r in conn.execute(
            select(
                imports.c.source, imports.c.status, imports.c.started_at, imports.c.finished_at
            ).where(imports.c.id.in_(last_ids))
        ):
            out[r.source]["status"] = r.status
            out[r.source]["at"] = _utc(r.finished_at or r.started_at)
    return out


def _records(conn: Connection) -> tuple[dict[str, dict[str, int]], dict[str, datetime | None]]:
    kinds: dict[str, dict[str, int]] = {}
    newest: dict[str, datetime | None] = {}
    rows = conn.execute(
        select(
            records.c.source, records.c.kind, func.count(), func.max(records.c.imported_at)
        ).group_by(records.c.source, records.c.kind)
    )
    for source, kind, n, at in rows:
        kinds.setdefault(source, {})[kind] = int(n)
        at, prev = _utc(at), newest.get(source)
        if at is not None and (prev is None or at > prev):
            newest[source] = at
    return kinds, newest


def _reasons(conn: Connection) -> dict[str, list[ReasonCount]]:
    rows = conn.execute(
        select(
            rejections.c.source,
            rejections.c.field,
            rejections.c.reason,
            func.count().label("n"),
            func.max(rejections.c.import_id),
        )
        .group_by(rejections.c.source, rejections.c.field, rejections.c.reason)
        .order_by(func.count().desc(), rejections.c.source, rejections.c.field)
        .limit(REASON_GROUPS)
    )
    merged: dict[tuple[str, str | None, str], list[int]] = {}
    for source, fld, reason, n, last_import in rows:
        key = (source, fld, mask(reason))
        acc = merged.setdefault(key, [0, 0])
        acc[0] += int(n)
        acc[1] = max(acc[1], int(last_import))
    out: dict[str, list[ReasonCount]] = {}
    for (source, fld, reason), (n, last_import) in merged.items():
        out.setdefault(source, []).append(ReasonCount(fld, reason, n, last_import))
    for items in out.values():
        items.sort(key=lambda r: (-r.rows, r.field or "", r.reason))
    return out


def _rejected_rows(conn: Connection) -> dict[str, int]:
    rows = conn.execute(select(rejections.c.source, func.count()).group_by(rejections.c.source))
    return {source: int(n) for source, n in rows}


# ---- conflicts ----------------------------------------------------------------------------
def _per_person() -> Any:
    """One row per linked person: distinct values and distinct sources giving each field."""
    cols: list[Any] = [person_records.c.person_id, func.count().label("nominals")]
    cols.append(func.count(distinct(records.c.source)).label("sources"))
    for name in CONFLICT_FIELDS:
        col = records.c[name]
        cols.append(func.count(distinct(col)).label(f"{name}_values"))
        cols.append(
            func.count(distinct(case((col.is_not(None), records.c.source)))).label(
                f"{name}_sources"
            )
        )
    return (
        select(*cols)
        .select_from(person_records.join(records, records.c.id == person_records.c.record_id))
        .where(records.c.kind == "person")
        .group_by(person_records.c.person_id)
        .having(func.count() > 1)
        .subquery("per_person")
    )


def _conflict(p: Any, name: str) -> Any:
    return and_(p.c[f"{name}_values"] > 1, p.c[f"{name}_sources"] > 1)


def conflicts(conn: Connection) -> tuple[ConflictCounts, dict[str, int]]:
    """Cross-source conflict counts, overall and per source (persons with a conflict that
    have a nominal record of that source)."""
    p = _per_person()
    any_conflict = or_(*(_conflict(p, n) for n in CONFLICT_FIELDS))

    def flag(cond: Any) -> Any:
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    row = conn.execute(
        select(
            func.count(),
            flag(p.c.sources > 1),
            *(flag(_conflict(p, n)) for n in CONFLICT_FIELDS),
            flag(any_conflict),
        ).select_from(p)
    ).one()
    counts = ConflictCounts(
        linked_persons=int(row[0]),
        multi_source_persons=int(row[1]),
        by_field={n: int(row[2 + i]) for i, n in enumerate(CONFLICT_FIELDS)},
        any_field=int(row[2 + len(CONFLICT_FIELDS)]),
    )
    if counts.any_field == 0:
        return counts, {}
    conflicted = select(p.c.person_id).where(any_conflict)
    per_source = conn.execute(
        select(records.c.source, func.count(distinct(person_records.c.person_id)))
        .select_from(person_records.join(records, records.c.id == person_records.c.record_id))
        .where(records.c.kind == "person", person_records.c.person_id.in_(conflicted))
        .group_by(records.c.source)
    )
    return counts, {source: int(n) for source, n in per_source}


# ---- linkage ------------------------------------------------------------------------------
def runs(conn: Connection, limit: int = RUNS_SHOWN) -> list[RunInfo]:
    """The latest linkage runs, newest first."""
    return recent_runs(conn, limit)


def pending_review(conn: Connection) -> int:
    return int(
        conn.execute(select(func.count()).where(review_queue.c.status == "pending")).scalar() or 0
    )


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def model_parameters(data_dir: Path | None, version: str) -> tuple[ModelParameters | None, str]:
    """The m/u parameters of a saved model (read as JSON, as search does: no Splink import),
    or None and why not."""
    if data_dir is None:
        return None, "this service has no data directory, so the model files cannot be read"
    if not _MODEL_VERSION.fullmatch(version):
        return None, f"model version {version!r} is not a saved model's name"
    path = Path(data_dir) / "link" / "models" / f"{version}.json"
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, f"the model file of {version} is not in the data directory"
    meta = body.get("leds", {}) if isinstance(body, dict) else {}
    splink = body.get("splink", {}) if isinstance(body, dict) else {}
    comparisons = []
    for comp in splink.get("comparisons", []):
        levels = []
        for level in comp.get("comparison_levels", []):
            if level.get("is_null_level"):
                continue
            m, u = _finite(level.get("m_probability")), _finite(level.get("u_probability"))
            weight = math.log2(m / u) if m and u else None
            levels.append(LevelParameters(str(level.get("label_for_charts", "")), m, u, weight))
        comparisons.append(ComparisonParameters(str(comp.get("output_column_name", "")), levels))
    records_n = meta.get("records")
    return (
        ModelParameters(
            version=version,
            trained_at=str(meta["trained_at"]) if meta.get("trained_at") else None,
            records=int(records_n) if isinstance(records_n, int) else None,
            prior=_finite(splink.get("probability_two_random_records_match")),
            comparisons=comparisons,
        ),
        "",
    )


# ---- the whole screen ---------------------------------------------------------------------
def data_quality(conn: Connection, data_dir: Path | None, now: datetime) -> DataQuality:
    """Everything screen 10 shows, read in one connection."""
    by_import = _imports(conn)
    kinds, newest = _records(conn)
    reasons = _reasons(conn)
    rejected = _rejected_rows(conn)
    conflict_counts, conflicted = conflicts(conn)
    sources = []
    for system in SourceSystem:
        s = system.value
        imp = by_import.get(s, {})
        listed = reasons.get(s, [])
        shown = listed[:REASONS_SHOWN]
        sources.append(
            SourceQuality(
                source=s,
                imports=imp.get("imports", 0),
                last_import_id=imp.get("last_id"),
                last_import_status=imp.get("status"),
                last_import_at=imp.get("at"),
                last_complete_at=imp.get("complete_at"),
                records=sum(kinds.get(s, {}).values()),
                by_kind=dict(sorted(kinds.get(s, {}).items())),
                rows_read=imp.get("read", 0),
                rejected=rejected.get(s, 0),
                newest_record_at=newest.get(s),
                reasons=shown,
                other_reason_rows=rejected.get(s, 0) - sum(r.rows for r in shown),
                persons_in_conflict=conflicted.get(s, 0),
            )
        )
    latest_runs = runs(conn)
    model, note = (None, "no linkage run yet")
    if latest_runs:
        model, note = model_parameters(data_dir, latest_runs[0].model_version)
    return DataQuality(
        as_of=now,
        sources=sources,
        conflicts=conflict_counts,
        runs=latest_runs,
        pending_review=pending_review(conn),
        model=model,
        model_note=note or None,
    )
