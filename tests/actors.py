"""Signed-in users for tests (what an interface hands the service after authentication)."""

from __future__ import annotations

from leds.governance.authn import AuthenticatedUser
from leds.governance.identity import Actor


def signed_in(
    user_id: str, role: str, org: str, *, vetting: bool = True, training: bool = True
) -> AuthenticatedUser:
    return AuthenticatedUser(Actor(user_id, role, org), vetting, training, "password")


STEWARD = signed_in("steward1", "data-steward", "LEDS")
CONSTABLE = signed_in("pc123", "constable", "WYP")
AUDITOR = signed_in("aud1", "auditor", "IOPC")
ADMINISTRATOR = signed_in("admin1", "administrator", "LEDS")
