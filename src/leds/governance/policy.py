"""Deny-unless-allowed decisions for the service's operations.

A plain rule table for the foundation's operations; the Cedar policy set replaces the table
behind the same :func:`decide` signature. Each decision names the rule that made it.
"""

from __future__ import annotations

from dataclasses import dataclass

from leds.governance.identity import Actor, Role
from leds.model.codes import Purpose


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    rule: str
    reason: str


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    operation: str
    roles: frozenset[Role]
    purposes: frozenset[Purpose]


_STEWARDS = frozenset({Role.DATA_STEWARD, Role.ADMINISTRATOR})
_ALL_ROLES = frozenset(Role)
_ADMIN_PURPOSES = frozenset({Purpose.ADMIN_PROCESS, Purpose.OVERSIGHT})

RULES: tuple[_Rule, ...] = (
    _Rule("stewards-import-sources", "import_source", _STEWARDS, _ADMIN_PURPOSES),
    _Rule(
        "any-role-lists-imports",
        "list_imports",
        _ALL_ROLES,
        frozenset(Purpose),
    ),
    _Rule(
        "stewards-read-rejections",
        "list_rejections",
        _STEWARDS | {Role.AUDITOR},
        _ADMIN_PURPOSES,
    ),
    _Rule(
        "stewards-and-auditors-read-records",
        "read_record",
        _STEWARDS | {Role.AUDITOR},
        _ADMIN_PURPOSES,
    ),
    _Rule("auditors-read-audit", "read_audit", frozenset({Role.AUDITOR}), _ADMIN_PURPOSES),
)


def decide(actor: Actor, operation: str, purpose: Purpose) -> Decision:
    """Decide whether ``actor`` may perform ``operation`` for ``purpose`` (deny by default)."""
    for rule in RULES:
        if rule.operation != operation:
            continue
        if actor.role in rule.roles and purpose in rule.purposes:
            return Decision(True, rule.name, f"allowed by {rule.name}")
    return Decision(
        False,
        "default-deny",
        f"role {actor.role!r} may not {operation} for purpose {purpose.value!r}",
    )
