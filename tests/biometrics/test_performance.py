"""Biometric performance (UI.md screen 9) through the one door: an evaluation run through the
service is recorded with its figures, which the screen reads back as the report wrote them;
plots are served by the names the evaluation lists and only while they match their recorded
SHA-256; the threshold history names the evaluation a proposal rests on; the roles the policy
allows see it, each view is one audit entry, a refusal is recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actors import ADMINISTRATOR, AUDITOR, CONSTABLE, STEWARD, signed_in
from leds.biometrics.report import ReportError
from leds.errors import AccessDenied, NotFound
from leds.governance.audit.events import AuditEntry
from leds.governance.authn import AuthenticatedUser
from leds.governance.identity import PurposeStatement
from leds.service import Service
from leds.store import Store

ADMIN = PurposeStatement.of("admin-process", "evaluating the face algorithm today")
OVERSIGHT = PurposeStatement.of("oversight", "reviewing the face algorithm's performance")
CRIME = PurposeStatement.of("crime", "checking the algorithm before a search", "CASE-7")
STOP = PurposeStatement.of("stop", "roadside check of a driver")
OPERATOR = signed_in("fso1", "facial-search-operator", "NCA")


def _entry(store: Store, seq: int) -> AuditEntry:
    (entry,) = store.audit_entries(after=seq - 1, limit=1)
    assert entry.seq == seq
    assert store.audit_entries(after=seq, limit=1) == []  # nothing after it: one entry
    return entry


def test_no_evaluation_is_an_honest_empty_state(service: Service, store: Store) -> None:
    result = service.biometric_performance(AUDITOR, OVERSIGHT)
    face, fingerprint = result.value
    assert (face.modality, fingerprint.modality) == ("face", "fingerprint")
    assert face.evaluation is None
    assert face.evaluations == 0
    assert "Run a new evaluation" in face.how_to_evaluate
    assert face.in_force.version == 0
    assert face.default_threshold == face.in_force.threshold
    assert face.default_basis
    assert face.history == []
    assert fingerprint.evaluation is None
    entry = _entry(store, result.audit_seq)
    assert entry.operation == "biometric_performance"


def test_an_evaluation_is_recorded_and_read_back(service: Service, store: Store) -> None:
    run = service.biometric_evaluate(STEWARD, ADMIN, thresholds=(0.84,), gallery_persons=100)
    manifest = run.value
    assert manifest.directory.parent == service.data_dir / "biometrics" / "reports"
    evaluated = _entry(store, run.audit_seq)
    evaluation_id = evaluated.outcome["evaluation_id"]

    seen = set()
    for user, purpose in ((AUDITOR, OVERSIGHT), (STEWARD, ADMIN), (OPERATOR, CRIME)):
        result = service.biometric_performance(user, purpose)
        assert result.audit_seq not in seen
        seen.add(result.audit_seq)
        entry = _entry(store, result.audit_seq)
        assert entry.actor_id == user.actor.user_id
        assert entry.subjects == [f"evaluation/{evaluation_id}"]
    face = result.value[0]
    e = face.evaluation
    assert e is not None
    assert e.evaluation_id == evaluation_id
    assert e.report_sha256 == manifest.sha256
    body = json.loads((manifest.directory / "report.json").read_text(encoding="utf-8"))
    f = e.figures
    overall = body["overall"]
    assert f["overall"]["fnir_at_fpir_target"] == pytest.approx(overall["fnir_at_fpir_target"])
    assert f["overall"]["fnir_rank1"] == pytest.approx(overall["fnir_rank1"])
    assert f["overall"]["fnir_rank_r"] == pytest.approx(overall["fnir_rankR"])
    assert f["probes"]["mated"] == overall["mated_searches"] == 50
    assert f["probes"]["nonmated"] == overall["nonmated_searches"] == 100
    assert f["gallery"]["size"] == body["gallery_size"]
    assert f["fpir_target"] == 0.003
    at = {round(p["threshold"], 6): p for p in f["overall"]["at_thresholds"]}
    assert {0.84, round(face.in_force.threshold, 6)} <= set(at)
    assert [x["fmr_target"] for x in f["overall"]["fnmr_at_fmr"]] == [0.01, 0.001, 0.0001]
    assert all(x["fnmr"] is not None for x in f["overall"]["fnmr_at_fmr"])
    groups = {(g["dimension"], g["group"]) for g in f["groups"]}
    assert {("sex", "F"), ("sex", "M")} <= groups
    assert {d for d, _ in groups} <= {"sex", "age_band", "ethnic_group"}
    assert sum(g["mated"] for g in f["groups"] if g["dimension"] == "sex") == 50
    names = [p["name"] for p in e.plots]
    assert names[:1] == ["det.png"]
    assert {"cmc.png", "histogram.png"} <= set(names)

    plot = service.biometric_plot(OPERATOR, CRIME, evaluation_id, "det.png")
    assert plot.value.data == (manifest.directory / "det.png").read_bytes()
    assert plot.value.data.startswith(b"\x89PNG")
    entry = _entry(store, plot.audit_seq)
    assert entry.operation == "biometric_plot"
    assert entry.subjects == [f"evaluation/{evaluation_id}"]
    for name in ("report.png", "../det.png", "summary.csv"):
        with pytest.raises(NotFound):
            service.biometric_plot(AUDITOR, OVERSIGHT, evaluation_id, name)
    with pytest.raises(NotFound):
        service.biometric_plot(AUDITOR, OVERSIGHT, evaluation_id + 1, "det.png")

    proposed = service.threshold_propose(
        STEWARD, ADMIN, "face", 0.84, manifest.directory, "fewer false candidates at this size"
    ).value
    face = service.biometric_performance(AUDITOR, OVERSIGHT).value[0]
    assert [v.version for v in face.history] == [proposed.version]
    assert face.report_evaluations == {proposed.version: evaluation_id}

    (manifest.directory / "cmc.png").write_bytes(b"\x89PNG not the plot that was recorded")
    with pytest.raises(ReportError, match="changed since"):
        service.biometric_plot(AUDITOR, OVERSIGHT, evaluation_id, "cmc.png")


def test_a_fingerprint_evaluation_is_recorded_and_backs_a_threshold(
    service: Service, store: Store
) -> None:
    """The fingerprint report runs the gallery's own search, under the algorithm name a
    fingerprint search records: a threshold it evaluated can be proposed and approved and is
    then in force for fingerprint searches; one it did not evaluate is refused."""
    from leds.biometrics import thresholds as th
    from leds.biometrics.fingerprint import SEARCH_ALGORITHM
    from leds.biometrics.report import load_manifest

    shipped = th.shipped_defaults()["fingerprint"]
    run = service.biometric_evaluate(
        STEWARD, ADMIN, modality="fingerprint", thresholds=(6.5,), gallery_persons=40
    )
    manifest = run.value
    assert manifest.modality == "fingerprint"
    assert manifest.algorithm == SEARCH_ALGORITHM
    assert manifest.evaluated(6.5)
    assert manifest.evaluated(shipped)
    assert manifest.directory.name.startswith("fingerprint-")
    assert load_manifest(manifest.directory).sha256 == manifest.sha256
    entry = _entry(store, run.audit_seq)  # one entry, the last
    assert entry.operation == "biometric_evaluate"
    assert entry.query["modality"] == "fingerprint"
    assert entry.query["gallery_persons"] == 40
    evaluation_id = entry.outcome["evaluation_id"]

    result = service.biometric_performance(AUDITOR, OVERSIGHT)
    face, fingerprint = result.value
    assert face.evaluation is None
    e = fingerprint.evaluation
    assert e is not None
    assert (e.evaluation_id, e.algorithm) == (evaluation_id, SEARCH_ALGORITHM)
    f = e.figures
    assert f["probes"]["mated"] == 20  # half the gallery's persons
    assert f["probes"]["nonmated"] == 40
    assert "synthetic prints" in f["probes"]["data"]
    assert f["gallery"]["persons"] == 40
    assert f["gallery"]["enrolment_attempts"] == 40
    assert f["gallery"]["size"] == 40 - f["gallery"]["failure_to_enrol"]
    assert f["overall"]["fnir_rank1"] < 0.25  # LSS-R finds its mates (misses: failures)
    at = {round(p["threshold"], 6): p for p in f["overall"]["at_thresholds"]}
    assert set(at) == {6.5, shipped}
    assert at[shipped]["fpir"] < 0.1
    assert any("Synthetic prints" in n for n in f["notes"])
    assert {p["name"] for p in e.plots} >= {"det.png", "cmc.png", "histogram.png"}

    with pytest.raises(th.ThresholdError, match=r"no figures at threshold 7\.25"):
        service.threshold_propose(
            STEWARD, ADMIN, "fingerprint", 7.25, manifest.directory, "not what was evaluated"
        )
    with pytest.raises(th.ThresholdError, match="evaluates fingerprint, not face"):
        service.threshold_propose(
            STEWARD, ADMIN, "face", 6.5, manifest.directory, "the wrong modality's report"
        )
    proposed = service.threshold_propose(
        STEWARD, ADMIN, "fingerprint", 6.5, manifest.directory, "more mates above threshold"
    ).value
    assert (proposed.algorithm, proposed.status) == (SEARCH_ALGORITHM, "proposed")
    fingerprint = service.biometric_performance(AUDITOR, OVERSIGHT).value[1]
    assert fingerprint.report_evaluations == {proposed.version: evaluation_id}
    service.threshold_decide(AUDITOR, OVERSIGHT, "fingerprint", proposed.version, approve=True)
    with store.engine.connect() as conn:
        now = th.in_force(conn, "fingerprint")
    assert (now.version, now.threshold) == (proposed.version, 6.5)
    assert now.applies_to(SEARCH_ALGORITHM)  # what every fingerprint search checks


@pytest.mark.parametrize(
    ("user", "purpose"),
    [(CONSTABLE, STOP), (ADMINISTRATOR, ADMIN), (OPERATOR, STOP)],
    ids=["constable", "administrator", "operator-without-a-biometric-purpose"],
)
def test_refused_and_recorded(
    service: Service, store: Store, user: AuthenticatedUser, purpose: PurposeStatement
) -> None:
    with pytest.raises(AccessDenied):
        service.biometric_performance(user, purpose)
    last = store.audit_entries(after=0, limit=100_000)[-1]
    assert last.operation == "biometric_performance"
    assert last.decision.startswith("deny:")
    with pytest.raises(AccessDenied):
        service.biometric_plot(user, purpose, 1, "det.png")
    assert store.audit_entries(after=0, limit=100_000)[-1].operation == "biometric_performance"


def test_the_default_report_folder_is_new_each_time(tmp_path: Path) -> None:
    from leds.biometrics.performance import report_folder

    first = report_folder(tmp_path, "face")
    first.mkdir(parents=True)
    second = report_folder(tmp_path, "face")
    assert second != first
    assert second.parent == first.parent == tmp_path / "biometrics" / "reports"
