"""Helpers of the candidate review tests (screen 6): a second facial-search operator in the rich
world, and signing a test client in as either operator for a crime search."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from kit import ADMIN, PASSWORD, cheap_passwords

from leds.service import NewAccount

SECOND_OPERATOR = "fso2"
OPERATOR_PURPOSE = {
    "purpose": "crime",
    "justification": "image of an unknown suspect",
    "case_ref": "WY-2026-0042",
}


def second_operator(rich: Any) -> str:
    """A second facial-search operator's account (made once per rich world)."""
    if not rich.service.account_exists(SECOND_OPERATOR):
        year = date.today() + timedelta(days=365)
        with cheap_passwords():
            admin = rich.service.login("admin1", PASSWORD)
            new = NewAccount(
                SECOND_OPERATOR,
                "Test second operator",
                "facial-search-operator",
                "NCA",
                "Unit 2",
                PASSWORD,
                year,
                year,
            )
            rich.service.add_account(admin, ADMIN, new)
    return SECOND_OPERATOR


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def operator_session(client: Any, user_id: str) -> str:
    """Sign ``client`` in as ``user_id`` with the crime purpose; returns the CSRF token."""
    client.cookies.clear()
    form = client.get("/login")
    done = client.post(
        "/login", data={"user_id": user_id, "password": PASSWORD, "csrf_token": csrf_of(form.text)}
    )
    assert done.status_code == 303, done.text
    page = client.get("/purpose")
    set_ = client.post("/purpose", data={**OPERATOR_PURPOSE, "csrf_token": csrf_of(page.text)})
    assert set_.status_code == 303, set_.text
    return csrf_of(client.get("/faces").text)
