"""NIST-style evaluation: known answers for FNIR/FPIR/CMC/FNMR, groups, the written report."""

from __future__ import annotations

import csv
import json
import math
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from biometric_rows import (
    Gallery,
    make_gallery,
    shared_store,  # noqa: F401 - the module-scoped store fixture
)

from leds.biometrics.evaluate import (
    UNKNOWN,
    Comparison,
    EvaluationError,
    Group,
    Search,
    age_band,
    evaluate,
    group_of,
    groups_for_records,
    search_from_candidates,
    synthetic_face_set,
    threshold_at_rate,
)
from leds.biometrics.report import (
    ReportError,
    ReportManifest,
    load_manifest,
    run_face_evaluation,
    run_fingerprint_evaluation,
)
from leds.store import Store

F30 = Group("F", "25-34", "W1")
M50 = Group("M", "45-54", "B2")


def _m(pid: str, group: Group, scores: list[float], rank: int | None) -> Search:
    return Search(pid, group, True, tuple(scores), rank)


def _n(pid: str, group: Group, top: float) -> Search:
    return Search(pid, group, False, (top, top - 0.1))


def test_age_bands_and_groups_come_from_recorded_values() -> None:
    on = date(2025, 12, 31)
    assert age_band(date(2008, 1, 1), on) == "under 18"
    assert age_band(date(2007, 12, 31), on) == "18-24"  # 18th birthday today
    assert age_band(date(1960, 6, 1), on) == "65+"
    assert age_band(None, on) == UNKNOWN
    g = group_of("f", date(1990, 1, 1), "a1", on)
    assert g == Group("F", "35-44", "A1")
    assert g.ethnic_group == "Asian"
    assert group_of("U", None, None, on) == Group(UNKNOWN, UNKNOWN, UNKNOWN)
    assert group_of("M", None, "NS", on).ethnic_group == "not stated"


def test_threshold_at_an_fpir_target_is_known() -> None:
    scores = np.arange(1000) / 1000.0
    t, achieved = threshold_at_rate(scores, 0.003)
    assert 0.996 < t < 0.9961  # just above the 4th highest: 3 of 1000 at or above
    assert achieved == pytest.approx(0.003)
    t, achieved = threshold_at_rate(scores[:100], 0.003)  # not resolvable: above everything
    assert t > 0.099
    assert achieved == 0.0


def test_fnir_fpir_cmc_by_hand() -> None:
    searches = [
        _m("m1", F30, [0.9, 0.5], 1),  # hit at rank 1
        _m("m2", F30, [0.8, 0.7], 2),  # mate at rank 2, score 0.7
        _m("m3", M50, [0.6, 0.4], None),  # mate not returned
        Search("m4", M50, True, failed_to_acquire=True),  # FTA: a miss, not dropped
        _n("n1", F30, 0.75),
        _n("n2", F30, 0.55),
        _n("n3", M50, 0.65),
        Search("n4", M50, False, failed_to_acquire=True),  # no candidates: no false positive
    ]
    ev = evaluate(
        searches,
        modality="face",
        algorithm="test-1",
        list_length=2,
        thresholds=(0.6, 0.72),
        fpir_target=0.3,
    )
    o = ev.overall
    assert (o.mated, o.nonmated, o.mated_fta, o.nonmated_fta) == (4, 4, 1, 1)
    assert o.mates_not_returned == 1
    assert o.fnir_rank1 == pytest.approx(3 / 4)
    assert o.fnir_rank_r == pytest.approx(2 / 4)
    assert o.at_thresholds[0.6] == pytest.approx((2 / 4, 2 / 4))
    assert o.at_thresholds[0.72] == pytest.approx((3 / 4, 1 / 4))
    # FPIR target 0.3 of 4 searches: 1 false positive allowed -> T just above 0.65
    assert 0.65 < ev.operating_threshold < 0.6501
    assert o.fpir_at_operating == pytest.approx(1 / 4)
    assert o.fnir_at_fpir == pytest.approx(2 / 4)
    assert ev.cmc.tolist() == [[1.0, 0.25], [2.0, 0.5]]
    assert 0.6 in ev.evaluated_thresholds
    assert ev.operating_threshold in ev.evaluated_thresholds
    # one threshold for all; per-group rates differ
    sex = ev.by_group["sex"]
    assert (sex["F"].mated, sex["F"].nonmated) == (2, 2)
    assert sex["F"].fnir_rank_r == 0.0
    assert sex["M"].fnir_rank_r == 1.0
    assert sex["F"].fpir_at_operating == pytest.approx(1 / 2)
    assert sex["M"].fpir_at_operating == 0.0
    assert ev.by_group["ethnic_group"]["Black"].mated_fta == 1
    # DET: FPIR falls and FNIR rises with the threshold
    det = ev.det
    assert (np.diff(det[:, 1]) <= 0).all()
    assert (np.diff(det[:, 2]) >= 0).all()


