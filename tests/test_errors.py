"""Errors cross process boundaries (worker pools) intact."""

from __future__ import annotations

import pickle

from leds.errors import AuditFailure, InvalidIdentifier, LedsError


def test_every_error_survives_pickling() -> None:
    errors: list[LedsError] = [
        InvalidIdentifier("PNC ID", "2001/0171310X", "wrong check letter", suggestion="W"),
        LedsError("a message", hint="a hint"),
        AuditFailure("not recorded"),
    ]
    for error in errors:
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert str(copy) == str(error)
        assert copy.__dict__ == error.__dict__
