"""Audit oversight through the one door: filters answered by the store's indexes, volumes per
user and unit, integrity status, streamed exports (themselves recorded) and misuse alerts."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select

from actors import ADMINISTRATOR, AUDITOR, CONSTABLE, signed_in
from leds.errors import AccessDenied
from leds.governance.audit.events import AuditEvent
from leds.governance.audit.notes import NoteSigner
from leds.governance.audit.query import AuditFilter, AuditQueryError, audit_index_rows
from leds.governance.audit.witness import Witness
from leds.governance.identity import PurposeStatement
from leds.governance.misuse import Rules
from leds.governance.misuse.config import MisuseRulesError
from leds.model.codes import AuditKind
from leds.service import NewAccount, Service
from leds.store.schema import audit_index

OVERSIGHT = PurposeStatement.of("oversight", "routine oversight of the audit log")
STOP = PurposeStatement.of("stop", "roadside check of a driver")
ADMIN = PurposeStatement.of("admin-process", "setting up accounts for the test")
PC2 = signed_in("pc2", "constable", "WYP")
DAY = date(2026, 11, 2)  # a Monday


def _event(
    user: object, at: datetime, subjects: list[str], *, deny: bool = False, source: str = "pnc"
) -> AuditEvent:
    actor = user.actor  # type: ignore[attr-defined]
    return AuditEvent(
        AuditKind.CONSULTATION,
        "view_record" if subjects else "search_person",
        actor,
        STOP,
        {"source": source},
        subjects=subjects,
        decision="deny:default-deny" if deny else "allow:constable-person-and-record",
        at=at,
    )


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@pytest.fixture
def busy(service: Service) -> Service:
    """A log with a baseline for pc123 (2 subjects a day for 5 days), then a spike day
    (40 subjects, 4 of the views at night) and a day of refusals; pc2 works quietly."""
    events = []
    for back in range(5, 0, -1):
        day = DAY - timedelta(days=back)
        events += [_event(CONSTABLE, _at(day, 10), [f"record/{back}", f"record/{back + 100}"])]
    for i in range(40):
        hour = 23 if i < 4 else 11
        events.append(_event(CONSTABLE, _at(DAY, hour, i % 60), [f"record/{1000 + i}"]))
    events += [_event(CONSTABLE, _at(DAY + timedelta(days=1), 12), [], deny=True)] * 5
    events.append(_event(PC2, _at(DAY, 9), ["record/1001", "person/L0000000001"], source="dvla"))
    with service._store.transaction() as conn:
        service._log.append_many(conn, events)
    return service


def test_filters_by_user_subject_source_dates_action_and_decision(busy: Service) -> None:
    def seqs(**given: object) -> list[int]:
        page = busy.audit_search(AUDITOR, OVERSIGHT, AuditFilter(**given), limit=1000)  # type: ignore[arg-type]
        return [e.seq for e in page.value.entries]

    everything = seqs()
    assert len(everything) == 51
    viewed_1001 = busy.audit_search(AUDITOR, OVERSIGHT, AuditFilter(subject="1001")).value
    assert {e.actor_id for e in viewed_1001.entries} == {"pc123", "pc2"}
    assert len(seqs(subject="person/L0000000001")) == 1
    assert len(seqs(user="pc2")) == 1
    assert len(seqs(source="dvla")) == 1
    assert len(seqs(date_from=DAY, date_to=DAY, user="pc123")) == 40
    assert len(seqs(date_to=DAY - timedelta(days=1))) == 5
    assert len(seqs(decision="deny")) == 5
    assert len(seqs(action="view_record", organisation="WYP")) == 46
    assert seqs(purpose="crime") == []
    # keyset paging: two pages make the whole
    first = busy.audit_search(AUDITOR, OVERSIGHT, AuditFilter(user="pc123"), limit=30).value
    assert first.next_after is not None
    rest = busy.audit_search(
        AUDITOR, OVERSIGHT, AuditFilter(user="pc123"), after=first.next_after, limit=30
    ).value
    assert rest.next_after is None
    assert len(first.entries) + len(rest.entries) == 50
    # the search for a subject is itself on record against that subject
    looked = busy.audit_search(AUDITOR, OVERSIGHT, AuditFilter(subject="1001"))
    again = busy.audit_search(AUDITOR, OVERSIGHT, AuditFilter(subject="record/1001")).value
    assert looked.audit_seq in [e.seq for e in again.entries]


def test_newest_first_pages_cover_every_entry_once_and_page_back(busy: Service) -> None:
    pc123 = AuditFilter(user="pc123")
    everything = [
        e.seq for e in busy.audit_search(AUDITOR, OVERSIGHT, pc123, limit=1000).value.entries
    ]
    assert len(everything) == 50
    seen: list[int] = []
    pages = []
    before = None
    while True:
        got = busy.audit_search(AUDITOR, OVERSIGHT, pc123, order="newest", before=before, limit=7)
        page = got.value
        assert [e.seq for e in page.entries] == sorted((e.seq for e in page.entries), reverse=True)
        seen += [e.seq for e in page.entries]
        pages.append(page)
        entry = busy._store.audit_entries(after=got.audit_seq - 1)[0]
        assert entry.query["order"] == "newest"
        assert entry.query.get("before") == before
        if page.next_before is None:
            break
        before = page.next_before
    assert seen == everything[::-1]  # each entry exactly once, newest first
    assert len(pages) == 8
    assert pages[0].newer is None
    assert pages[-1].older is None
    assert pages[0].next_after is None  # newest first pages on with before, not after
    # paging back (newer) from the third page gives the second again
    third = pages[2]
    assert third.newer is not None
    back = busy.audit_search(
        AUDITOR, OVERSIGHT, pc123, order="newest", after=third.newer, limit=7
    ).value
    assert [e.seq for e in back.entries] == [e.seq for e in pages[1].entries]
    assert back.older == pages[1].older
    assert back.newer == pages[1].newer
    # oldest first pages back with before alone: the page just below it, oldest first
    below = busy.audit_search(
        AUDITOR, OVERSIGHT, pc123, before=everything[10], limit=4, total=True
    ).value
    assert [e.seq for e in below.entries] == everything[6:10]
    assert below.older == everything[6]
    assert below.newer == everything[9]
    assert below.total == 50
    with pytest.raises(AuditQueryError, match="cannot order entries"):
        busy.audit_search(AUDITOR, OVERSIGHT, pc123, order="sideways")  # type: ignore[arg-type]
    with pytest.raises(AuditQueryError, match="cannot page"):
        busy.audit_search(AUDITOR, OVERSIGHT, pc123, before=0)


def test_bad_filters_and_refusals(busy: Service) -> None:
    with pytest.raises(AuditQueryError):
        AuditFilter(subject="not a subject")
    with pytest.raises(AuditQueryError):
        AuditFilter(date_from=DAY, date_to=DAY - timedelta(days=1))
    with pytest.raises(AccessDenied):
        busy.audit_search(CONSTABLE, STOP, AuditFilter(user="pc2"))
    with pytest.raises(AccessDenied):
        busy.misuse_alerts(CONSTABLE, STOP, DAY, DAY)
    refused = AuditFilter(action="read_audit", decision="deny", user="pc123")
    assert len(busy.audit_search(AUDITOR, OVERSIGHT, refused).value.entries) == 2


def test_volumes_per_user_and_unit(busy: Service) -> None:
    busy.add_account(
        ADMINISTRATOR,
        ADMIN,
        NewAccount(
            "pc2",
            "PC Two",
            "constable",
            "WYP",
            "Roads",
            "a long password here",
            date(2030, 1, 1),
            date(2030, 1, 1),
        ),
    )
    day = AuditFilter(date_from=DAY, date_to=DAY)
    users = {v.key: v for v in busy.audit_volumes(AUDITOR, OVERSIGHT, day).value}
    assert users["pc123"].entries == 40
    assert users["pc123"].subjects == 40
    assert users["pc2"].subjects == 2
    units = {v.key: v for v in busy.audit_volumes(AUDITOR, OVERSIGHT, day, by="unit").value}
    assert units["Roads"].entries == 1
    assert units["(no local account)"].entries == 40
    refusals = busy.audit_volumes(AUDITOR, OVERSIGHT, AuditFilter(decision="deny")).value
    assert refusals[0].key == "pc123"
    assert refusals[0].refusals == 5


def test_exports_are_streamed_recorded_and_exclude_themselves(busy: Service) -> None:
    got = busy.audit_export(AUDITOR, OVERSIGHT, AuditFilter(user="pc2"), fmt="jsonl")
    lines = "".join(got.value.lines).splitlines()
    assert got.value.entries == 1
    assert [json.loads(x)["actor_id"] for x in lines] == ["pc2"]
    mine = busy.audit_export(AUDITOR, OVERSIGHT, AuditFilter(user="aud1"), fmt="csv")
    rows = list(csv.DictReader(io.StringIO("".join(mine.value.lines))))
    assert mine.value.media_type == "text/csv"
    assert rows
    assert all(int(r["seq"]) < mine.audit_seq for r in rows)
    assert "audit_export" in {r["operation"] for r in rows}  # the first export, recorded
    entry = busy._store.audit_entries(after=mine.audit_seq - 1, limit=1)[0]
    assert entry.kind == "disclosure"
    assert entry.recipients == ["aud1"]
    assert entry.outcome == {"entries": len(rows), "format": "csv"}


def test_csv_cells_cannot_become_formulas(service: Service) -> None:
    sly = PurposeStatement.of("stop", "=HYPERLINK(evil) roadside check")
    with service._store.transaction() as conn:
        service._log.append(
            conn,
            AuditEvent(AuditKind.CONSULTATION, "view_record", CONSTABLE.actor, sly, {}),
        )
    out = service.audit_export(AUDITOR, OVERSIGHT, AuditFilter(user="pc123"), fmt="csv")
    row = next(csv.DictReader(io.StringIO("".join(out.value.lines))))
    assert row["justification"].startswith("'=")


def test_integrity_status_names_verification_checkpoint_and_witness(
    busy: Service, tmp_path: object
) -> None:
    before = busy.audit_integrity(AUDITOR, OVERSIGHT).value
    assert before.last_verified is None
    assert before.latest_checkpoint is not None
    assert before.latest_cosigned is None
    verified = busy.verify_audit(AUDITOR, OVERSIGHT).value
    key = NoteSigner.generate("oversight-witness")
    witness = Witness(tmp_path / "w.json", key, busy.log_verifier)  # type: ignore[operator]
    busy.witness_cosign(AUDITOR, OVERSIGHT, witness)
    status = busy.audit_integrity(AUDITOR, OVERSIGHT)
    assert status.value.last_verified is not None
    assert status.value.last_verified.entries == verified.entries
    assert status.value.latest_cosigned is not None
    assert status.value.latest_cosigned.cosigners == ["oversight-witness"]
    assert status.value.size == status.audit_seq - 1


def test_misuse_alerts_volume_against_own_baseline_night_and_refusals(busy: Service) -> None:
    alerts = busy.misuse_alerts(
        AUDITOR, OVERSIGHT, DAY, DAY + timedelta(days=1), rules=Rules(timezone="UTC")
    )
    fired = {(a.rule, a.user, a.day) for a in alerts.value.alerts}
    assert ("subject-volume", "pc123", DAY) in fired
    assert ("out-of-hours", "pc123", DAY) in fired
    assert ("refusals", "pc123", DAY + timedelta(days=1)) in fired
    assert not any(a.user == "pc2" for a in alerts.value.alerts)
    volume = next(a for a in alerts.value.alerts if a.rule == "subject-volume")
    assert volume.value == 40
    assert "median of 2" in volume.reason
    entry = busy._store.audit_entries(after=alerts.audit_seq - 1)[0]
    assert entry.subjects == ["user/pc123"]
    assert entry.query["rules"]["timezone"] == "UTC"
    assert entry.query["rules"]["refusals_min"] == 5
    assert "overrides" not in entry.query


def test_misuse_thresholds_from_the_deployment_and_per_view(busy: Service) -> None:
    days = (DAY, DAY + timedelta(days=1))
    toml = busy.data_dir / "misuse.toml"
    toml.parent.mkdir(parents=True, exist_ok=True)
    toml.write_text('timezone = "UTC"\nrefusals_min = 6\nwork_start = 07:00:00\n')
    deployed = busy.misuse_alerts(AUDITOR, OVERSIGHT, *days)
    assert deployed.value.rules.refusals_min == 6
    assert "refusals" not in {a.rule for a in deployed.value.alerts}  # 5 refusals < 6
    view = busy.misuse_alerts(
        AUDITOR,
        OVERSIGHT,
        *days,
        overrides={"refusals_min": "5", "out_of_hours_min": 5, "factor": 25, "work_end": "23:30"},
    )
    used = view.value.rules
    assert (used.refusals_min, used.out_of_hours_min, used.factor) == (5, 5, 25.0)
    assert used.timezone == "UTC"  # the deployment's, not overridden
    fired = {a.rule for a in view.value.alerts}
    assert fired == {"refusals"}  # 4 night views < 5; 40 subjects <= max(20, 25 x 2)
    entry = busy._store.audit_entries(after=view.audit_seq - 1)[0]
    assert entry.query["rules"]["factor"] == 25.0
    assert entry.query["rules"]["work_end"] == "23:30"
    assert entry.query["overrides"] == ["factor", "out_of_hours_min", "refusals_min", "work_end"]
    for bad, words in (
        ({"factor": 0.5}, "factor = 0.5 is not allowed: give a number from 1 to 100"),
        ({"floor": "many"}, "floor = 'many' is not allowed"),
        ({"timezone": "UTC"}, "'timezone' is not a threshold that can be set here"),
        ({"work_start": "20:00"}, "work_start (20:00) must be before work_end (19:00)"),
        ({"baseline_days": 91, "refusals_min": True}, "baseline_days = 91"),
    ):
        with pytest.raises(MisuseRulesError, match=re.escape(words)):
            busy.misuse_alerts(AUDITOR, OVERSIGHT, *days, overrides=bad)
    toml.write_text("factr = 2\nfloor = 0\n")
    with pytest.raises(MisuseRulesError) as wrong:
        busy.misuse_alerts(AUDITOR, OVERSIGHT, *days)
    assert "misuse.toml: 'factr' is not a threshold" in wrong.value.message
    assert "floor = 0 is not allowed: give a whole number from 1 to 100000" in wrong.value.message
    assert "factor" in (wrong.value.hint or "")
    toml.write_text("factor = [")
    with pytest.raises(MisuseRulesError, match="is not valid TOML"):
        busy.misuse_rules()
    toml.unlink()
    assert busy.misuse_rules() == Rules()


def test_index_rows_and_backfill(busy: Service) -> None:
    rows = audit_index_rows(7, {"sources": ["pnc", "dvla"]}, ["record/1", "record/1"])
    assert {(r["kind"], r["value"]) for r in rows} == {
        ("subject", "record/1"),
        ("source", "pnc"),
        ("source", "dvla"),
    }
    from importlib import import_module

    migration = import_module("leds.store.migrations.versions.0005_audit_oversight")
    with busy._store.transaction() as conn:
        before = conn.execute(select(func.count()).select_from(audit_index)).scalar()
        conn.execute(delete(audit_index))
        migration._backfill(conn, audit_index)
        assert conn.execute(select(func.count()).select_from(audit_index)).scalar() == before
