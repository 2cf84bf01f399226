"""Candidate review through the one door, on a small store-only gallery (no images, no model):
the second reviewer's checks, and the decision record — complete, recorded as a disclosure
before it is returned, refused without permission and when it cannot be recorded."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from typing import Any

import pytest
from biometric_rows import (
    ALGORITHM,
    NOW,
    Gallery,
    make_gallery,
    probe_hash,
    shared_store,  # noqa: F401 - the module-scoped store fixture
)
from sqlalchemy.exc import OperationalError

from actors import CONSTABLE, signed_in
from leds.biometrics.candidates import record_search
from leds.biometrics.review import ReviewError
from leds.errors import AccessDenied, AuditFailure, LedsError, NotFound
from leds.governance.audit.log import AuditLog
from leds.governance.audit.notes import NoteSigner
from leds.governance.identity import PurposeStatement
from leds.service import Service
from leds.store import Store

CRIME = PurposeStatement.of("crime", "identifying a suspect caught on camera", "CASE-7")
IMMIGRATION = PurposeStatement.of("immigration", "checking an asylum claimant's identity")
FIRST = signed_in("fso1", "facial-search-operator", "NCA")
SECOND = signed_in("fso2", "facial-search-operator", "NCA")
IMMIGRATION_OFFICER = signed_in("imm1", "immigration-officer", "HOME-OFFICE")
WHY = "ear shape and the scar above the eyebrow differ"
AGREE = "agree: the nose bridge and chin are clearly different"


@pytest.fixture(scope="module")
def service(shared_store: Store) -> Service:  # noqa: F811 - the imported fixture, requested
    return Service(shared_store, AuditLog(shared_store, NoteSigner.generate("record-test")))


@pytest.fixture
def search_id(service: Service) -> int:
    """A recorded face search of 3 candidates over a fresh gallery of 12 persons."""
    with service._store.transaction() as conn:
        gallery: Gallery = make_gallery(conn, 12)
        found = record_search(
            conn,
            modality="face",
            probe_sha256=probe_hash(5),
            search=gallery.search_for(5),
            algorithm=ALGORITHM,
            actor_id="fso1",
            purpose="crime",
            case_ref="CASE-7",
            list_length=3,
            parameters={"quality": {"eye_distance": 61.5}, "faces": 1},
            now=NOW,
        )
    return found.search_id


def _last(service: Service) -> Any:
    return service._store.audit_entries(after=0, limit=1_000_000)[-1]


def test_second_reviewer_must_be_a_different_authorised_person(
    service: Service, search_id: int
) -> None:
    with pytest.raises(ReviewError, match="no first decision"):
        service.biometric_decide(SECOND, CRIME, search_id, 1, "not-a-match", AGREE, second=True)
    service.biometric_decide(FIRST, CRIME, search_id, 1, "not-a-match", WHY)
    with pytest.raises(ReviewError, match="different person"):
        service.biometric_decide(FIRST, CRIME, search_id, 1, "not-a-match", AGREE, second=True)
    # authorised to review, but not face searches: refused, and the refusal recorded
    with pytest.raises(AccessDenied, match="reviewed by those who may run one"):
        service.biometric_decide(
            IMMIGRATION_OFFICER, IMMIGRATION, search_id, 1, "not-a-match", AGREE, second=True
        )
    refused = _last(service)
    assert refused.decision == "deny:review-needs-search"
    assert refused.actor_id == "imm1"
    with pytest.raises(AccessDenied):  # no biometric review at all
        service.biometric_decide(CONSTABLE, CRIME, search_id, 1, "not-a-match", AGREE, second=True)
    lapsed = signed_in("fso2", "facial-search-operator", "NCA", vetting=False)
    with pytest.raises(AccessDenied):
        service.biometric_decide(lapsed, CRIME, search_id, 1, "not-a-match", AGREE, second=True)
    done = service.biometric_decide(
        SECOND, CRIME, search_id, 1, "possible-match", AGREE, second=True
    )
    assert done.value.reviewer_id == "fso2"
    assert done.value.reviewer_role == "second"
    third = signed_in("fso3", "facial-search-operator", "NCA")
    with pytest.raises(ReviewError, match="already has a second decision by fso2"):
        service.biometric_decide(third, CRIME, search_id, 1, "not-a-match", AGREE, second=True)
    state = service.biometric_candidates(FIRST, CRIME, search_id).value
    assert state.reviews[0].disagreement
    assert state.reviews[0].outcome == "inconclusive"


def test_reviewing_needs_the_modality_s_search(service: Service, search_id: int) -> None:
    for call in (
        lambda: service.biometric_candidates(IMMIGRATION_OFFICER, IMMIGRATION, search_id),
        lambda: service.biometric_close(IMMIGRATION_OFFICER, IMMIGRATION, search_id),
        lambda: service.biometric_record(IMMIGRATION_OFFICER, IMMIGRATION, search_id),
    ):
        with pytest.raises(AccessDenied):
            call()
        assert _last(service).decision == "deny:review-needs-search"
    with pytest.raises(NotFound):
        service.biometric_candidates(FIRST, CRIME, 10**9)


def test_the_decision_record_is_complete_and_disclosed(service: Service, search_id: int) -> None:
    service.biometric_decide(FIRST, CRIME, search_id, 1, "possible-match", WHY)
    service.biometric_decide(FIRST, CRIME, search_id, 1, "not-a-match", "second look: " + WHY)
    service.biometric_decide(SECOND, CRIME, search_id, 1, "not-a-match", AGREE, second=True)
    service.biometric_decide(FIRST, CRIME, search_id, 2, "inconclusive", WHY)

    open_ = service.biometric_record(FIRST, CRIME, search_id, fmt="json")
    data = json.loads(open_.value.text)
    assert data == open_.value.data
    assert data["status"] == "open"
    assert data["undecided"] == [3]
    assert data["closed"] is None
    assert data["notice"] == "investigative lead — not an identification"

    service.biometric_decide(FIRST, CRIME, search_id, 3, "not-a-match", WHY)
    service.biometric_close(SECOND, CRIME, search_id)
    got = service.biometric_record(FIRST, CRIME, search_id, fmt="json")
    made = got.value
    data = json.loads(made.text)
    assert data["search_id"] == search_id
    assert data["modality"] == "face"
    assert data["probe"] == {
        "sha256": probe_hash(5),
        "parameters": {"faces": 1, "list_length": 3, "quality": {"eye_distance": 61.5}},
    }
    assert data["algorithm"] == ALGORITHM
    assert set(data["threshold"]) == {"version", "value"}
    assert data["searched"] == {
        "by": "fso1",
        "purpose": "crime",
        "case_ref": "CASE-7",
        "at": NOW.isoformat(),
    }
    assert data["closed"]["by"] == "fso2"
    assert [c["rank"] for c in data["candidates"]] == [1, 2, 3]
    one = data["candidates"][0]
    assert one["first"]["decision"] == "not-a-match"
    assert one["first"]["rationale"] == "second look: " + WHY
    assert one["first"]["reviewer_id"] == "fso1"
    assert one["second"]["reviewer_id"] == "fso2"
    assert one["second"]["decided_at"]
    assert one["outcome"] == "not-a-match"
    assert one["revisions"] == 1  # the first reviewer's earlier possible-match
    assert one["identity"]["source_record_id"].startswith("CU")
    assert one["template"]["enrolled_at"] == NOW.isoformat()
    assert one["template"]["quality"] == 85
    assert [d["decision"] for d in data["decisions"]] == [
        "possible-match",
        "not-a-match",
        "not-a-match",
        "inconclusive",
        "not-a-match",
    ]

    entry = _last(service)
    assert entry.seq == got.audit_seq
    assert entry.kind == "disclosure"
    assert entry.operation == "biometric_record"
    assert entry.recipients == ["fso1 (JSON file)"]
    assert entry.outcome["sha256"] == hashlib.sha256(made.text.encode()).hexdigest()
    assert entry.outcome["candidates"] == 3
    assert f"biometric-search/{search_id}" in entry.subjects
    for c in data["candidates"]:
        assert f"record/{c['identity']['record_id']}" in entry.subjects
        assert f"record/{c['identity']['person_record_id']}" in entry.subjects

    as_csv = service.biometric_record(SECOND, CRIME, search_id, fmt="csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.value.text)))
    assert [r["rank"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["probe_sha256"] == probe_hash(5)
    assert rows[0]["second_reviewer"] == "fso2"
    assert rows[0]["first_rationale"] == "second look: " + WHY
    assert rows[1]["outcome"] == "inconclusive"
    assert rows[2]["closed_by"] == "fso2"
    assert _last(service).recipients == ["fso2 (CSV file)"]
    assert _last(service).outcome["sha256"] == as_csv.value.sha256


def test_the_record_is_refused_without_permission_or_without_its_audit_entry(
    service: Service, search_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(AccessDenied):
        service.biometric_record(CONSTABLE, CRIME, search_id)
    assert _last(service).decision.startswith("deny:")
    with pytest.raises(LedsError, match="cannot write a decision record"):
        service.biometric_record(FIRST, CRIME, search_id, fmt="xml")  # type: ignore[arg-type]
    before = len(service._store.audit_entries(after=0, limit=1_000_000))

    def broken(*_args: Any, **_kw: Any) -> int:
        raise OperationalError("INSERT INTO audit_log", {}, Exception("disk I/O error"))

    monkeypatch.setattr(service._log, "append", broken)
    with pytest.raises(AuditFailure, match="could not be recorded"):
        service.biometric_record(FIRST, CRIME, search_id)
    monkeypatch.undo()
    assert len(service._store.audit_entries(after=0, limit=1_000_000)) == before


def test_identity_is_left_out_where_the_user_may_not_see_it(
    service: Service, search_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Service, "_may_see_identity", lambda *_a: False)
    got = service.biometric_record(FIRST, CRIME, search_id, fmt="csv")
    rows = list(csv.DictReader(io.StringIO(got.value.text)))
    assert all(r["source_record_id"].startswith("withheld") for r in rows)
    entry = _last(service)
    assert entry.outcome["withheld"] == ["pnd"]
    assert entry.subjects == [f"biometric-search/{search_id}"]
