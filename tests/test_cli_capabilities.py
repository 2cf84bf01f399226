"""The ``leds`` command reaches every capability: linkage, search, biometrics, the server and
the demo. One small demo world (``leds demo --persons 300 --no-serve``) is built once; each
command group runs on it once, ``--json`` output parses, a refusal exits 2 with the policy's
reason and a bad argument gets a clear message."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from leds.cli import app
from leds.demo import (
    DEMO_PASSWORD,
    DemoAccount,
    demo_samples,
    misspell,
    pick_demo_users,
    run_step,
)
from leds.errors import LedsError

FACES = Path(__file__).resolve().parents[1] / ".cache" / "faces"
runner = CliRunner()


class World:
    def __init__(self, data: Path, demo_output: str) -> None:
        self.data = data
        self.output = demo_output
        self.users: dict[str, DemoAccount] = pick_demo_users(data / "world")

    def as_role(self, role: str, purpose: str, *, case: bool = False) -> list[str]:
        args = [
            "--data",
            str(self.data),
            "--user",
            self.users[role].user_id,
            "--purpose",
            purpose,
            "--reason",
            "testing the command line tools",
        ]
        return [*args, "--case", "TEST/0001"] if case else args


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    data = tmp_path_factory.mktemp("cli") / "data"
    args = ["demo", "--persons", "300", "--workers", "1", "--no-serve", "--data", str(data)]
    result = runner.invoke(app, args, env={"LEDS_DEMO_PASSWORD": DEMO_PASSWORD})
    assert result.exit_code == 0, (result.output, result.exception)
    return World(data, result.output)


def run(world: World, *args: str) -> Any:
    """Run a command in-process with ``--json``; return the parsed output."""
    result = runner.invoke(app, [*args, "--json"], env={"LEDS_PASSWORD": DEMO_PASSWORD})
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def leds(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``leds`` as a process (what a user sees: exit status, stderr with its line breaks
    made single spaces)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDS_")}
    env["LEDS_PASSWORD"] = DEMO_PASSWORD
    done = subprocess.run(
        [sys.executable, "-m", "leds.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
        timeout=120,
    )
    done.stderr = " ".join(done.stderr.split())
    return done


def test_demo_links_enrols_and_prints_working_samples(world: World) -> None:
    out = world.output
    assert "demo world ready" in out
    assert "person records →" in out  # the link step ran
    assert "enrol face" in out
    assert "enrol fingerprint" in out
    samples = demo_samples(world.data / "world")
    assert samples is not None
    assert samples.surname != samples.true_surname
    assert f"--surname {samples.surname}" in out
    # the printed sample search finds the real person despite the misspelling
    found = run(
        world,
        "search",
        "person",
        "--surname",
        samples.surname,
        "--forenames",
        samples.forenames,
        *world.as_role("investigator", "crime", case=True),
    )
    names = [h["best_name"] for h in found["hits"]]
    assert any(samples.true_surname in n for n in names), names
    hit = found["hits"][0]
    assert hit["person_id"]
    assert hit["records"]
    assert {"record_id", "payload", "withheld"} <= set(hit["records"][0])
    assert found["audit_seq"] > 0


def test_misspell_changes_the_name_plausibly() -> None:
    assert misspell("FARROW") == "FAROW"
    assert misspell("SMITH") == "SMYTH"
    assert misspell("LEE") == "LE"
    assert misspell("CUDE") == "CODE"
    assert misspell("BRYNT") == "BRINT"


def test_a_failing_optional_demo_step_is_reported_not_raised() -> None:
    def broken() -> None:
        raise LedsError("the face gallery is being rebuilt", hint="try again later")

    step = run_step("enrol face", broken)
    assert not step.ok
    assert step.error == "the face gallery is being rebuilt (try again later)"
    crashed = run_step("enrol face", lambda: 1 / 0)
    assert crashed.error is not None
    assert crashed.error.startswith("ZeroDivisionError")
    assert run_step("ok", lambda: 42).value == 42


def test_search_vehicle_id_show_text_property_and_reindex(world: World) -> None:
    samples = demo_samples(world.data / "world")
    assert samples is not None
    inv = world.as_role("investigator", "crime", case=True)
    vehicles = run(world, "search", "vehicle", samples.partial_plate, *inv)
    assert samples.plate in [h["vrm"] for h in vehicles["hits"]]
    shown = run(world, "show", "vehicle", samples.plate, *inv)
    assert shown["vehicle"]["vrm"] == samples.plate
    ids = run(world, "search", "id", samples.pnc_id, *inv)
    assert ids["kinds"][0][0] == "pnc_id"
    person_id = ids["person_ids"][str(ids["records"][0]["record_id"])]
    person = run(world, "show", "person", person_id, *inv)["person"]
    assert person["person_id"] == person_id
    names = [person["best_name"], *(str(a.get("surname")) for a in person["aliases"])]
    assert any(samples.true_surname in n for n in names), names
    text = run(world, "search", "text", "seen", *inv)
    assert "hits" in text
    assert text["total"] >= 0
    prop = run(world, "search", "property", "--category", "BICYCLE", *inv)
    assert "hits" in prop
    stats = run(world, "reindex", *world.as_role("data-steward", "admin-process"))
    assert stats["audit_seq"] > 0


def test_link_group_review_explain_decide_undo_history_evaluate(world: World) -> None:
    steward = world.as_role("data-steward", "admin-process")
    queue = run(world, "link", "review", "--limit", "5", *steward)["items"]
    assert queue, "a 300-person world queues some pairs for review"
    item = queue[0]
    a, b = str(item["record_a"]), str(item["record_b"])
    explained = run(world, "link", "explain", a, b, *steward)
    steps = explained["waterfall"]
    assert steps[0]["step"] == "prior"
    assert steps[-1]["step"] == "total"
    assert steps[-1]["weight"] == pytest.approx(explained["explanation"]["match_weight"])
    assert steps[-2]["running_total"] == pytest.approx(steps[-1]["weight"], abs=1e-6)
    made = run(world, "link", "decide", a, b, "not-a-match", "--why", "different people", *steward)
    decision = made["decision"]
    assert decision["decision"] == "not-a-match"
    undone = run(world, "link", "undo", str(decision["id"]), "--why", "decided in error", *steward)
    assert undone["decision"]["undone_by"] == world.users["data-steward"].user_id
    person = item["person_a"] or item["person_b"]
    history = run(world, "link", "history", person, *steward)["events"]
    assert history
    assert history[0]["person_id"] == person
    evaluated = run(world, "link", "evaluate", "--threshold", "0.5", *steward)
    assert evaluated["overall"]["f1"] > 0.9
    assert evaluated["overall"]["bcubed_f1"] > 0.9
    assert evaluated["by_source_pair"]
    assert [p["threshold"] for p in evaluated["curve"]] == [0.5]
    again = run(world, "link", "--no-retrain", *steward)
    assert again["kind"] == "full"
    assert not again["trained"]


def test_link_table_output_shows_the_waterfall(world: World) -> None:
    steward = world.as_role("data-steward", "admin-process")
    samples = demo_samples(world.data / "world")
    assert samples is not None
    ids = run(
        world, "search", "id", samples.pnc_id, *world.as_role("investigator", "crime", case=True)
    )
    record = str(ids["records"][0]["record_id"])
    result = runner.invoke(
        app,
        ["link", "explain", f"pnc:{samples.pnc_id}", record, *steward],
        env={"LEDS_PASSWORD": DEMO_PASSWORD},
    )
    assert result.exit_code == 0, result.output
    assert "prior" in result.stdout
    assert "total" in result.stdout
    assert "match probability" in result.stdout


@pytest.mark.skipif(not (FACES / "obama.jpg").exists(), reason="no test photos (make venv)")
def test_face_search_review_decide_close(world: World) -> None:
    operator = world.as_role("facial-search-operator", "crime", case=True)
    found = run(world, "face", "search", str(FACES / "obama.jpg"), "--candidates", "2", *operator)
    assert found["notice"] == "investigative lead — not an identification"
    assert len(found["candidates"]) == 2
    sid = str(found["search_id"])
    state = run(world, "face", "review", sid, *operator)
    assert state["undecided"] == [1, 2]
    for rank in ("1", "2"):
        run(
            world,
            "face",
            "decide",
            sid,
            rank,
            "not-a-match",
            "--why",
            "face shape differs clearly",
            *operator,
        )
    closed = run(world, "face", "close", sid, *operator)
    assert closed["possible_matches"] == []
    table = runner.invoke(
        app,
        ["face", "search", str(FACES / "obama.jpg"), "--candidates", "2", *operator],
        env={"LEDS_PASSWORD": DEMO_PASSWORD},
    )
    assert "NOT AN IDENTIFICATION" in table.stdout


def test_biometrics_enrol_is_idempotent(world: World) -> None:
    steward = world.as_role("data-steward", "admin-process")
    got = run(world, "biometrics", "enrol", "--modality", "face", *steward)["outcome"]
    assert got["enrolled"] == 0
    assert got["already"] > 0
    assert got["gallery_size"] > 0


def test_evaluate_propose_and_approve_a_threshold(world: World, tmp_path: Path) -> None:
    steward = world.as_role("data-steward", "admin-process")
    report = tmp_path / "report"
    args = ["biometrics", "evaluate", "--out", str(report), "--threshold", "0.7"]
    run(world, *args, "--gallery-persons", "20", *steward)
    assert (report / "report.html").exists()
    why = ["--why", "fewer missed candidates at an equal FPIR"]
    proposed = run(
        world,
        "biometrics",
        "threshold",
        "propose",
        "face",
        "0.7",
        "--report",
        str(report),
        *why,
        *steward,
    )
    assert proposed["status"] == "proposed"
    version = str(proposed["version"])
    auditor = world.as_role("auditor", "oversight")
    approved = run(
        world,
        "biometrics",
        "threshold",
        "approve",
        "face",
        version,
        "--note",
        "report reviewed",
        *auditor,
    )
    assert approved["status"] == "in-force"
    assert approved["previous"]["threshold"] != approved["threshold"]


def test_threshold_propose_without_report_is_refused(world: World, tmp_path: Path) -> None:
    steward = world.as_role("data-steward", "admin-process")
    result = runner.invoke(
        app,
        [
            "biometrics",
            "threshold",
            "propose",
            "face",
            "0.7",
            "--report",
            str(tmp_path),
            "--why",
            "lower false non-match rate",
            *steward,
        ],
        env={"LEDS_PASSWORD": DEMO_PASSWORD},
    )
    assert result.exit_code != 0
    assert result.exception is not None
    assert "report" in str(result.exception).lower()


def test_a_refusal_exits_2_with_the_policy_reason(world: World) -> None:
    # a data steward may run linkage but not search persons
    done = leds(
        "search", "person", "--surname", "SMITH", *world.as_role("data-steward", "admin-process")
    )
    assert done.returncode == 2
    assert "may not search_person" in done.stderr
    assert "no policy permits it" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_arguments_get_a_clear_message(world: World) -> None:
    inv = world.as_role("investigator", "crime", case=True)
    mode = leds("search", "person", "--surname", "SMITH", "--mode", "sloppy", *inv)
    assert mode.returncode == 2
    assert "'sloppy' is not one of" in mode.stderr
    dob = leds("search", "person", "--surname", "SMITH", "--dob", "1990-13-01", *inv)
    assert dob.returncode == 2
    assert "--dob: not a date" in dob.stderr
    assert "YYYY-MM-DD" in dob.stderr
    ref = runner.invoke(
        app,
        ["link", "explain", "nonsense", "1", *world.as_role("data-steward", "admin-process")],
        env={"LEDS_PASSWORD": DEMO_PASSWORD},
    )
    assert "not a record reference" in str(ref.exception)
    photo = runner.invoke(app, ["face", "search", "/nonexistent.jpg", *inv])
    assert "cannot read /nonexistent.jpg" in str(photo.exception)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(world: World) -> Iterator[str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDS_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "leds.cli", "serve", "--port", str(port), "--data", str(world.data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if proc.stdout is not None:
            proc.stdout.close()


def test_serve_answers_http(server: str) -> None:
    deadline = time.monotonic() + 30
    status = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(server + "/", timeout=2) as response:
                status = response.status
            break
        except urllib.error.HTTPError as exc:
            status = exc.code
            break
        except OSError:
            time.sleep(0.3)
    assert status is not None
    assert status < 500
