"""OIDC access tokens as API bearer tokens: a JWT signed by the identity provider's published
key is accepted (and the audit entry names its subject); a forged, expired or unknown-key
token is 401. The provider's JWKS is served on loopback by a real HTTP server."""

from __future__ import annotations

import json
import threading
import time
import warnings
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from kit import HEADERS, World, backend_store, build

from leds.api import create_app
from leds.governance.oidc import OidcSettings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

ISSUER = "https://idp.example.test"
AUDIENCE = "leds-api"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
STRANGER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def served(
    jwks_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, World]]:
    root: Path = tmp_path_factory.mktemp("oidc")
    with backend_store("sqlite", root, None) as store:
        world = build(store, root)
        settings = OidcSettings(issuer=ISSUER, audience=AUDIENCE, jwks_url=jwks_url)
        app = create_app(world.service, oidc=settings, import_root=world.import_root)
        with TestClient(app) as http:
            yield http, world


@pytest.fixture
def client(served: tuple[TestClient, World]) -> TestClient:
    return served[0]


def token(key: Any = KEY, kid: str = "k1", **overrides: Any) -> str:
    now = int(time.time())
    year = (date.today() + timedelta(days=365)).isoformat()
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "oidc-pc-7",
        "iat": now,
        "exp": now + 300,
        "leds_role": "constable",
        "leds_org": "WYP",
        "leds_vetting_expires": year,
        "leds_training_expires": year,
        **overrides,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def test_an_identity_providers_token_is_accepted_and_recorded(
    served: tuple[TestClient, World],
) -> None:
    client, world = served
    headers = {"Authorization": f"Bearer {token()}", **HEADERS["constable"]}
    got = client.get("/api/v1/records/pnc/person/2001%2F0171310W", headers=headers)
    assert got.status_code == 200, got.text
    assert got.json()["data"]["person"]["surname"] == "SMITH"
    seq = got.json()["audit_seq"]
    logged = world.store.audit_entries(seq - 1, 1)[0]
    assert (logged.seq, logged.actor_id, logged.actor_role) == (seq, "oidc-pc-7", "constable")


@pytest.mark.parametrize(
    "bad",
    [
        token(key=STRANGER),
        token(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200),
        token(aud="someone-else"),
        token(kid="unknown"),
        token(leds_role="superuser"),
    ],
    ids=["forged", "expired", "wrong-audience", "unknown-key", "unknown-role"],
)
def test_bad_identity_provider_tokens_are_401(client: TestClient, bad: str) -> None:
    got = client.get(
        "/api/v1/imports", headers={"Authorization": f"Bearer {bad}", **HEADERS["constable"]}
    )
    assert got.status_code == 401, got.text
    assert got.json()["error"]["code"] == "authentication_failed"
