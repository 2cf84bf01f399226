"""Threshold governance: versions, a report at the new threshold, oversight approval."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from biometric_rows import ALGORITHM, make_gallery, probe_hash

from leds.biometrics import thresholds as th
from leds.biometrics.candidates import record_search
from leds.biometrics.evaluate import Group, evaluate, search_from_candidates
from leds.biometrics.report import ReportManifest, run_face_evaluation, write_report
from leds.errors import AccessDenied, NotFound
from leds.store import Store

WHY = "evaluation shows lower FNIR at equal FPIR"


@pytest.fixture(scope="module")
def face_report(tmp_path_factory: pytest.TempPathFactory) -> ReportManifest:
    return run_face_evaluation(
        tmp_path_factory.mktemp("face-report"),
        gallery_persons=200,
        mated_probes=60,
        nonmated_probes=100,
        thresholds=(0.8, 0.85),
        algorithm=ALGORITHM,
    )


@pytest.fixture(scope="module")
def fingerprint_report(tmp_path_factory: pytest.TempPathFactory) -> ReportManifest:
    g = Group("M", "25-34", "W1")
    searches = [search_from_candidates("m", g, [("a", 80.0), ("b", 20.0)], "a")]
    searches.append(search_from_candidates("n", g, [("a", 30.0), ("b", 10.0)], None))
    ev = evaluate(
        searches, modality="fingerprint", algorithm="bozorth3", list_length=2, thresholds=(0.85,)
    )
    return write_report(ev, tmp_path_factory.mktemp("fp-report"))


def _propose(store: Store, report: Path, threshold: float, who: str = "steward1", **kw: str):  # type: ignore[no-untyped-def]
    with store.transaction() as conn:
        return th.propose(
            conn,
            modality=kw.get("modality", "face"),
            threshold=threshold,
            report_path=report,
            proposer_id=who,
            rationale=kw.get("rationale", WHY),
        )


def _approve(store: Store, version: int, who: str = "aud1", role: str = "auditor"):  # type: ignore[no-untyped-def]
    with store.transaction() as conn:
        return th.approve(
            conn, modality="face", version=version, approver_id=who, approver_role=role
        )


def test_shipped_defaults_are_version_0(store: Store) -> None:
    with store.transaction() as conn:
        face = th.in_force(conn, "face")
        fp = th.in_force(conn, "FINGERPRINT")
        assert th.history(conn, "face") == []
        with pytest.raises(th.ThresholdError, match="unknown modality"):
            th.in_force(conn, "iris")
    assert (face.version, face.threshold, face.algorithm) == (0, 0.82, "*")
    assert (fp.version, fp.threshold) == (0, 9.5)  # MCC LSS-R x 100


def test_a_proposal_needs_an_intact_report_at_that_threshold(
    store: Store,
    face_report: ReportManifest,
    fingerprint_report: ReportManifest,
    tmp_path: Path,
) -> None:
    d = face_report.directory
    with pytest.raises(th.ThresholdError, match=r"no figures at threshold 0.9 .*0.8, 0.85"):
        _propose(store, d, 0.9)
    with pytest.raises(th.ThresholdError, match="no biometric report"):
        _propose(store, tmp_path / "missing", 0.85)
    with pytest.raises(th.ThresholdError, match="evaluates fingerprint, not face"):
        _propose(store, fingerprint_report.directory, 0.85)
    with pytest.raises(th.ThresholdError, match="rationale"):
        _propose(store, d, 0.85, rationale="better")
    with pytest.raises(th.ThresholdError, match="not a finite number"):
        _propose(store, d, float("nan"))
    altered = tmp_path / "altered"
    shutil.copytree(d, altered)
    (altered / "report.html").write_text("<p>all fine</p>", encoding="utf-8")
    with pytest.raises(th.ThresholdError, match=r"report\.html: changed"):
        _propose(store, altered, 0.85)
    with store.transaction() as conn:
        assert th.history(conn, "face") == []  # nothing recorded
    change = _propose(store, d / "report.html", 0.85)
    assert (change.action, change.version, change.status) == ("propose", 1, "proposed")
    assert change.report_sha256 == face_report.sha256
    assert change.algorithm == ALGORITHM
    # the operating threshold the report computed is proposable too
    assert face_report.operating_threshold is not None
    assert _propose(store, d, face_report.operating_threshold).version == 2


def test_only_oversight_approves_never_the_proposer_and_searches_record_it(
    store: Store, face_report: ReportManifest
) -> None:
    v1 = _propose(store, face_report.directory, 0.85, who="aud2").version
    with pytest.raises(AccessDenied, match="oversight role"):
        _approve(store, v1, who="fso1", role="facial-search-operator")
    with pytest.raises(th.ThresholdApprovalDenied, match="oversight role"):
        _approve(store, v1, who="admin1", role="administrator")
    with pytest.raises(th.ThresholdApprovalDenied, match=r"proposed .* may not approve"):
        _approve(store, v1, who="aud2")  # an auditor, but the proposer
    with pytest.raises(NotFound):
        _approve(store, 99)
    with store.transaction() as conn:
        assert th.in_force(conn, "face").version == 0  # still the default
    change = _approve(store, v1)
    assert (change.action, change.status, change.previous) == (
        "approve",
        "in-force",
        th.ThresholdInForce("face", 0, 0.82, "*", None),
    )
    with store.transaction() as conn:
        now = th.in_force(conn, "face")
        gallery = make_gallery(conn, 25)
        cl = record_search(
            conn,
            modality="face",
            probe_sha256=probe_hash(3),
            search=gallery.search_for(3),
            algorithm=ALGORITHM,
            actor_id="fso1",
            purpose="crime",
        )
        with pytest.raises(th.ThresholdError, match="evaluated for algorithm"):
            record_search(
                conn,
                modality="face",
                probe_sha256=probe_hash(3),
                search=gallery.search_for(3),
                algorithm="dlib-resnet-v2",
                actor_id="fso1",
                purpose="crime",
            )
    assert (now.version, now.threshold, now.report_sha256) == (1, 0.85, face_report.sha256)
    assert (cl.threshold_version, cl.threshold) == (1, 0.85)
    assert [c.above_threshold for c in cl.candidates] == [c.score >= 0.85 for c in cl.candidates]
    with pytest.raises(th.ThresholdError, match="is in-force, not proposed"):
        _approve(store, v1)
    # a second version supersedes the first; a third is refused; history keeps all
    v2 = _propose(store, face_report.directory, 0.8).version
    v3 = _propose(store, face_report.directory, 0.8).version
    _approve(store, v2, who="aud3")
    with store.transaction() as conn:
        with pytest.raises(th.ThresholdError, match="rationale"):
            th.refuse(
                conn,
                modality="face",
                version=v3,
                decider_id="aud1",
                decider_role="auditor",
                note="",
            )
        refused = th.refuse(
            conn,
            modality="face",
            version=v3,
            decider_id="aud1",
            decider_role="auditor",
            note="duplicate of version two",
        )
        versions = th.history(conn, "face")
        current = th.in_force(conn, "face")
    assert refused.status == "refused"
    assert [(v.version, v.status) for v in versions] == [
        (1, "superseded"),
        (2, "in-force"),
        (3, "refused"),
    ]
    assert versions[0].superseded_at is not None
    assert (versions[1].approved_by, versions[2].refused_by) == ("aud3", "aud1")
    assert versions[2].decision_note == "duplicate of version two"
    assert (current.version, current.threshold) == (2, 0.8)


def test_a_report_changed_after_the_proposal_blocks_approval(
    store: Store, face_report: ReportManifest, tmp_path: Path
) -> None:
    copy = tmp_path / "report"
    shutil.copytree(face_report.directory, copy)
    version = _propose(store, copy, 0.85).version
    (copy / "cmc.csv").write_text("rank\n1\n", encoding="utf-8")
    with pytest.raises(th.ThresholdError, match="can no longer be verified"):
        _approve(store, version)
    shutil.rmtree(copy)
    with pytest.raises(th.ThresholdError, match="can no longer be verified"):
        _approve(store, version)
    with store.transaction() as conn:
        assert th.get_version(conn, "face", version).status == "proposed"
