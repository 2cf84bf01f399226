"""OIDC: verify JWT access tokens issued by a deployment's identity provider.

:class:`OidcVerifier` checks a signed JWT against the identity provider's published keys (JWKS,
fetched and cached by :class:`jwt.PyJWKClient`) and turns it into an
:class:`~leds.governance.authn.AuthenticatedUser`. Refused, with
:class:`~leds.governance.authn.AuthenticationFailed`: an algorithm outside the allow-list
(including ``none`` and any HMAC algorithm, so a token "signed" with the public key as an HMAC
secret is refused), a key the provider does not publish, a bad signature (tampered payload),
an expired token, a token not yet valid (``nbf``/``iat`` in the future), the wrong audience or
issuer, a missing required claim, and a missing or unknown role or organisation claim. Messages
say what was wrong; they never contain the token.

Claims (names configurable in :class:`OidcSettings`)
    ``sub`` is the user id, ``leds_role`` one :class:`~leds.governance.identity.Role` value
    (a single string, not a list) and ``leds_org`` the organisation.
    ``leds_vetting_expires`` and ``leds_training_expires`` are ISO dates (``YYYY-MM-DD``, last
    valid day). **A missing or unparseable date counts as not valid** (conservative): the user is
    authenticated, with ``vetting_valid``/``training_valid`` False, and policy decides.

Keys
    A token whose header names a ``kid`` is checked with that key only. A token without a
    ``kid`` (allowed by RFC 7515; some providers, including ``oidc-provider-mock``, omit it) is
    accepted only while the provider publishes exactly one signing key. The key fixes the
    algorithm (an RSA key verifies RS256 only), whatever the token's header says.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlparse

import jwt

from leds.errors import AccessDenied
from leds.governance.authn import AuthenticatedUser, AuthenticationFailed
from leds.governance.identity import Actor, Role

MAX_TOKEN_LENGTH = 16_384
"""Longer bearer tokens are refused before any parsing."""

_ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_LOOPBACK_NAMES = frozenset({"localhost"})


@dataclass(frozen=True, slots=True)
class OidcSettings:
    """How to verify tokens from one identity provider.

    ``issuer`` and ``audience`` must equal the token's ``iss`` and (one of) its ``aud``;
    ``jwks_url`` is the provider's key set (https, or http on a loopback host for tests).
    ``algorithms`` is the allow-list; only asymmetric algorithms may be listed.
    ``leeway_seconds`` tolerates clock skew on ``exp``, ``nbf`` and ``iat``.
    """

    issuer: str
    audience: str
    jwks_url: str
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    role_claim: str = "leds_role"
    org_claim: str = "leds_org"
    vetting_claim: str = "leds_vetting_expires"
    training_claim: str = "leds_training_expires"
    leeway_seconds: int = 30
    required_claims: tuple[str, ...] = ("exp", "iat", "iss", "aud", "sub")
    jwks_cache_seconds: float = 300.0
    jwks_timeout_seconds: float = 5.0

    def __post_init__(self) -> None:
        if not self.issuer.strip() or not self.audience.strip():
            raise ValueError("OIDC settings need an issuer and an audience")
        if not self.algorithms:
            raise ValueError("OIDC settings need at least one allowed algorithm")
        unsafe = [a for a in self.algorithms if a not in _ASYMMETRIC_ALGORITHMS]
        if unsafe:
            raise ValueError(
                f"OIDC algorithms {unsafe} are not allowed: use asymmetric algorithms only "
                f"({', '.join(sorted(_ASYMMETRIC_ALGORITHMS))})"
            )
        if self.leeway_seconds < 0:
            raise ValueError("OIDC leeway_seconds must not be negative")
        for claim in ("exp", "iss", "aud", "sub"):
            if claim not in self.required_claims:
                raise ValueError(f"OIDC required_claims must include {claim!r}")
        url = urlparse(self.jwks_url)
        if url.scheme != "https" and not (url.scheme == "http" and _is_loopback(url.hostname)):
            raise ValueError("the JWKS URL must use https (http only on a loopback host)")


class OidcVerifier:
    """Verify bearer tokens from one identity provider; safe to share between threads.

    The JWK set is fetched on first use and cached for ``jwks_cache_seconds``; a token naming
    an unknown ``kid`` triggers at most one refetch (rate-limited by PyJWT's cooldown), so key
    rotation at the provider is picked up without a restart.
    """

    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._jwks = jwt.PyJWKClient(
            settings.jwks_url,
            cache_keys=False,
            cache_jwk_set=True,
            lifespan=settings.jwks_cache_seconds,
            timeout=settings.jwks_timeout_seconds,
        )

    def verify(self, token: str, *, today: date | None = None) -> AuthenticatedUser:
        """Verify ``token`` and return who it authenticates.

        ``today`` (default: the current UTC date) decides whether vetting and training are in
        date. Raises :class:`AuthenticationFailed` for any token that is not acceptable.
        """
        s = self.settings
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise AuthenticationFailed("malformed bearer token", hint="send a signed JWT")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthenticationFailed("malformed bearer token", hint="send a signed JWT") from None
        if header.get("alg") not in s.algorithms:
            raise AuthenticationFailed(
                "token signing algorithm is not allowed",
                hint=f"allowed: {', '.join(s.algorithms)}",
            )
        key = self._signing_key(header.get("kid"))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=list(s.algorithms),
                audience=s.audience,
                issuer=s.issuer,
                leeway=s.leeway_seconds,
                options={
                    "require": list(s.required_claims),
                    "verify_signature": True,
                    "verify_exp": True,
                    "verify_nbf": True,
                    "verify_iat": True,
                    "verify_aud": True,
                    "verify_iss": True,
                },
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationFailed(_reason(exc)) from None
        return self._user(claims, today or datetime.now(UTC).date())

    def _signing_key(self, kid: object) -> jwt.PyJWK:
        """The provider's key for ``kid`` (or its only key when the token names none)."""
        try:
            if kid is None:
                keys = self._jwks.get_signing_keys()
                if len(keys) != 1:
                    raise AuthenticationFailed(
                        "token names no signing key and the identity provider publishes several"
                    )
                return keys[0]
            if not isinstance(kid, str):
                raise AuthenticationFailed("token key id is malformed")
            return self._jwks.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError:
            raise AuthenticationFailed(
                "cannot fetch the identity provider's signing keys",
                hint="the identity provider may be down; try again later",
            ) from None
        except jwt.PyJWTError:
            raise AuthenticationFailed(
                "token is not signed by a key the identity provider publishes"
            ) from None

    def _user(self, claims: Mapping[str, Any], today: date) -> AuthenticatedUser:
        """Map verified claims to an :class:`AuthenticatedUser`."""
        s = self.settings
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub.strip():
            raise AuthenticationFailed("token has no usable subject ('sub')")
        role = claims.get(s.role_claim)
        if role is None:
            raise AuthenticationFailed(
                f"token lacks the role claim {s.role_claim!r}",
                hint="map the user's leds role into the token at the identity provider",
            )
        valid_roles = {r.value for r in Role}
        if not isinstance(role, str) or role not in valid_roles:
            raise AuthenticationFailed(
                f"token role claim {s.role_claim!r} is not a leds role",
                hint=f"one of: {', '.join(sorted(valid_roles))}",
            )
        org = claims.get(s.org_claim)
        if not isinstance(org, str) or not org.strip():
            raise AuthenticationFailed(f"token lacks the organisation claim {s.org_claim!r}")
        try:
            actor = Actor(sub, role, org)
        except AccessDenied as exc:
            raise AuthenticationFailed(
                f"token does not describe a usable actor: {exc.message}"
            ) from None
        return AuthenticatedUser(
            actor=actor,
            vetting_valid=_in_date(claims.get(s.vetting_claim), today),
            training_valid=_in_date(claims.get(s.training_claim), today),
            method="oidc",
        )


def _in_date(value: object, today: date) -> bool:
    """True if ``value`` is an ISO date on or after ``today``; missing or malformed → False."""
    if not isinstance(value, str):
        return False
    try:
        return today <= date.fromisoformat(value)
    except ValueError:
        return False


def _reason(exc: jwt.PyJWTError) -> str:
    """A fixed, token-free explanation for a PyJWT refusal."""
    if isinstance(exc, jwt.ExpiredSignatureError):
        return "token has expired"
    if isinstance(exc, jwt.ImmatureSignatureError):
        return "token is not yet valid (nbf or iat in the future)"
    if isinstance(exc, jwt.InvalidAudienceError):
        return "token audience is not this service"
    if isinstance(exc, jwt.InvalidIssuerError):
        return "token issuer is not the configured identity provider"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"token lacks the required claim {exc.claim!r}"
    if isinstance(exc, jwt.InvalidSignatureError):
        return "token signature is invalid (altered, or signed with another key)"
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return "token signing algorithm is not allowed"
    if isinstance(exc, jwt.InvalidIssuedAtError):
        return "token issued-at ('iat') claim is malformed"
    if isinstance(exc, jwt.DecodeError):
        return "malformed bearer token"
    return "token is invalid"


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
