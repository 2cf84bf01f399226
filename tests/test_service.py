"""The one door: purpose, policy, audit in the same transaction, fail closed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from actors import AUDITOR, CONSTABLE, STEWARD
from leds.errors import AccessDenied, AuditFailure, ExtractError, NotFound, PurposeRequired
from leds.governance.audit.log import AuditLog
from leds.governance.identity import PurposeStatement
from leds.service import Service
from leds.store import Store

ADMIN = PurposeStatement.of("admin-process", "loading the monthly criminal records extract")

PNC_LINES = [
    "H|PNC|1|2026-11-26T12:00:00Z|1",
    "NOM|2001/0171310W||SMITH|ANNA MARIA|F|04031985|LEEDS|W1|165|SLIM||GBR|",
    "NOM|2011/0275516Q||KHAN|MOHAMMED|M|00031990|BRADFORD|A2|180|MEDIUM||GBR|",
    "NOM|2008/0056560X||JONES|PETER|M|01011970|YORK||175|||GBR|",
    "ARR|2001/0171310W|AR000000001|02022020|WYP|Theft",
    "T|4",
]


@pytest.fixture
def pnc_file(tmp_path: Path) -> Path:
    path = tmp_path / "pnc-00001.txt"
    path.write_text("\n".join(PNC_LINES) + "\n", encoding="utf-8")
    return path


def test_import_is_a_collection_recorded_with_its_effect(
    service: Service, store: Store, pnc_file: Path
) -> None:
    result = service.import_source(STEWARD, ADMIN, "pnc", pnc_file)
    summary = result.value
    assert (summary.read, summary.inserted, summary.rejected) == (4, 3, 1)
    assert summary.status == "complete"
    assert summary.by_kind == {"person": 2, "arrest": 1}
    entries = store.audit_entries()
    assert entries[-1].seq == result.audit_seq
    assert {e.kind for e in entries} == {"collection"}
    assert all(e.subjects == [f"import/{summary.import_id}"] for e in entries)
    assert entries[-1].outcome["inserted"] == 3
    assert entries[-1].purpose == "admin-process"
    assert entries[-1].actor_id == "steward1"
    rejected = service.list_rejections(STEWARD, ADMIN, summary.import_id).value
    assert [(r.line, r.field) for r in rejected] == [(4, "pnc_id")]


def test_reimporting_the_same_extract_adds_nothing(
    service: Service, store: Store, pnc_file: Path
) -> None:
    service.import_source(STEWARD, ADMIN, "pnc", pnc_file)
    again = service.import_source(STEWARD, ADMIN, "pnc", pnc_file).value
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert store.record_counts() == {("pnc", "person"): 2, ("pnc", "arrest"): 1}


def test_read_record_returns_provenance_and_its_audit_sequence(
    service: Service, store: Store, pnc_file: Path
) -> None:
    service.import_source(STEWARD, ADMIN, "pnc", pnc_file)
    result = service.read_record(STEWARD, ADMIN, "pnc", "person", "2001/0171310W")
    assert result.value.line == 2
    assert result.value.record.person["surname"] == "SMITH"
    last = store.audit_entries()[-1]
    assert last.seq == result.audit_seq
    assert (last.kind, last.operation) == ("consultation", "view_record")
    assert last.subjects == [f"record/{result.value.record.record_id}"]
    with pytest.raises(NotFound):
        service.read_record(STEWARD, ADMIN, "pnc", "person", "2011/0000001A")


def test_unauthorised_actor_is_refused_and_the_refusal_recorded(
    service: Service, store: Store, pnc_file: Path
) -> None:
    stop = PurposeStatement.of("stop", "vehicle stopped on the A64 tonight")
    with pytest.raises(AccessDenied, match="constable"):
        service.import_source(CONSTABLE, stop, "pnc", pnc_file)
    assert store.record_counts() == {}
    last = store.audit_entries()[-1]
    assert last.decision == "deny:default-deny"
    assert last.actor_id == "pc123"


@pytest.mark.parametrize(
    ("code", "reason", "case", "message"),
    [
        (None, "loading the monthly extract", None, "purpose code is required"),
        ("personal", "just curious about my neighbour", None, "unknown purpose"),
        ("admin-process", "load", None, "justification"),
        ("crime", "investigating a burglary series", None, "case or incident reference"),
    ],
)
def test_purpose_is_refused_without_code_reason_or_case(
    code: str | None, reason: str, case: str | None, message: str
) -> None:
    with pytest.raises(PurposeRequired, match=message):
        PurposeStatement.of(code, reason, case)


def test_audit_failure_refuses_the_read(service: Service, store: Store, pnc_file: Path) -> None:
    service.import_source(STEWARD, ADMIN, "pnc", pnc_file)
    with store.transaction() as conn:
        conn.execute(text("ALTER TABLE audit_head RENAME TO audit_head_gone"))
    with pytest.raises(AuditFailure, match="could not be recorded"):
        service.read_record(STEWARD, ADMIN, "pnc", "person", "2001/0171310W")


def test_audit_failure_rolls_back_the_import(
    service: Service, store: Store, pnc_file: Path
) -> None:
    with store.transaction() as conn:
        conn.execute(text("ALTER TABLE audit_head RENAME TO audit_head_gone"))
    with pytest.raises(AuditFailure):
        service.import_source(STEWARD, ADMIN, "pnc", pnc_file)
    assert store.record_counts() == {}


def test_a_missing_extract_is_a_clear_error(service: Service, tmp_path: Path) -> None:
    with pytest.raises(ExtractError):
        service.import_source(STEWARD, ADMIN, "pnc", tmp_path / "nowhere")


def test_unknown_source_name_lists_the_valid_ones(service: Service, pnc_file: Path) -> None:
    with pytest.raises(ExtractError, match="pnc"):
        service.import_source(STEWARD, ADMIN, "interpol", pnc_file)


def test_only_auditors_read_the_audit_log(service: Service) -> None:
    oversight = PurposeStatement.of("oversight", "monthly access review by IOPC")
    with pytest.raises(AccessDenied):
        service.audit_log(STEWARD, oversight)
    result = service.audit_log(AUDITOR, oversight)
    assert result.value[-1].decision == "deny:default-deny"


def test_reads_are_minimised_and_the_sensitive_step_is_recorded(
    service: Service, store: Store, tmp_path: Path
) -> None:
    lines = [*PNC_LINES[:-1], "MKR|2001/0171310W|MK000000001|WS-VIOLENT|05012020||bit an officer"]
    path = tmp_path / "pnc-00002.txt"
    path.write_text("\n".join([*lines, f"T|{len(lines) - 1}"]) + "\n", encoding="utf-8")
    service.import_source(STEWARD, ADMIN, "pnc", path)
    stop = PurposeStatement.of("stop", "driver stopped on the A64 tonight")
    plain = service.read_record(CONSTABLE, stop, "pnc", "marker", "MK000000001").value
    assert plain.record.payload["marker_type"] == "WS-VIOLENT"  # officer safety: the flag shows
    assert "detail" not in plain.record.payload
    assert [w.field for w in plain.record.withheld] == ["payload.detail"]
    assert "bit an officer" not in repr(plain)
    justified = "officer safety check before approach"
    full = service.read_record(CONSTABLE, stop, "pnc", "marker", "MK000000001",
                               sensitive=justified)  # fmt: skip
    assert full.value.record.payload["detail"] == "bit an officer"
    last = store.audit_entries()[-1]
    assert last.seq == full.audit_seq
    assert last.query["sensitive_justification"] == justified
    with pytest.raises(PurposeRequired):
        service.read_record(CONSTABLE, stop, "pnc", "marker", "MK000000001", sensitive="look")


def test_group_commit_serves_concurrent_reads_each_with_its_own_entry(
    store: Store, audit_log: AuditLog, pnc_file: Path
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    service = Service(store, audit_log, group_commit=True)
    try:
        service.import_source(STEWARD, ADMIN, "pnc", pnc_file)
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda _: service.list_imports(STEWARD, ADMIN), range(64)))
        seqs = [r.audit_seq for r in results]
        assert len(set(seqs)) == 64
        entries = {e.seq: e for e in store.audit_entries(limit=1000)}
        assert all(entries[s].operation == "list_imports" for s in seqs)
        assert audit_log.verify().entries == len(entries)
    finally:
        service.close()


def test_erasure_removes_the_record_and_logs_no_content(
    service: Service, store: Store, pnc_file: Path
) -> None:
    service.import_source(STEWARD, ADMIN, "pnc", pnc_file)
    before = service.read_record(STEWARD, ADMIN, "pnc", "person", "2001/0171310W").value
    result = service.erase_record(
        STEWARD, ADMIN, "pnc", "person", "2001/0171310W", "retention review decided deletion"
    )
    assert result.value == before.record.record_id
    with pytest.raises(NotFound):
        service.read_record(STEWARD, ADMIN, "pnc", "person", "2001/0171310W")
    erasure = next(e for e in store.audit_entries() if e.kind == "erasure")
    assert erasure.seq == result.audit_seq
    assert erasure.subjects == [f"record/{result.value}"]
    text = repr(erasure)
    for content in ("SMITH", "ANNA", "2001/0171310W", "1985"):
        assert content not in text
    assert service._log.verify().entries == len(store.audit_entries())
    constable_stop = PurposeStatement.of("stop", "driver stopped on the A64 tonight")
    with pytest.raises(AccessDenied):
        service.erase_record(CONSTABLE, constable_stop, "pnc", "person", "2011/0275516Q",
                             "no reason at all really")  # fmt: skip


def test_duplicate_keys_across_files_are_rejected_also_on_reimport(
    service: Service, store: Store, tmp_path: Path
) -> None:
    extract = tmp_path / "pnc"
    extract.mkdir()
    (extract / "pnc-00001.txt").write_text("\n".join(PNC_LINES) + "\n")
    again = "NOM|2001/0171310W||SMYTHE|ANNA|F|04031985|LEEDS|W1|165|SLIM||GBR|"
    (extract / "pnc-00002.txt").write_text(
        "\n".join(["H|PNC|1|2026-11-26T12:00:00Z|2", again, "T|1"]) + "\n"
    )
    for _ in range(2):  # a re-import finds the same duplicate, and changes nothing
        summary = service.import_source(STEWARD, ADMIN, "pnc", extract).value
        assert summary.rejected == 2  # the bad check letter, and the duplicate
        assert summary.updated == 0
        assert summary.by_kind["person"] == 2
        reasons = [
            r.reason for r in service.list_rejections(STEWARD, ADMIN, summary.import_id).value
        ]
        assert "duplicate key person 2001/0171310W (first at pnc-00001.txt:2)" in reasons
    shown = service.read_record(STEWARD, ADMIN, "pnc", "person", "2001/0171310W").value
    assert shown.record.payload["surname"] == "SMITH"
