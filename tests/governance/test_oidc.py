"""OIDC token verification against a real identity provider (``oidc-provider-mock``).

The provider runs in a thread on 127.0.0.1 (free port). Tokens come from it through the
ordinary authorization-code flow: ``PUT /users/{sub}`` sets the user's claims, a ``POST`` to
``/oauth2/authorize`` with ``sub`` stands in for the user clicking "Authorize" and yields a code,
and ``POST /oauth2/token`` exchanges the code. The mock's *access* tokens are opaque strings,
so the JWT we verify is the **ID token** from the same response: RS256, signed with the key the
provider publishes at its JWKS endpoint, ``aud`` = client id, ``iss`` = the provider's URL, and
every custom user claim merged in. Because the provider merges user claims *after* its own,
a user whose claims set ``exp``, ``nbf`` or ``iss`` gets a genuinely provider-signed token that
is expired, not yet valid or from the wrong issuer. Forgeries (alg=none, HS256 keyed with the
public key, a stranger's key under the provider's kid, a payload edited after signing) are made
from genuine tokens and the provider's published key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from leds.governance.authn import AuthenticatedUser, AuthenticationFailed
from leds.governance.identity import Actor
from leds.governance.oidc import OidcSettings, OidcVerifier

# oidc-provider-mock 0.3.4 on Authlib 1.9.10 emits three DeprecationWarnings; pytest runs with
# filterwarnings=error, so they are ignored here by the module they are attributed to:
_AT_IMPORT = (
    "oidc_provider_mock._app",  # `from authlib import jose` (authlib.jose is deprecated)
    "authlib.integrations.httpx_client.assertion_client",  # httpx fallback (wants httpx2)
)
_PER_ID_TOKEN = "authlib.oidc.core.grants._legacy"  # OpenIDCode.get_jwt_config, server thread
pytestmark = [
    pytest.mark.filterwarnings(f"ignore::DeprecationWarning:{module}")
    for module in (*_AT_IMPORT, _PER_ID_TOKEN)
]

CLIENT_ID = "leds-api"
REDIRECT_URI = "http://127.0.0.1/callback"
TODAY = date(2026, 6, 1)
GOOD_CLAIMS: dict[str, object] = {
    "leds_role": "investigator",
    "leds_org": "force-01",
    "leds_vetting_expires": "2027-03-31",
    "leds_training_expires": "2026-12-31",
}


@dataclass(frozen=True)
class IdP:
    base_url: str
    issuer: str
    jwks_url: str
    jwks: dict[str, Any]

    def token(self, sub: str, claims: Mapping[str, object], *, client_id: str = CLIENT_ID) -> str:
        """A genuine ID token for ``sub`` with ``claims``, via the authorization-code flow."""
        with httpx.Client(base_url=self.base_url, timeout=10) as http:
            http.put(f"/users/{quote(sub, safe='')}", json=claims).raise_for_status()
            consent = http.post(
                "/oauth2/authorize",
                params={
                    "client_id": client_id,
                    "redirect_uri": REDIRECT_URI,
                    "response_type": "code",
                    "scope": "openid",
                    "state": "st-1",
                },
                data={"sub": sub},
            )
            assert consent.status_code == 302, consent.text[:500]
            query = parse_qs(urlparse(consent.headers["location"]).query)
            assert query["state"] == ["st-1"]
            issued = http.post(
                "/oauth2/token",
                data={
                    "grant_type": "authorization_code",
                    "code": query["code"][0],
                    "redirect_uri": REDIRECT_URI,
                },
                auth=(client_id, "any-secret"),  # the mock accepts any client secret
            )
            assert issued.status_code == 200, issued.text[:500]
            id_token = issued.json()["id_token"]
            assert isinstance(id_token, str)
            return id_token


def _import_oidc_provider_mock() -> Any:
    """Import the mock with its import-time warnings ignored.

    ``import authlib.deprecate`` runs ``warnings.simplefilter("always",
    AuthlibDeprecationWarning)``, which lands *in front of* the pytestmark filters, so on a first
    import the two import-time warnings would be shown in the summary (not raised). Importing
    ``authlib.deprecate`` first and adding the same narrow filters afterwards keeps the run quiet;
    the pytestmark filters still cover an import after ``authlib.deprecate`` was loaded elsewhere.
    """
    import authlib.deprecate  # type: ignore[import-untyped]  # noqa: F401  (no stubs)

    with warnings.catch_warnings():
        for module in _AT_IMPORT:
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=module)
        import oidc_provider_mock  # type: ignore[import-untyped]  # (no py.typed)

    return oidc_provider_mock


@pytest.fixture(scope="module")
def idp() -> Iterator[IdP]:
    """oidc-provider-mock serving on 127.0.0.1 in a background thread for this module."""
    import werkzeug.serving

    oidc_provider_mock = _import_oidc_provider_mock()

    server = werkzeug.serving.make_server("127.0.0.1", 0, oidc_provider_mock.app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        base_url = f"http://127.0.0.1:{server.server_port}"
        discovery = httpx.get(f"{base_url}/.well-known/openid-configuration", timeout=10)
        config = discovery.raise_for_status().json()
        jwks = httpx.get(config["jwks_uri"], timeout=10).raise_for_status().json()
        yield IdP(base_url, config["issuer"], config["jwks_uri"], jwks)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@pytest.fixture(scope="module")
def verifier(idp: IdP) -> OidcVerifier:
    return OidcVerifier(OidcSettings(issuer=idp.issuer, audience=CLIENT_ID, jwks_url=idp.jwks_url))


@pytest.fixture(scope="module")
def good_token(idp: IdP) -> str:
    return idp.token("pc-4471", GOOD_CLAIMS)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def segments(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    return json.loads(unb64url(header)), json.loads(unb64url(payload)), signature


def assemble(header: dict[str, Any], payload: dict[str, Any], signature: str) -> str:
    return ".".join(
        [b64url(json.dumps(header).encode()), b64url(json.dumps(payload).encode()), signature]
    )


def refused(verifier: OidcVerifier, token: str, reason: str) -> AuthenticationFailed:
    with pytest.raises(AuthenticationFailed, match=reason) as excinfo:
        verifier.verify(token, today=TODAY)
    text = str(excinfo.value)
    for part in token.split("."):
        if len(part) >= 8:
            assert part not in text  # the refusal never echoes the token
    return excinfo.value


# --- accepted ----------------------------------------------------------------------------


def test_genuine_token_from_the_idp_is_accepted(
    verifier: OidcVerifier, good_token: str, idp: IdP
) -> None:
    header, payload, _ = segments(good_token)
    assert header["alg"] == "RS256"
    assert payload["iss"] == idp.issuer
    assert verifier.verify(good_token, today=TODAY) == AuthenticatedUser(
        actor=Actor("pc-4471", "investigator", "force-01"),
        vetting_valid=True,
        training_valid=True,
        method="oidc",
    )


def test_missing_or_lapsed_vetting_and_training_are_not_valid(
    verifier: OidcVerifier, idp: IdP
) -> None:
    claims = {"leds_role": "analyst", "leds_org": "force-02"}
    user = verifier.verify(idp.token("an-1", claims), today=TODAY)
    assert user.actor == Actor("an-1", "analyst", "force-02")
    assert (user.vetting_valid, user.training_valid) == (False, False)

    lapsed = {**claims, "leds_vetting_expires": "2026-05-31", "leds_training_expires": "junk"}
    user = verifier.verify(idp.token("an-2", lapsed), today=TODAY)
    assert (user.vetting_valid, user.training_valid) == (False, False)

    last_day = {
        **claims,
        "leds_vetting_expires": "2026-06-01",
        "leds_training_expires": "2026-06-01",
    }
    user = verifier.verify(idp.token("an-3", last_day), today=TODAY)
    assert (user.vetting_valid, user.training_valid) == (True, True)


def test_clock_skew_within_leeway_is_tolerated(verifier: OidcVerifier, idp: IdP) -> None:
    token = idp.token("pc-skew", {**GOOD_CLAIMS, "exp": int(time.time()) - 5})
    assert verifier.verify(token, today=TODAY).actor.user_id == "pc-skew"


# --- refused: claims (genuinely signed by the IdP) --------------------------------------


def test_expired_token_refused(verifier: OidcVerifier, idp: IdP) -> None:
    token = idp.token("pc-old", {**GOOD_CLAIMS, "exp": int(time.time()) - 3600})
    refused(verifier, token, "token has expired")


def test_future_nbf_refused(verifier: OidcVerifier, idp: IdP) -> None:
    token = idp.token("pc-early", {**GOOD_CLAIMS, "nbf": int(time.time()) + 3600})
    refused(verifier, token, "not yet valid")


def test_future_iat_refused(verifier: OidcVerifier, idp: IdP) -> None:
    token = idp.token("pc-iat", {**GOOD_CLAIMS, "iat": int(time.time()) + 3600})
    refused(verifier, token, "not yet valid")


def test_wrong_audience_refused(verifier: OidcVerifier, idp: IdP) -> None:
    token = idp.token("pc-aud", GOOD_CLAIMS, client_id="some-other-app")
    refused(verifier, token, "audience is not this service")


def test_wrong_issuer_refused(verifier: OidcVerifier, idp: IdP) -> None:
    token = idp.token("pc-iss", {**GOOD_CLAIMS, "iss": "https://idp.elsewhere.example"})
    refused(verifier, token, "issuer is not the configured identity provider")


def test_verifier_for_another_issuer_refuses(idp: IdP, good_token: str) -> None:
    other = OidcVerifier(
        OidcSettings(issuer="https://idp.example", audience=CLIENT_ID, jwks_url=idp.jwks_url)
    )
    refused(other, good_token, "issuer is not the configured identity provider")


def test_missing_role_claim_refused(verifier: OidcVerifier, idp: IdP) -> None:
    token = idp.token("pc-norole", {"leds_org": "force-01"})
    refused(verifier, token, "lacks the role claim 'leds_role'")


@pytest.mark.parametrize("role", ["chief-constable", "ADMINISTRATOR", ["investigator"], 7])
def test_unknown_role_refused(verifier: OidcVerifier, idp: IdP, role: object) -> None:
    token = idp.token("pc-badrole", {"leds_role": role, "leds_org": "force-01"})
    refused(verifier, token, "is not a leds role")


@pytest.mark.parametrize("org", [None, "", "   ", 42])
def test_missing_organisation_refused(verifier: OidcVerifier, idp: IdP, org: object) -> None:
    claims: dict[str, object] = {"leds_role": "analyst"}
    if org is not None:
        claims["leds_org"] = org
    refused(verifier, idp.token("pc-noorg", claims), "lacks the organisation claim")


# --- refused: forgeries -----------------------------------------------------------------


def test_alg_none_refused(verifier: OidcVerifier, good_token: str) -> None:
    header, payload, _ = segments(good_token)
    for alg in ("none", "None", "NONE"):
        refused(verifier, assemble({**header, "alg": alg}, payload, ""), "algorithm is not allowed")


def _public_key(idp: IdP) -> rsa.RSAPublicKey:
    key = jwt.PyJWK(idp.jwks["keys"][0]).key
    assert isinstance(key, rsa.RSAPublicKey)
    return key


@pytest.mark.parametrize(
    "secret",
    ["pem-spki", "pem-pkcs1", "jwks-json"],
)
def test_hs256_keyed_with_public_key_refused(
    verifier: OidcVerifier, idp: IdP, good_token: str, secret: str
) -> None:
    """Algorithm confusion: an HMAC 'signature' made with the public key as the secret."""
    public = _public_key(idp)
    key = {
        "pem-spki": public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "pem-pkcs1": public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
        ),
        "jwks-json": json.dumps(idp.jwks["keys"][0]).encode(),
    }[secret]
    header = segments(good_token)[0]
    forged_header = b64url(json.dumps({**header, "alg": "HS256"}).encode())
    signing_input = f"{forged_header}.{good_token.split('.')[1]}"
    mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    refused(verifier, f"{signing_input}.{b64url(mac)}", "algorithm is not allowed")


def _stranger_token(kid: str | None, claims: dict[str, Any]) -> str:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    headers = {"kid": kid} if kid else None
    return jwt.encode(claims, stranger, algorithm="RS256", headers=headers)


def _valid_claims(idp: IdP, sub: str = "pc-forged") -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": idp.issuer,
        "aud": CLIENT_ID,
        "sub": sub,
        "iat": now,
        "exp": now + 600,
        **GOOD_CLAIMS,
        "leds_role": "administrator",
    }


def test_wrong_key_with_the_idps_kid_refused(verifier: OidcVerifier, idp: IdP) -> None:
    kid = idp.jwks["keys"][0]["kid"]
    token = _stranger_token(kid, _valid_claims(idp))
    refused(verifier, token, "signature is invalid")


def test_wrong_key_without_kid_refused(verifier: OidcVerifier, idp: IdP) -> None:
    refused(verifier, _stranger_token(None, _valid_claims(idp)), "signature is invalid")


def test_unknown_kid_refused(verifier: OidcVerifier, idp: IdP) -> None:
    token = _stranger_token("not-a-published-key", _valid_claims(idp))
    refused(verifier, token, "not signed by a key the identity provider publishes")


@pytest.mark.parametrize(
    ("claim", "value"),
    [("leds_role", "administrator"), ("sub", "someone-else"), ("exp", 4_102_444_800)],
)
def test_tampered_payload_refused(
    verifier: OidcVerifier, good_token: str, claim: str, value: object
) -> None:
    header, payload, signature = segments(good_token)
    refused(
        verifier, assemble(header, {**payload, claim: value}, signature), "signature is invalid"
    )


@settings(max_examples=150, deadline=None)
@given(position=st.integers(min_value=0), replacement=st.sampled_from("AQgw_-09azZ."))
def test_any_single_character_edit_is_refused(
    verifier: OidcVerifier, good_token: str, position: int, replacement: str
) -> None:
    """Editing one character anywhere is refused, unless it only changes unused base64 bits
    at the end of the signature (the decoded token is then byte-for-byte the same)."""
    i = position % len(good_token)
    if good_token[i] == replacement:
        return
    edited = good_token[:i] + replacement + good_token[i + 1 :]
    try:
        verifier.verify(edited, today=TODAY)
    except AuthenticationFailed:
        return
    head, body, sig = good_token.split(".")
    e_head, e_body, e_sig = edited.split(".")
    assert (e_head, e_body) == (head, body)
    assert unb64url(e_sig) == unb64url(sig)


@pytest.mark.parametrize(
    "token",
    ["", "abc", "a.b.c", "..", "eyJhbGciOiJSUzI1NiJ9.e30", "x" * 20_000, "Bearer abc.def.ghi"],
)
def test_malformed_tokens_refused(verifier: OidcVerifier, token: str) -> None:
    with pytest.raises(AuthenticationFailed):
        verifier.verify(token, today=TODAY)


# --- settings and provider failures -------------------------------------------------------


def test_unreachable_idp_fails_closed(good_token: str) -> None:
    with socket.socket() as sock:  # a port with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = OidcVerifier(
        OidcSettings(
            issuer="http://127.0.0.1", audience=CLIENT_ID, jwks_url=f"http://127.0.0.1:{port}/jwks"
        )
    )
    refused(dead, good_token, "cannot fetch the identity provider's signing keys")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"algorithms": ("RS256", "none")}, "asymmetric algorithms only"),
        ({"algorithms": ("HS256",)}, "asymmetric algorithms only"),
        ({"algorithms": ()}, "at least one allowed algorithm"),
        ({"jwks_url": "http://idp.example.org/jwks"}, "must use https"),
        ({"jwks_url": "file:///etc/passwd"}, "must use https"),
        ({"required_claims": ("exp", "iss", "sub")}, "must include 'aud'"),
        ({"leeway_seconds": -1}, "must not be negative"),
        ({"audience": " "}, "need an issuer and an audience"),
    ],
)
def test_unsafe_settings_refused(changes: dict[str, Any], message: str) -> None:
    base: dict[str, Any] = {
        "issuer": "https://idp.example.org",
        "audience": CLIENT_ID,
        "jwks_url": "https://idp.example.org/jwks",
    }
    with pytest.raises(ValueError, match=message):
        OidcSettings(**{**base, **changes})
