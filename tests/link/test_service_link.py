"""Linkage through the one door: runs and review decisions are audited *combinations*,
explanations are consultations, refusals are recorded, decisions survive a re-run."""

from __future__ import annotations

from typing import Any

import pytest

from actors import CONSTABLE, STEWARD, signed_in
from leds.errors import AccessDenied, LedsError, NotFound
from leds.governance.identity import PurposeStatement
from leds.link import index

ADMIN = PurposeStatement.of("admin-process", "linking the synthetic world for the test")
CRIME = PurposeStatement.of("crime", "checking a suspect's linked records", "CASE-42")
INVESTIGATOR = signed_in("det1", "investigator", "WYP")


LinkWorld = Any  # tests/link/conftest.py's LinkWorld (world, data, service, store)


def _last_seq(lw: LinkWorld) -> int:
    entries = lw.store.audit_entries(after=0, limit=1_000_000)
    return int(entries[-1].seq) if entries else 0


def test_a_full_run_is_two_combination_entries_and_builds_the_index(
    fresh_link_world: LinkWorld,
) -> None:
    lw = fresh_link_world
    before = _last_seq(lw)
    result = lw.service.link_records(STEWARD, ADMIN)
    run = result.value
    assert run.outcome.persons > 0
    combos = [e for e in lw.store.audit_entries(after=before) if e.kind == "combination"]
    assert [c.outcome["stage"] for c in combos] == ["started", "finished"]
    assert combos[-1].seq == result.audit_seq
    assert f"link-run/{run.run_id}" in combos[-1].subjects
    with lw.store.engine.connect() as conn:
        assert len(index.assignments(conn)) == run.records


def test_linking_is_refused_to_a_constable_and_the_refusal_is_recorded(
    fresh_link_world: LinkWorld,
) -> None:
    lw = fresh_link_world
    with pytest.raises(AccessDenied):
        lw.service.link_records(CONSTABLE, CRIME)
    last = lw.store.audit_entries(after=_last_seq(lw) - 1)[0]
    assert last.operation == "link_records"
    assert last.decision.startswith("deny:")
    with lw.store.engine.connect() as conn:
        assert index.assignments(conn) == {}


def test_explain_review_decide_undo_and_rerun(fresh_link_world: LinkWorld) -> None:
    lw = fresh_link_world
    lw.service.link_records(STEWARD, ADMIN)
    with lw.store.engine.connect() as conn:
        assigned = index.assignments(conn)
    # two records of one person (the model linked them)
    by_person: dict[str, list[int]] = {}
    for rec, person in assigned.items():
        by_person.setdefault(person, []).append(rec)
    a, b = next(sorted(v)[:2] for v in by_person.values() if len(v) >= 2)

    shown = lw.service.link_explain(INVESTIGATOR, CRIME, str(a), str(b))
    assert shown.audit_seq > 0
    assert shown.value.person_a == shown.value.person_b
    total = shown.value.explanation.prior + sum(
        c.match_weight for c in shown.value.explanation.comparisons
    )
    assert total == pytest.approx(shown.value.explanation.match_weight, abs=1e-6)
    with pytest.raises(AccessDenied):
        lw.service.link_explain(CONSTABLE, CRIME, str(a), str(b))
    with pytest.raises(LedsError):
        lw.service.link_explain(INVESTIGATOR, CRIME, "not a ref", str(b))

    queue = lw.service.link_review_queue(STEWARD, ADMIN, limit=5)
    assert queue.audit_seq > 0

    made = lw.service.link_decide(
        STEWARD, ADMIN, str(a), str(b), "not-a-match", "different people: photos differ"
    )
    assert made.audit_seq > 0
    with lw.store.engine.connect() as conn:
        assert index.person_of(conn, a) != index.person_of(conn, b)
    last = lw.store.audit_entries(after=made.audit_seq - 1, limit=1)[0]
    assert last.kind == "combination"
    assert f"record/{a}" in last.subjects

    # a full re-run (same model) never re-merges a not-a-match
    lw.service.link_records(STEWARD, ADMIN, retrain=False)
    with lw.store.engine.connect() as conn:
        assert index.person_of(conn, a) != index.person_of(conn, b)

    undone = lw.service.link_undo(STEWARD, ADMIN, made.value.id, "decided on the wrong pair")
    assert undone.audit_seq > made.audit_seq
    with lw.store.engine.connect() as conn:
        assert index.person_of(conn, a) == index.person_of(conn, b)
        person = index.person_of(conn, a)
    assert person is not None
    history = lw.service.person_history(STEWARD, ADMIN, person)
    assert history.value
    with pytest.raises(NotFound):
        lw.service.person_history(STEWARD, ADMIN, "L9999999999")


def test_evaluation_against_the_world_s_truth(fresh_link_world: LinkWorld) -> None:
    lw = fresh_link_world
    lw.service.link_records(STEWARD, ADMIN)
    report = lw.service.link_evaluate(
        STEWARD, ADMIN, world=lw.world, thresholds=(0.5, 0.9, 0.99)
    ).value
    assert report.overall.f1 > 0.95
    assert report.overall.bcubed_f1 > 0.95
    assert ("pnc", "pnd") in report.by_source_pair
    assert [p.threshold for p in report.curve] == [0.5, 0.9, 0.99]
    # a stricter threshold never links more pairs
    assert report.curve[0].metrics.predicted_pairs >= report.curve[-1].metrics.predicted_pairs
    with pytest.raises(LedsError):
        lw.service.link_evaluate(STEWARD, ADMIN)  # no truth column in these sources
