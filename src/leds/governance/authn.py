"""Authentication: local accounts, passwords and API tokens (the embedded default).

Who a user is, decided here, comes back as an :class:`AuthenticatedUser`: the
:class:`~leds.governance.identity.Actor` every operation takes, plus whether the user's vetting
and training are in date and how they proved who they are. Authentication and authorisation are
separate steps: a user whose vetting or training has lapsed *is* authenticated (we know who
they are, and the attempt is attributable), and policy then decides what such a user may do.

Passwords
    Hashed with Argon2id through ``pwdlib`` (its default parameters); at least
    :data:`MIN_PASSWORD_LENGTH` characters. :func:`authenticate` behaves the same, in outcome,
    message and cost, whether the user id is unknown or the password is wrong: an unknown user
    still costs one Argon2 verification (against a dummy hash), so neither the error nor the
    response time tells a caller which user ids exist. A disabled account is only reported as
    disabled to someone who gave its correct password.

API tokens
    :func:`new_api_token` returns the plaintext once (to show the user) and the SHA-256 hex
    digest (to store); :func:`token_matches` compares in constant time. A token is 256 random
    bits, so a fast unsalted hash is sufficient: there is nothing to brute-force.

OIDC access tokens for deployments with an identity provider are in :mod:`leds.governance.oidc`.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Literal

from pwdlib import PasswordHash
from pwdlib.exceptions import PwdlibError
from pwdlib.hashers.argon2 import Argon2Hasher

from leds.errors import AccessDenied, LedsError
from leds.governance.identity import Actor, Role

MIN_PASSWORD_LENGTH = 12
"""Shortest password :func:`hash_password` accepts, in characters."""

MAX_PASSWORD_LENGTH = 1024
"""Longest password :func:`hash_password` accepts (bounds the cost of hashing)."""

API_TOKEN_BYTES = 32
"""Random bytes in an API token (``secrets.token_urlsafe``), i.e. 256 bits."""

AuthMethod = Literal["password", "oidc", "token"]

_BAD_CREDENTIALS = "unknown user id or wrong password"
_BAD_CREDENTIALS_HINT = "check the user id and password"

_PASSWORD_HASH = PasswordHash((Argon2Hasher(),))
"""The one hasher used to hash and verify (module-level so tests can wrap it)."""


class AuthenticationFailed(LedsError):
    """The caller could not be authenticated (bad credentials, bad or expired token, ...).

    The message says what was wrong in general terms; it never contains the password or the
    token that was presented.
    """


class PasswordPolicyError(LedsError, ValueError):
    """A new password does not meet the password policy (e.g. it is too short)."""


@dataclass(frozen=True, slots=True)
class Account:
    """A local user account as stored by leds (only the password *hash* is kept).

    ``vetting_expires`` and ``training_expires`` are the last days on which the user's
    security vetting and data-protection/system training are valid (inclusive).
    """

    user_id: str
    display_name: str
    role: Role
    organisation: str
    unit: str
    password_hash: str
    vetting_expires: date
    training_expires: date
    disabled: bool = False

    def __post_init__(self) -> None:
        # Accept the role's string value too (as read from a database), store the enum.
        try:
            object.__setattr__(self, "role", Role(self.role))
        except ValueError:
            valid = ", ".join(r.value for r in Role)
            raise AccessDenied(f"unknown role {self.role!r}", hint=f"one of: {valid}") from None


@dataclass(frozen=True, slots=True)
class AuthenticatedUser:
    """The outcome of a successful authentication.

    ``vetting_valid`` / ``training_valid`` are False when the user's vetting or training has
    lapsed (or, for OIDC, when the identity provider did not say); authorisation must take them
    into account. ``method`` records how the user authenticated, for the audit log.
    """

    actor: Actor
    vetting_valid: bool
    training_valid: bool
    method: AuthMethod

    @property
    def fully_valid(self) -> bool:
        """True when both vetting and training are in date."""
        return self.vetting_valid and self.training_valid


# --- passwords -------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """Return the Argon2id hash of a new ``password``.

    Raises :class:`PasswordPolicyError` if the password is shorter than
    :data:`MIN_PASSWORD_LENGTH` characters (or longer than :data:`MAX_PASSWORD_LENGTH`).
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(
            f"password too short: it needs at least {MIN_PASSWORD_LENGTH} characters",
            hint="use a passphrase of several words",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordPolicyError(
            f"password too long: at most {MAX_PASSWORD_LENGTH} characters are accepted"
        )
    return _PASSWORD_HASH.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Return True if ``password`` matches ``password_hash``.

    An unrecognised or corrupt hash never matches (returns False rather than raising).
    """
    try:
        return _PASSWORD_HASH.verify(password, password_hash)
    except PwdlibError:
        return False


@functools.cache
def _dummy_hash() -> str:
    """A hash of a random secret, made on first use with the same hasher and parameters as
    real hashes, so verifying against it costs what verifying a real password costs. (Only the
    first unknown-user attempt in a process also pays for making it.)"""
    return _PASSWORD_HASH.hash(secrets.token_urlsafe(32))


def authenticate(account: Account | None, password: str, *, today: date) -> AuthenticatedUser:
    """Authenticate a user of a local account by password.

    ``account`` is the stored account for the user id given, or None if there is none. Exactly
    one Argon2 verification runs in every case (against a dummy hash for an unknown user), and
    an unknown user and a wrong password raise the same :class:`AuthenticationFailed` message.
    A disabled account with the correct password is refused as disabled. Lapsed vetting or
    training (``today`` after the expiry date) does not refuse: it is reported in the result.
    """
    if account is None:
        verify_password(_dummy_hash(), password)
        raise AuthenticationFailed(_BAD_CREDENTIALS, hint=_BAD_CREDENTIALS_HINT)
    if not verify_password(account.password_hash, password):
        raise AuthenticationFailed(_BAD_CREDENTIALS, hint=_BAD_CREDENTIALS_HINT)
    return _authenticated(account, "password", today=today)


# --- API tokens ------------------------------------------------------------------------------


def hash_api_token(token: str) -> str:
    """Return the SHA-256 hex digest stored for an API token (also usable as a lookup key)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_api_token() -> tuple[str, str]:
    """Create an API token; return ``(plaintext, sha256_hex)``.

    Show the plaintext to the user once and store only the hash.
    """
    token = secrets.token_urlsafe(API_TOKEN_BYTES)
    return token, hash_api_token(token)


def token_matches(token_hash: str, presented: str) -> bool:
    """Return True if the presented token hashes to ``token_hash`` (constant-time compare)."""
    # compare_digest needs bytes (or ASCII-only str); a non-ASCII stored value never matches.
    expected = token_hash.encode("ascii", "replace")
    return hmac.compare_digest(expected, hash_api_token(presented).encode("ascii"))


def authenticate_token(
    account: Account | None, token_hash: str | None, presented: str, *, today: date
) -> AuthenticatedUser:
    """Authenticate an API caller by token.

    ``account`` and ``token_hash`` are what the store holds for the token's owner (None when
    nothing was found). A missing, non-matching or disabled-account token raises
    :class:`AuthenticationFailed`; lapsed vetting or training is reported, as for passwords.
    """
    matches = token_matches(token_hash or "", presented)
    if account is None or token_hash is None or not matches:
        raise AuthenticationFailed("unknown or revoked API token", hint="create a new token")
    return _authenticated(account, "token", today=today)


def authenticate_session(account: Account | None, *, today: date) -> AuthenticatedUser:
    """The user behind a web session, checked again on each request: the session was opened
    with a password, and ends as soon as its account is disabled or removed."""
    if account is None:
        raise AuthenticationFailed("the session's account no longer exists", hint="sign in again")
    return _authenticated(account, "password", today=today)


# --- shared ----------------------------------------------------------------------------------


def _authenticated(account: Account, method: AuthMethod, *, today: date) -> AuthenticatedUser:
    """Build the result for an account whose credentials have been checked."""
    if account.disabled:
        raise AuthenticationFailed(
            "account disabled", hint="ask your force's leds administrator to re-enable it"
        )
    try:
        actor = Actor(account.user_id, account.role.value, account.organisation)
    except AccessDenied as exc:
        raise AuthenticationFailed(f"account is not usable: {exc.message}") from None
    return AuthenticatedUser(
        actor=actor,
        vetting_valid=today <= account.vetting_expires,
        training_valid=today <= account.training_expires,
        method=method,
    )
