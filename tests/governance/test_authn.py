"""Local accounts: Argon2 passwords, uniform refusal of unknown users and wrong passwords, and
API tokens stored only as SHA-256 digests."""

from __future__ import annotations

import dataclasses
import hashlib
import statistics
import time
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from leds.errors import AccessDenied
from leds.governance import authn
from leds.governance.authn import (
    MIN_PASSWORD_LENGTH,
    Account,
    AuthenticatedUser,
    AuthenticationFailed,
    PasswordPolicyError,
    authenticate,
    authenticate_token,
    hash_api_token,
    hash_password,
    new_api_token,
    token_matches,
    verify_password,
)
from leds.governance.identity import Actor, Role

PASSWORD = "correct horse battery staple"
TODAY = date(2026, 6, 1)


@pytest.fixture(scope="module")
def password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture
def account(password_hash: str) -> Account:
    return Account(
        user_id="pc-4471",
        display_name="PC Example",
        role=Role.INVESTIGATOR,
        organisation="force-01",
        unit="CID North",
        password_hash=password_hash,
        vetting_expires=date(2027, 1, 31),
        training_expires=date(2026, 12, 31),
        disabled=False,
    )


class CountingArgon2(Argon2Hasher):
    """A real Argon2 hasher that records every hash it is asked to verify against."""

    def __init__(self) -> None:
        super().__init__()
        self.verified: list[str] = []

    def verify(self, password: str | bytes, hash: str | bytes) -> bool:
        self.verified.append(hash if isinstance(hash, str) else hash.decode())
        return super().verify(password, hash)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> CountingArgon2:
    hasher = CountingArgon2()
    monkeypatch.setattr(authn, "_PASSWORD_HASH", PasswordHash((hasher,)))
    return hasher


# --- hashing -----------------------------------------------------------------------------


def test_hash_and_verify(password_hash: str) -> None:
    assert password_hash.startswith("$argon2id$")
    assert PASSWORD not in password_hash
    assert verify_password(password_hash, PASSWORD)
    assert not verify_password(password_hash, PASSWORD + "!")
    assert not verify_password(password_hash, "")


def test_hashes_are_salted() -> None:
    assert hash_password(PASSWORD) != hash_password(PASSWORD)


def test_short_password_refused() -> None:
    with pytest.raises(PasswordPolicyError, match="at least 12 characters"):
        hash_password("x" * (MIN_PASSWORD_LENGTH - 1))
    assert verify_password(hash_password("y" * MIN_PASSWORD_LENGTH), "y" * MIN_PASSWORD_LENGTH)


def test_overlong_password_refused() -> None:
    with pytest.raises(PasswordPolicyError, match="too long"):
        hash_password("z" * 5000)


@pytest.mark.parametrize("stored", ["", "not-a-hash", "$argon2id$v=19$garbage", "$2b$12$abc"])
def test_corrupt_or_foreign_hash_never_matches(stored: str) -> None:
    assert verify_password(stored, PASSWORD) is False


# --- authenticate ------------------------------------------------------------------------


def test_authenticate_success(account: Account) -> None:
    user = authenticate(account, PASSWORD, today=TODAY)
    assert user == AuthenticatedUser(
        actor=Actor("pc-4471", "investigator", "force-01"),
        vetting_valid=True,
        training_valid=True,
        method="password",
    )
    assert user.fully_valid


def test_unknown_user_and_wrong_password_look_the_same(account: Account) -> None:
    with pytest.raises(AuthenticationFailed) as unknown:
        authenticate(None, PASSWORD, today=TODAY)
    with pytest.raises(AuthenticationFailed) as wrong:
        authenticate(account, "not the password at all", today=TODAY)
    assert str(unknown.value) == str(wrong.value)
    assert unknown.value.message == wrong.value.message == "unknown user id or wrong password"
    assert unknown.value.hint == wrong.value.hint
    assert "not the password" not in str(wrong.value)


def test_disabled_account_refused(account: Account) -> None:
    disabled = dataclasses.replace(account, disabled=True)
    with pytest.raises(AuthenticationFailed, match="account disabled"):
        authenticate(disabled, PASSWORD, today=TODAY)
    # Without the right password, a disabled account is indistinguishable from a wrong password.
    with pytest.raises(AuthenticationFailed, match="unknown user id or wrong password"):
        authenticate(disabled, "not the password at all", today=TODAY)


