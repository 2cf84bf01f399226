"""Who is acting and why: actors (users) and purpose statements.

Every operation on personal data takes an :class:`Actor` and a :class:`PurposeStatement`;
``PurposeStatement.of`` refuses a missing or unknown purpose code, a justification of fewer than
three words, and a missing case reference where the purpose needs one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from leds.errors import AccessDenied, PurposeRequired
from leds.model.codes import CASE_REQUIRED, Purpose

MIN_JUSTIFICATION_WORDS = 3


class Role(StrEnum):
    CONSTABLE = "constable"
    INVESTIGATOR = "investigator"
    ANALYST = "analyst"
    FACIAL_SEARCH_OPERATOR = "facial-search-operator"
    IMMIGRATION_OFFICER = "immigration-officer"
    DVLA_ENQUIRY = "dvla-enquiry"
    DATA_STEWARD = "data-steward"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"


@dataclass(frozen=True, slots=True)
class Actor:
    """An authenticated user (or the system acting for a named operator)."""

    user_id: str
    role: str
    organisation: str

    def __post_init__(self) -> None:
        if not self.user_id.strip():
            raise AccessDenied("an actor needs a user id")
        if self.role not in Role.__members__.values():
            valid = ", ".join(r.value for r in Role)
            raise AccessDenied(f"unknown role {self.role!r}", hint=f"one of: {valid}")


@dataclass(frozen=True, slots=True)
class PurposeStatement:
    """A lawful purpose code, a justification and, where needed, a case reference."""

    code: Purpose
    justification: str
    case_ref: str | None = None

    @classmethod
    def of(
        cls, code: str | None, justification: str | None, case_ref: str | None = None
    ) -> PurposeStatement:
        """Validate and build a purpose statement; raise :class:`PurposeRequired` if unfit."""
        valid = ", ".join(p.value for p in Purpose)
        if not code:
            raise PurposeRequired("a purpose code is required", hint=f"one of: {valid}")
        try:
            purpose = Purpose(code.strip().lower())
        except ValueError:
            raise PurposeRequired(f"unknown purpose {code!r}", hint=f"one of: {valid}") from None
        text = " ".join((justification or "").split())
        if len(text.split()) < MIN_JUSTIFICATION_WORDS:
            raise PurposeRequired(
                "a justification is required",
                hint=f"say why in at least {MIN_JUSTIFICATION_WORDS} words",
            )
        ref = (case_ref or "").strip() or None
        if purpose in CASE_REQUIRED and ref is None:
            raise PurposeRequired(
                f"purpose {purpose.value!r} needs a case or incident reference",
                hint="give --case REF",
            )
        return cls(purpose, text, ref)
