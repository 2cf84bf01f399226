"""Reading the audit log for oversight: filtered entries, volumes, exports, integrity status.

Every filter is a condition the store answers with an index: the entry's own columns (user and
time ``ix_audit_actor``, time ``ix_audit_at``, operation ``ix_audit_operation``, organisation
``ix_audit_org``) and the ``audit_index`` table for what sits inside the entry's JSON (the
subjects it names, the sources its query names). Nothing here loads the whole log: pages are
keyset-paged on ``seq``, exports are read in chunks, volumes are grouped by the database.

The functions take a SQLAlchemy ``Connection``; the service owns authorisation and the audit
entry of each call (``leds.service.oversight``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    case,
    distinct,
    func,
    insert,
    literal_column,
    null,
    select,
)

from leds.errors import LedsError
from leds.governance.audit.events import AuditEntry
from leds.store.schema import (
    accounts,
    audit_checkpoints,
    audit_events,
    audit_head,
    audit_index,
    records,
)

SUBJECT = "subject"
SOURCE = "source"
VALUE_MAX = 128
PERSON_RECORDS_MAX = 1000  # records of one person a subject filter expands to
EXPORT_CHUNK = 1000
NO_UNIT = "(no local account)"

_PERSON = re.compile(r"^(?:person/)?(L\d{10})$")
_RECORD = re.compile(r"^(?:record/|R)?(\d{1,18})$")
_OTHER = re.compile(r"^[a-z][a-z-]{1,20}/[^\s]{1,100}$")
_SOURCE_REF = re.compile(r"^(pnc|pnd|dvla|iabs|generic):(\S{1,64})$")


class AuditQueryError(LedsError):
    """A filter the log cannot be searched by (an unreadable subject, dates the wrong way)."""


def audit_index_rows(seq: int, query: dict[str, Any], subjects: list[str]) -> list[dict[str, Any]]:
    """The ``audit_index`` rows of one entry: its subjects and the sources its query names."""
    keys: dict[tuple[str, str], None] = {}
    for subject in subjects:
        if isinstance(subject, str) and subject:
            keys[(SUBJECT, subject[:VALUE_MAX])] = None
    named: list[Any] = []
    if isinstance(query.get("source"), str):
        named.append(query["source"])
    if isinstance(query.get("sources"), list):
        named.extend(query["sources"])
    for source in named:
        if isinstance(source, str) and source:
            keys[(SOURCE, source[:VALUE_MAX])] = None
    return [{"kind": k, "value": v, "seq": seq} for k, v in keys]


def index_entries(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Write the ``audit_index`` rows of appended entries (``rows``: their stored values)."""
    out: list[dict[str, Any]] = []
    for row in rows:
        out.extend(
            audit_index_rows(int(row["seq"]), json.loads(row["query"]), json.loads(row["subjects"]))
        )
    if out:
        conn.execute(insert(audit_index), out)


def subject_key(text: str) -> str:
    """A subject as the log names it: ``person/L..``, ``record/N`` (also ``L..``, ``R12``,
    ``12``), or another ``kind/id`` the log uses (``import/3``, ``account/pc1``)."""
    value = text.strip()
    person = _PERSON.match(value)
    if person:
        return f"person/{person.group(1)}"
    record = _RECORD.match(value)
    if record:
        return f"record/{int(record.group(1))}"
    if _OTHER.match(value) or _SOURCE_REF.match(value):
        return value
    raise AuditQueryError(
        f"cannot read the subject {text!r}",
        hint="give a person id (L + 10 digits), a record id (record/12 or 12), a source's own "
        "id (pnc:2001/0171310W) or kind/id",
    )


FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(9000, 12, 31)