def test_one_to_one_fnmr_at_fixed_fmr() -> None:
    impostor = [Comparison(i / 1000, False, F30) for i in range(1000)]
    genuine = [Comparison(s, True, F30) for s in (0.9995, 0.9999, 0.5, 0.99)]
    genuine.append(Comparison(0.0, True, F30, failed_to_acquire=True))
    searches = [_m("m", F30, [0.9], 1), _n("n", F30, 0.1)]
    ev = evaluate(
        searches,
        modality="face",
        algorithm="t",
        comparisons=impostor + genuine,
        fmr_targets=(0.01,),
    )
    assert ev.one_to_one is not None
    t, fnmr, fmr = ev.one_to_one.fnmr_at_fmr[0.01]
    assert 0.989 < t < 0.9891  # just above the 11th highest: 10 of 1000 at or above
    assert fmr == pytest.approx(0.01)
    assert fnmr == pytest.approx(2 / 5)  # 0.5 below T, and the FTA
    assert ev.one_to_one.genuine_fta == 1


def test_bad_search_results_are_refused() -> None:
    with pytest.raises(EvaluationError, match="descending"):
        evaluate([_m("m", F30, [0.1, 0.9], 1), _n("n", F30, 0.2)], modality="f", algorithm="a")
    with pytest.raises(EvaluationError, match="outside its list"):
        evaluate([_m("m", F30, [0.9], 3), _n("n", F30, 0.2)], modality="f", algorithm="a")
    with pytest.raises(EvaluationError, match="non-mated"):
        evaluate([_m("m", F30, [0.9], 1)], modality="f", algorithm="a")
    with pytest.raises(EvaluationError, match="finite"):
        evaluate(
            [_m("m", F30, [0.9], 1), _n("n", F30, 0.2)],
            modality="f",
            algorithm="a",
            thresholds=(math.nan,),
        )


def test_search_from_candidates_ranks_and_finds_the_mate() -> None:
    s = search_from_candidates("p", M50, [("b", 12.0), ("a", 40.0), ("c", 12.0)], "c")
    assert s.scores == (40.0, 12.0, 12.0)
    assert s.mate_rank == 3  # ties by id: b before c
    assert s.mated
    missing = search_from_candidates("q", M50, [("a", 3.0)], "z")
    assert missing.mate_rank is None
    assert missing.mated
    fta = search_from_candidates("r", M50, [("a", 3.0)], None, failed_to_acquire=True)
    assert (fta.scores, fta.mated, fta.failed_to_acquire) == ((), False, True)


def test_synthetic_face_set_counts_failures_and_finds_mates() -> None:
    data = synthetic_face_set(
        gallery_persons=300, mated_probes=80, nonmated_probes=120, seed=4, min_quality=40
    )
    mated = [s for s in data.searches if s.mated]
    assert len(mated) == 80
    assert len(data.searches) == 200  # FTA searches are kept
    fta = sum(s.failed_to_acquire for s in data.searches)
    assert 0 < fta < 40  # ~8% of qualities 35-99 are below 40
    assert sum(data.enrol_attempts.values()) == 300
    assert data.gallery_size == 300 - sum(data.enrol_failures.values())
    found = [s for s in mated if s.mate_rank == 1]
    assert len(found) >= 0.75 * len(mated)  # the synthetic model separates identities well
    no_failures = synthetic_face_set(
        gallery_persons=50, mated_probes=10, nonmated_probes=10, min_quality=0
    )
    assert not any(s.failed_to_acquire for s in no_failures.searches)


@pytest.fixture(scope="module")
def face_report(tmp_path_factory: pytest.TempPathFactory) -> ReportManifest:
    return run_face_evaluation(
        tmp_path_factory.mktemp("report"),
        gallery_persons=400,
        mated_probes=150,
        nonmated_probes=400,
        seed=2,
        thresholds=(0.8, 0.82),
        algorithm="synthetic-face-v1",
    )