def test_expired_vetting_is_reported_not_refused(account: Account) -> None:
    lapsed = dataclasses.replace(account, vetting_expires=date(2026, 5, 31))
    user = authenticate(lapsed, PASSWORD, today=TODAY)
    assert user.actor.user_id == "pc-4471"
    assert (user.vetting_valid, user.training_valid, user.fully_valid) == (False, True, False)


def test_expired_training_is_reported(account: Account) -> None:
    lapsed = dataclasses.replace(account, training_expires=date(2020, 1, 1))
    user = authenticate(lapsed, PASSWORD, today=TODAY)
    assert (user.vetting_valid, user.training_valid) == (True, False)


def test_expiry_day_itself_is_still_valid(account: Account) -> None:
    last_day = dataclasses.replace(account, vetting_expires=TODAY, training_expires=TODAY)
    user = authenticate(last_day, PASSWORD, today=TODAY)
    assert (user.vetting_valid, user.training_valid) == (True, True)


def test_role_given_as_string_is_stored_as_role(password_hash: str) -> None:
    fields: dict[str, object] = {
        "user_id": "u1",
        "display_name": "U One",
        "role": "analyst",  # as read back from a database column
        "organisation": "force-02",
        "unit": "intel",
        "password_hash": password_hash,
        "vetting_expires": date(2030, 1, 1),
        "training_expires": date(2030, 1, 1),
    }
    assert Account(**fields).role is Role.ANALYST  # type: ignore[arg-type]
    with pytest.raises(AccessDenied, match="unknown role"):
        Account(**{**fields, "role": "superintendent"})  # type: ignore[arg-type]


def test_unknown_user_still_costs_one_real_verification(
    counting: CountingArgon2, account: Account
) -> None:
    with pytest.raises(AuthenticationFailed):
        authenticate(None, PASSWORD, today=TODAY)
    assert len(counting.verified) == 1
    dummy = counting.verified[0]
    assert Argon2Hasher.identify(dummy)  # a genuine Argon2 hash, same hasher as real accounts
    assert dummy != account.password_hash

    counting.verified.clear()
    with pytest.raises(AuthenticationFailed):
        authenticate(account, "not the password at all", today=TODAY)
    assert counting.verified == [account.password_hash]

    counting.verified.clear()
    authenticate(account, PASSWORD, today=TODAY)
    assert counting.verified == [account.password_hash]


def test_unknown_user_takes_as_long_as_wrong_password(account: Account) -> None:
    """Loose check (factor 4 either way): skipping the verification would be ~1000x faster."""

    def median_seconds(acc: Account | None) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            with pytest.raises(AuthenticationFailed):
                authenticate(acc, "not the password at all", today=TODAY)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    with pytest.raises(AuthenticationFailed):
        authenticate(None, PASSWORD, today=TODAY)  # warm up: the dummy hash is made once
    unknown, known = median_seconds(None), median_seconds(account)
    assert known / 4 < unknown < known * 4, (unknown, known)


# --- API tokens --------------------------------------------------------------------------


def test_new_api_token_stores_only_sha256() -> None:
    token, digest = new_api_token()
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    assert digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in digest
    assert token_matches(digest, token)
    assert not token_matches(digest, token[:-1])
    assert not token_matches(digest, "")


def test_api_tokens_are_unique() -> None:
    tokens = {new_api_token()[0] for _ in range(200)}
    assert len(tokens) == 200


def test_non_ascii_stored_value_never_matches() -> None:
    assert not token_matches("é" * 64, "é" * 64)


@given(st.text(max_size=100), st.text(max_size=100))
def test_token_matches_iff_same_token(a: str, b: str) -> None:
    assert token_matches(hash_api_token(a), b) is (a == b)


def test_authenticate_token(account: Account) -> None:
    token, digest = new_api_token()
    user = authenticate_token(account, digest, token, today=TODAY)
    assert user.method == "token"
    assert user.actor == Actor("pc-4471", "investigator", "force-01")
    for acc, stored, presented in [
        (account, digest, token + "x"),
        (None, digest, token),
        (account, None, token),
    ]:
        with pytest.raises(AuthenticationFailed, match="unknown or revoked API token") as exc:
            authenticate_token(acc, stored, presented, today=TODAY)
        assert token not in str(exc.value)
    with pytest.raises(AuthenticationFailed, match="account disabled"):
        authenticate_token(dataclasses.replace(account, disabled=True), digest, token, today=TODAY)