def check_days(*days: date | None) -> None:
    """Refuse days outside the range the log could hold (1900 to 9000)."""
    for day in days:
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise AuditQueryError(
                f"no audit entry can be dated {day}", hint="give a date between 1900 and 9000"
            )


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What to look for in the log; every field optional (None: any). Dates are UTC days,
    both inclusive. ``subject``: a person id also finds entries naming that person's current
    records. ``decision``: ``allow`` or ``deny`` (refusals)."""

    user: str | None = None
    organisation: str | None = None
    unit: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    action: str | None = None
    source: str | None = None
    subject: str | None = None
    purpose: str | None = None
    decision: Literal["allow", "deny"] | None = None

    def __post_init__(self) -> None:
        check_days(self.date_from, self.date_to)
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise AuditQueryError(
                f"the date range ends ({self.date_to}) before it starts ({self.date_from})",
                hint="give the earlier date first",
            )
        if self.subject is not None:
            object.__setattr__(self, "subject", subject_key(self.subject))

    def asked(self) -> dict[str, Any]:
        """The filters given (for the audit entry of the search and for links)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None and value != "":
                out[f.name] = value.isoformat() if isinstance(value, date) else value
        return out


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def subject_keys(conn: Connection, subject: str) -> list[str]:
    """The subjects a subject filter matches: itself and, for a person, its current records;
    a source's own id (``pnc:2001/0171310W``) stands for the records that carry it."""
    keys = [subject]
    ref = _SOURCE_REF.match(subject)
    if ref:
        found = conn.execute(
            select(records.c.id)
            .where(records.c.source == ref.group(1), records.c.source_record_id == ref.group(2))
            .limit(PERSON_RECORDS_MAX)
        ).scalars()
        keys = [f"record/{r}" for r in found] or keys
    person = _PERSON.match(subject)
    if person:
        from leds.store.tables_link import person_records

        ids = conn.execute(
            select(person_records.c.record_id)
            .where(person_records.c.person_id == person.group(1))
            .order_by(person_records.c.record_id)
            .limit(PERSON_RECORDS_MAX)
        ).scalars()
        keys.extend(f"record/{r}" for r in ids)
    return keys


def conditions(conn: Connection, f: AuditFilter) -> list[ColumnElement[bool]]:
    """The WHERE conditions of a filter over ``audit_events``."""
    c = audit_events.c
    where: list[ColumnElement[bool]] = []
    if f.user:
        where.append(c.actor_id == f.user)
    if f.organisation:
        where.append(c.actor_org == f.organisation)
    if f.unit:
        where.append(c.actor_id.in_(select(accounts.c.user_id).where(accounts.c.unit == f.unit)))
    if f.date_from:
        where.append(c.at >= _day_start(f.date_from))
    if f.date_to:
        where.append(c.at < _day_start(f.date_to + timedelta(days=1)))
    if f.action:
        where.append(c.operation == f.action)
    if f.purpose:
        where.append(c.purpose == f.purpose)
    if f.decision:
        where.append(c.decision.like(f"{f.decision}:%"))
    if f.source:
        where.append(
            c.seq.in_(
                select(audit_index.c.seq).where(
                    audit_index.c.kind == SOURCE, audit_index.c.value == f.source
                )
            )
        )
    if f.subject:
        where.append(
            c.seq.in_(
                select(audit_index.c.seq).where(
                    audit_index.c.kind == SUBJECT,
                    audit_index.c.value.in_(subject_keys(conn, f.subject)),
                )
            )
        )
    return where


Order = Literal["oldest", "newest"]
ORDERS: tuple[Order, ...] = ("oldest", "newest")


def check_order(order: str) -> Order:
    """``order`` if it is one the log can be read in, else refused."""
    if order not in ORDERS:
        raise AuditQueryError(f"cannot order entries {order!r}", hint="oldest or newest (first)")
    return "newest" if order == "newest" else "oldest"


def search(
    conn: Connection,
    f: AuditFilter,
    *,
    after: int = 0,
    limit: int = 100,
    before: int | None = None,
    order: Order = "oldest",
) -> list[AuditEntry]:
    """Entries matching ``f`` with sequence numbers above ``after`` and, if given, below
    ``before``, at most ``limit``: the oldest of them first (``order="oldest"``, keyset-paged
    by ``after``) or the newest first (``"newest"``, keyset-paged by ``before``)."""
    check_order(order)
    where = [audit_events.c.seq > after, *conditions(conn, f)]
    if before is not None:
        where.append(audit_events.c.seq < before)
    seq = audit_events.c.seq.desc() if order == "newest" else audit_events.c.seq
    rows = conn.execute(select(audit_events).where(and_(*where)).order_by(seq).limit(limit))
    return [AuditEntry.from_row(r) for r in rows]


