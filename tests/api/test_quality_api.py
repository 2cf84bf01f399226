"""The JSON twins of screens 9 and 10: ``GET /api/v1/biometrics/performance``, the plot route,
``POST /api/v1/biometrics/evaluations`` and ``GET /api/v1/sources/quality`` — the item
envelope with the ``audit_seq`` of a committed entry, 401 before anything without
credentials, 403 (recorded) for a role the policy does not allow. The evaluation that succeeds
needs a data directory: tests/web/test_quality_pages.py runs it over the richer world."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from kit import USERS, World
from test_contract import entry, error_of

QUALITY = "/api/v1/sources/quality"
PERFORMANCE = "/api/v1/biometrics/performance"
PLOT = "/api/v1/biometrics/evaluations/1/plots/det.png"
EVALUATE = "/api/v1/biometrics/evaluations"


@pytest.mark.parametrize("who", ["steward", "auditor", "admin"])
def test_data_quality_envelope_and_audit_entry(client: TestClient, world: World, who: str) -> None:
    got = client.get(QUALITY, headers=world.auth(who))
    assert got.status_code == 200, got.text
    body = got.json()
    assert set(body) == {"data", "audit_seq"}
    logged = entry(client, world, body["audit_seq"])
    assert (logged["operation"], logged["actor_id"]) == ("data_quality", USERS[who][0])
    assert logged["decision"].startswith("allow:")
    data = body["data"]
    pnc = next(s for s in data["sources"] if s["source"] == "pnc")
    assert pnc["last_import"]["import_id"] == world.import_id
    assert pnc["rejected"] == 1
    (reason,) = pnc["reasons"]
    assert reason["field"] == "pnc_id"
    assert "2008/0056560X" not in reason["reason"]
    assert reason["rejections"] == f"/api/v1/imports/{world.import_id}/rejections"
    assert [s["source"] for s in data["sources"]] == ["pnc", "pnd", "dvla", "iabs", "generic"]
    assert data["retention"]["configured"] is False
    assert data["retention"]["reviews_due"] is None
    assert data["model"] is None
    assert data["model_note"] == "no linkage run yet"


def test_biometric_performance_envelope_and_empty_state(client: TestClient, world: World) -> None:
    for who in ("auditor", "steward", "operator"):
        got = client.get(PERFORMANCE, headers=world.auth(who))
        assert got.status_code == 200, got.text
        body = got.json()
        logged = entry(client, world, body["audit_seq"])
        assert logged["operation"] == "biometric_performance"
        face, fingerprint = body["data"]["modalities"]
        assert (face["modality"], fingerprint["modality"]) == ("face", "fingerprint")
        assert face["evaluation"] is None
        assert "Run a new evaluation" in face["how_to_evaluate"]
        assert face["in_force"]["version"] == 0
        assert face["shipped"]["threshold"] == face["in_force"]["threshold"]
        assert face["thresholds"] == []
    got = client.get(PLOT, headers=world.auth("auditor"))
    error_of(got, 404, "not_found")


@pytest.mark.parametrize("path", [QUALITY, PERFORMANCE, PLOT])
def test_401_without_credentials(client: TestClient, path: str) -> None:
    got = client.get(path, headers={"X-Leds-Purpose": "oversight"})
    error_of(got, 401, "authentication_failed")
    error_of(client.post(EVALUATE, json={"gallery_persons": 100}), 401, "authentication_failed")


@pytest.mark.parametrize(
    ("path", "who", "action"),
    [
        (QUALITY, "constable", "data_quality"),
        (QUALITY, "operator", "data_quality"),
        (PERFORMANCE, "constable", "biometric_performance"),
        (PERFORMANCE, "admin", "biometric_performance"),
        (PLOT, "analyst", "biometric_performance"),
    ],
)
def test_403_for_a_role_without_access_and_recorded(
    client: TestClient, world: World, path: str, who: str, action: str
) -> None:
    got = client.get(path, headers=world.auth(who))
    error_of(got, 403)
    last = client.get(
        "/api/v1/audit/search",
        params={"user": USERS[who][0], "action": action, "decision": "deny"},
        headers=world.auth("auditor"),
    )
    assert last.status_code == 200, last.text
    assert last.json()["items"], f"the refusal of {who} on {path} was not recorded"


def test_running_an_evaluation_is_for_stewards_and_auditors(
    client: TestClient, world: World
) -> None:
    refused = client.post(EVALUATE, json={"gallery_persons": 100}, headers=world.auth("operator"))
    error_of(refused, 403)
    # This world's service has no data directory: said so, after authorisation, not a 500.
    no_data = client.post(EVALUATE, json={"gallery_persons": 100}, headers=world.auth("steward"))
    assert "data directory" in error_of(no_data, 400)["message"]
    schema = client.post(EVALUATE, json={"gallery_persons": 99}, headers=world.auth("steward"))
    error_of(schema, 422, "invalid_request")
