"""The public surface of ``leds`` is fixed: a change to it is a decision, made here."""

from __future__ import annotations

import leds


def test_public_names_are_exactly_these() -> None:
    assert sorted(leds.__all__) == sorted(
        [
            "AccessDenied",
            "AuditFailure",
            "LedsError",
            "PurposeRequired",
            "PurposeStatement",
            "Service",
            "__version__",
            "generate_world",
        ]
    )


def test_every_public_name_resolves() -> None:
    for name in leds.__all__:
        assert getattr(leds, name) is not None, name
    assert leds.Service.__module__ == "leds.service"