def any_beyond(
    conn: Connection, f: AuditFilter, *, after: int = 0, before: int | None = None
) -> bool:
    """Whether an entry matching ``f`` lies above ``after`` and below ``before`` (a page's
    neighbour exists)."""
    where = [audit_events.c.seq > after, *conditions(conn, f)]
    if before is not None:
        where.append(audit_events.c.seq < before)
    found = conn.execute(select(audit_events.c.seq).where(and_(*where)).limit(1)).first()
    return found is not None


def count(conn: Connection, f: AuditFilter, *, before: int | None = None) -> int:
    where = conditions(conn, f)
    if before is not None:
        where.append(audit_events.c.seq < before)
    query = select(func.count()).select_from(audit_events)
    if where:
        query = query.where(and_(*where))
    return int(conn.execute(query).scalar() or 0)


# ---- volumes ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Volume:
    """Counts of one user (or unit) over the filtered entries."""

    key: str  # user id, or unit
    organisation: str
    role: str | None  # users only
    entries: int
    consultations: int
    refusals: int
    subjects: int  # distinct subjects named (records, persons...)
    first: datetime
    last: datetime


def volumes(conn: Connection, f: AuditFilter, by: Literal["user", "unit"] = "user") -> list[Volume]:
    """Entries, consultations, refusals and distinct subjects per user or per unit (a user's
    unit is its local account's; users without one are counted under ``NO_UNIT``)."""
    c = audit_events.c
    where = conditions(conn, f)
    # Inline literals: PostgreSQL matches a SELECT expression to its GROUP BY one only when
    # both are the same text, and two bind parameters are not.
    unit = func.coalesce(accounts.c.unit, literal_column(f"'{NO_UNIT}'"))
    key = c.actor_id if by == "user" else unit
    role = c.actor_role if by == "user" else null()
    source = audit_events.outerjoin(accounts, accounts.c.user_id == c.actor_id)
    group = [key, c.actor_org] + ([c.actor_role] if by == "user" else [])
    counts = select(
        key.label("key"),
        c.actor_org.label("org"),
        role.label("role"),
        func.count().label("entries"),
        func.sum(case((c.kind == "consultation", 1), else_=0)).label("consultations"),
        func.sum(case((c.decision.like("deny:%"), 1), else_=0)).label("refusals"),
        func.min(c.at).label("first"),
        func.max(c.at).label("last"),
    ).select_from(source)
    if where:
        counts = counts.where(and_(*where))
    rows = conn.execute(counts.group_by(*group)).all()
    distinct_q = (
        select(
            key.label("key"), c.actor_org.label("org"), func.count(distinct(audit_index.c.value))
        )
        .select_from(
            source.join(
                audit_index, and_(audit_index.c.seq == c.seq, audit_index.c.kind == SUBJECT)
            )
        )
        .group_by(key, c.actor_org)
    )
    if where:
        distinct_q = distinct_q.where(and_(*where))
    subjects = {(k, o): int(n) for k, o, n in conn.execute(distinct_q)}
    out = [
        Volume(
            str(r.key),
            str(r.org),
            None if r.role is None else str(r.role),
            int(r.entries),
            int(r.consultations or 0),
            int(r.refusals or 0),
            subjects.get((r.key, r.org), 0),
            _aware(r.first),
            _aware(r.last),
        )
        for r in rows
    ]
    return sorted(out, key=lambda v: (-v.entries, v.key))


def _aware(value: Any) -> datetime:
    if isinstance(value, str):  # SQLite's min/max hand back the stored text
        value = datetime.fromisoformat(value)
    result: datetime = value if value.tzinfo else value.replace(tzinfo=UTC)
    return result