def test_the_face_report_is_written_with_plots_csv_and_a_manifest(
    face_report: ReportManifest,
) -> None:
    d = face_report.directory
    for name in ("report.html", "summary.csv", "det.csv", "cmc.csv", "histogram.csv"):
        assert (d / name).is_file()
    for name in ("det.png", "cmc.png", "histogram.png", "det_sex.png", "det_1to1.png"):
        assert (d / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert face_report.modality == "face"
    assert face_report.algorithm == "synthetic-face-v1"
    assert face_report.evaluated(0.8)
    assert face_report.evaluated(0.82)
    assert not face_report.evaluated(0.9)
    assert face_report.operating_threshold is not None
    assert face_report.evaluated(face_report.operating_threshold)
    html = face_report.html.read_text(encoding="utf-8")
    assert "never inferred from an image" in html
    assert "investigative lead — not an identification" in html
    assert 'src="det.png"' in html
    with (d / "summary.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    dims = {r["dimension"] for r in rows}
    assert dims == {"all", "sex", "age_band", "ethnic_group", "ethnicity"}
    sexes = {r["group"] for r in rows if r["dimension"] == "sex"}
    assert sexes == {"F", "M"}
    metric = {(r["dimension"], r["group"], r["metric"]): r for r in rows}
    assert int(metric["all", "all", "mated_searches"]["value"]) == 150
    assert int(metric["all", "all", "nonmated_searches"]["value"]) == 400
    assert int(metric["all", "all", "enrolment_attempts"]["value"]) == 400
    by_sex = sum(int(metric["sex", s, "mated_searches"]["value"]) for s in sexes)
    assert by_sex == 150
    assert float(metric["all", "all", "fnir_rankR_no_threshold"]["value"]) < 0.2
    body = json.loads((d / "report.json").read_text(encoding="utf-8"))
    assert body["thresholds_evaluated"][:2] == [0.8, 0.82]
    assert set(body["files"]) >= {"report.html", "det.png", "summary.csv"}


def test_a_changed_or_missing_report_file_is_detected(
    face_report: ReportManifest, tmp_path: Path
) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(face_report.directory, copy)
    assert load_manifest(copy / "report.html").sha256 == face_report.sha256
    (copy / "summary.csv").write_text("dimension,group\n", encoding="utf-8")
    with pytest.raises(ReportError, match=r"summary\.csv: changed"):
        load_manifest(copy)
    (copy / "det.png").unlink()
    with pytest.raises(ReportError, match=r"det\.png: missing"):
        load_manifest(copy)
    with pytest.raises(ReportError, match="no biometric report"):
        load_manifest(tmp_path / "nowhere")


def test_fingerprint_hook_takes_a_matchers_score_lists(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    searches = []
    for i in range(60):
        group = F30 if i % 2 else M50
        cands = [(f"g{j}", float(rng.integers(5, 45))) for j in range(20)]
        if i < 30:  # mated: the mate scores high (Bozorth3-like)
            cands[i % 20] = (f"g{i % 20}", float(rng.integers(40, 150)))
            searches.append(search_from_candidates(f"p{i}", group, cands, f"g{i % 20}"))
        else:
            searches.append(search_from_candidates(f"p{i}", group, cands, None))
    report = run_fingerprint_evaluation(
        tmp_path / "fp", searches, algorithm="nbis-bozorth3-test", thresholds=(40.0,)
    )
    assert report.modality == "fingerprint"
    assert report.evaluated(40.0)
    assert (report.directory / "det.png").is_file()


def test_groups_are_read_from_person_records(store_gallery: tuple[Store, Gallery]) -> None:
    store, gallery = store_gallery
    with store.transaction() as conn:
        groups = groups_for_records(conn, gallery.person_ids[:3], date(2025, 12, 31))
    assert groups[gallery.person_ids[0]] == Group("M", "65+", "W1")  # born 1960-01-01
    assert groups[gallery.person_ids[1]] == Group("F", "55-64", "A1")  # born 1961-02-02
    assert groups[gallery.person_ids[2]].ethnic_group == "Black"


@pytest.fixture
def store_gallery(shared_store: Store) -> tuple[Store, Gallery]:  # noqa: F811
    with shared_store.transaction() as conn:
        return shared_store, make_gallery(conn, 3)
