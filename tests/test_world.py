"""A generated world goes through every parser and the one door into the store, end to end:
every row is either stored or rejected (rejections are exactly the injected invalid rows), the
ground truth covers every stored person record, and the CLI drives it all without tracebacks."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from actors import STEWARD
from leds.governance.identity import PurposeStatement
from leds.service import Service
from leds.synth import generate_world

ADMIN = PurposeStatement.of("admin-process", "loading the synthetic test world")
SOURCES = ("pnc", "pnd", "dvla", "iabs")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    generate_world(out, 1_500, 7, part_size=500, workers=1, invalid_rate=0.01)
    return out


def test_every_row_is_stored_or_rejected_with_a_reason(world: Path, tmp_path: Path) -> None:
    manifest = json.loads((world / "manifest.json").read_text())
    service = Service.open(tmp_path / "data")
    store = service._store
    for source in SOURCES:
        summary = service.import_source(STEWARD, ADMIN, source, world / source).value
        assert summary.status == "complete"
        assert summary.rejected == manifest["invalid"].get(source, 0), source
        assert summary.rejected > 0, f"{source}: the world injects invalid rows"
        assert summary.inserted == summary.read - summary.rejected
        for reason in service.list_rejections(STEWARD, ADMIN, summary.import_id).value:
            assert reason.reason
            assert reason.raw
    counts = store.record_counts()
    persons = {s: n for (s, k), n in counts.items() if k == "person"}
    assert set(persons) == set(SOURCES)
    truth: set[tuple[str, str]] = set()
    for part in sorted((world / "truth").glob("truth-*.csv")):
        with part.open(newline="") as fh:
            truth.update(
                (r["source"], r["source_record_id"])
                for r in csv.DictReader(fh)
                if r["kind"] == "person"
            )
    with store.engine.connect() as conn:
        from sqlalchemy import text

        stored = {
            (s, i)
            for s, i in conn.execute(
                text("select source, source_record_id from records where kind = 'person'")
            )
        }
    assert stored <= truth
    store.close()


def test_reimporting_the_world_adds_nothing(world: Path, tmp_path: Path) -> None:
    service = Service.open(tmp_path / "data")
    store = service._store
    first = service.import_source(STEWARD, ADMIN, "pnc", world / "pnc").value
    again = service.import_source(STEWARD, ADMIN, "pnc", world / "pnc").value
    assert again.inserted == 0
    assert again.unchanged == first.inserted
    store.close()


def _leds(*args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDS_")}
    env["LEDS_NEW_PASSWORD"] = NEW_PASSWORD
    if password is not None:
        env["LEDS_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "leds.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )


NEW_PASSWORD = "correct horse battery staple"
ADMIN_ARGS = ["--purpose", "admin-process", "--reason", "setting up the test accounts"]


def test_cli_accounts_ingest_sources_record_audit_and_errors(world: Path, tmp_path: Path) -> None:
    data = ["--data", str(tmp_path / "data")]
    boot = _leds(
        "users", "add", "admin1", "--role", "administrator", "--org", "LEDS", *data, *ADMIN_ARGS
    )
    assert boot.returncode == 0, boot.stderr
    for user, role, org in (
        ("steward1", "data-steward", "LEDS"),
        ("pc1", "constable", "WYP"),
        ("aud1", "auditor", "IOPC"),
    ):
        added = _leds(
            "users",
            "add",
            user,
            "--role",
            role,
            "--org",
            org,
            "--user",
            "admin1",
            *data,
            *ADMIN_ARGS,
            password=NEW_PASSWORD,
        )
        assert added.returncode == 0, added.stderr
    again = _leds(
        "users", "add", "x1", "--role", "administrator", "--org", "LEDS", *data, *ADMIN_ARGS
    )
    assert again.returncode == 2
    assert "sign in first" in again.stderr

    steward = ["--user", "steward1", *data]
    refused = _leds("ingest", "pnc", str(world / "pnc"), *steward, password=NEW_PASSWORD)
    assert refused.returncode == 2
    assert "purpose code is required" in refused.stderr
    assert "Traceback" not in refused.stderr + refused.stdout
    wrong = _leds("sources", *steward, *ADMIN_ARGS, password="not the password at all")
    assert wrong.returncode == 2
    assert "unknown user id or wrong password" in wrong.stderr
    done = _leds(
        "ingest", "pnc", str(world / "pnc"), *steward, "--json", *ADMIN_ARGS, password=NEW_PASSWORD
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "complete"
    listed = _leds("sources", *steward, "--json", *ADMIN_ARGS, password=NEW_PASSWORD)
    assert listed.returncode == 0, listed.stderr
    overview = json.loads(listed.stdout)
    assert overview["audit_seq"] > 0
    held = {(c["source"], c["kind"]): c["records"] for c in overview["counts"]}
    assert held[("pnc", "person")] > 0
    first_id = next(
        line.split("|")[1]
        for line in (world / "pnc" / "pnc-00001.txt").read_text().splitlines()
        if line.startswith("NOM|")
    )
    shown = _leds(
        "record", "pnc", "person", first_id, *steward, "--json", *ADMIN_ARGS, password=NEW_PASSWORD
    )
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["source_record_id"] == first_id
    missing = _leds(
        "record", "pnc", "person", "1999/0000001A", *steward, *ADMIN_ARGS, password=NEW_PASSWORD
    )
    assert missing.returncode == 2
    assert "no person record" in missing.stderr

    rejected = _leds("rejections", "1", *steward, "--json", *ADMIN_ARGS, password=NEW_PASSWORD)
    assert rejected.returncode == 0, rejected.stderr
    assert json.loads(rejected.stdout)["rejections"]
    token = _leds("token", "--label", "ci", *steward, *ADMIN_ARGS, password=NEW_PASSWORD)
    assert token.returncode == 0, token.stderr
    by_token = _leds("sources", "--token", token.stdout.strip(), *data, "--json", *ADMIN_ARGS)
    assert by_token.returncode == 0, by_token.stderr

    stop = ["--purpose", "stop", "--reason", "vehicle stopped on the A64"]
    constable = _leds(
        "ingest", "pnc", str(world / "pnc"), "--user", "pc1", *data, *stop, password=NEW_PASSWORD
    )
    assert constable.returncode == 2
    assert "constable" in constable.stderr
    assert "Traceback" not in constable.stderr

    oversight = [
        "--user",
        "aud1",
        *data,
        "--purpose",
        "oversight",
        "--reason",
        "quarterly review of access",
    ]
    verified = _leds("audit", "verify", "--json", *oversight, password=NEW_PASSWORD)
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["entries"] > 5
    log = _leds("audit", "log", "--json", *oversight, password=NEW_PASSWORD)
    assert log.returncode == 0, log.stderr
    decisions = [e["decision"] for e in json.loads(log.stdout)["entries"]]
    assert any(d.startswith("deny:") for d in decisions)
    proof = _leds("audit", "prove", "1", *oversight, password=NEW_PASSWORD)
    assert proof.returncode == 0, proof.stderr
    assert json.loads(proof.stdout)["seq"] == 1
    witness = _leds(
        "audit",
        "witness",
        "--state",
        str(tmp_path / "w.json"),
        "--key",
        str(tmp_path / "w.key"),
        *oversight,
        password=NEW_PASSWORD,
    )
    assert witness.returncode == 0, witness.stderr
    assert "cosignature" not in witness.stderr
    explained = _leds(
        "policy",
        "explain",
        "--role",
        "constable",
        "--org",
        "WYP",
        "--action",
        "search_person",
        "--source",
        "pnd",
        "--purpose",
        "intelligence",
    )
    assert explained.returncode == 0, explained.stderr
    assert "deny" in explained.stdout.lower()