# ---- exports ------------------------------------------------------------------------------
CSV_COLUMNS = (
    "seq",
    "at",
    "kind",
    "operation",
    "actor_id",
    "actor_role",
    "actor_org",
    "purpose",
    "justification",
    "case_ref",
    "decision",
    "subjects",
    "recipients",
    "query",
    "outcome",
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def entry_dict(e: AuditEntry) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "at": e.at.isoformat(),
        "kind": e.kind,
        "operation": e.operation,
        "actor_id": e.actor_id,
        "actor_role": e.actor_role,
        "actor_org": e.actor_org,
        "purpose": e.purpose,
        "justification": e.justification,
        "case_ref": e.case_ref,
        "decision": e.decision,
        "subjects": e.subjects,
        "recipients": e.recipients,
        "query": e.query,
        "outcome": e.outcome,
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    text = str(value)
    # A spreadsheet would run a cell starting with these as a formula (CSV injection).
    return "'" + text if text.startswith(_FORMULA) else text


def export_lines(
    engine: Engine, f: AuditFilter, fmt: Literal["jsonl", "csv"], *, before: int
) -> Iterator[str]:
    """The entries matching ``f`` below ``before`` as JSON lines or CSV (with a header),
    read ``EXPORT_CHUNK`` entries at a time (a stream: never the whole log in memory)."""
    if fmt == "csv":
        yield ",".join(CSV_COLUMNS) + "\r\n"
    after = 0
    while True:
        with engine.connect() as conn:
            chunk = search(conn, f, after=after, limit=EXPORT_CHUNK, before=before)
        if not chunk:
            return
        if fmt == "jsonl":
            yield "".join(
                json.dumps(entry_dict(e), sort_keys=True, ensure_ascii=False) + "\n" for e in chunk
            )
        else:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            for e in chunk:
                row = entry_dict(e)
                writer.writerow([_cell(row[k]) for k in CSV_COLUMNS])
            yield buffer.getvalue()
        after = chunk[-1].seq


# ---- integrity status ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CheckpointInfo:
    size: int
    at: datetime
    root: str
    note: str
    cosigners: list[str]  # names of the witnesses that cosigned it


@dataclass(frozen=True, slots=True)
class VerificationInfo:
    """The last whole-log verification recorded in the log (an ``verify_audit`` entry)."""

    seq: int
    at: datetime
    actor_id: str
    entries: int  # verified up to this entry
    root: str


@dataclass(frozen=True, slots=True)
class IntegrityStatus:
    size: int  # entries in the log (the signed head)
    head_note: str | None
    head_at: datetime | None
    checkpoints: int
    latest_checkpoint: CheckpointInfo | None
    latest_cosigned: CheckpointInfo | None
    last_verified: VerificationInfo | None


def _cosigners(lines: str) -> list[str]:
    names = []
    for line in lines.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "\u2014":
            names.append(parts[1])
    return sorted(set(names))


def _checkpoint(row: Any) -> CheckpointInfo | None:
    if row is None:
        return None
    return CheckpointInfo(
        int(row.size), _aware(row.at), str(row.root), str(row.note), _cosigners(row.cosignatures)
    )


def integrity_status(conn: Connection, *, scan: int = 500) -> IntegrityStatus:
    """The head, the latest signed checkpoint, the latest witness-cosigned one and the last
    whole-log verification recorded in the log (found among the last ``scan`` entries of
    operation ``verify_audit``: proofs and cosignatures are recorded under it too)."""
    head = conn.execute(select(audit_head).where(audit_head.c.id == 1)).one_or_none()
    cp = audit_checkpoints.c
    total = int(conn.execute(select(func.count()).select_from(audit_checkpoints)).scalar() or 0)
    latest = conn.execute(select(audit_checkpoints).order_by(cp.size.desc()).limit(1)).one_or_none()
    cosigned = conn.execute(
        select(audit_checkpoints).where(cp.cosignatures != "").order_by(cp.size.desc()).limit(1)
    ).one_or_none()
    verified: VerificationInfo | None = None
    rows = conn.execute(
        select(
            audit_events.c.seq,
            audit_events.c.at,
            audit_events.c.actor_id,
            audit_events.c.outcome,
            audit_events.c.decision,
        )
        .where(audit_events.c.operation == "verify_audit")
        .order_by(audit_events.c.seq.desc())
        .limit(scan)
    )
    for row in rows:
        outcome = json.loads(row.outcome)
        if row.decision.startswith("allow") and "entries" in outcome and "root" in outcome:
            verified = VerificationInfo(
                int(row.seq),
                _aware(row.at),
                str(row.actor_id),
                int(outcome["entries"]),
                str(outcome["root"]),
            )
            break
    return IntegrityStatus(
        size=int(head.size) if head is not None else 0,
        head_note=None if head is None or head.note is None else str(head.note),
        head_at=None if head is None or head.updated_at is None else _aware(head.updated_at),
        checkpoints=total,
        latest_checkpoint=_checkpoint(latest),
        latest_cosigned=_checkpoint(cosigned),
        last_verified=verified,
    )
