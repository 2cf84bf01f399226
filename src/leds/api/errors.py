"""The one JSON error envelope, and the HTTP status of every leds error class.

Every error response of the API has the body ``{"error": {"status", "code", "message",
"hint"}}`` (:class:`ErrorEnvelope`); never a stack trace. The status follows the class of the
:class:`~leds.errors.LedsError` raised (:func:`status_of`); anything else is a 500 with a
generic message (and is logged), which the contract tests and Schemathesis keep at zero.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from leds.errors import (
    AccessDenied,
    AuditFailure,
    ExtractError,
    InvalidIdentifier,
    LedsError,
    NotFound,
    PurposeRequired,
    StoreError,
)
from leds.governance.audit.log import AuditIntegrityError
from leds.governance.authn import AuthenticationFailed, PasswordPolicyError


class PayloadTooLarge(LedsError):
    """An upload over the size limit."""


class Conflict(LedsError):
    """The request conflicts with the current state (e.g. the account already exists)."""


# Most specific first: the first class an error is an instance of decides its status.
STATUS_BY_CLASS: tuple[tuple[type[LedsError], int], ...] = (
    (AuthenticationFailed, 401),
    (AccessDenied, 403),
    (NotFound, 404),
    (Conflict, 409),
    (PayloadTooLarge, 413),
    (AuditIntegrityError, 409),
    (PurposeRequired, 400),
    (InvalidIdentifier, 422),
    (PasswordPolicyError, 422),
    (ExtractError, 422),
    (AuditFailure, 503),
    (StoreError, 503),
)


def status_of(error: LedsError) -> int:
    """The HTTP status for a leds error (400 for any class not listed)."""
    for cls, status in STATUS_BY_CLASS:
        if isinstance(error, cls):
            return status
    return 400


def code_of(error: LedsError) -> str:
    """A stable machine-readable code: the class name in snake case."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(error).__name__).lower()


class ErrorBody(BaseModel):
    status: int = Field(description="The HTTP status, repeated for clients that lose it")
    code: str = Field(description="Stable error code, e.g. access_denied, purpose_required")
    message: str = Field(description="What went wrong")
    hint: str | None = Field(default=None, description="What to do about it")


class ErrorEnvelope(BaseModel):
    """The body of every error response."""

    error: ErrorBody


def envelope(status: int, code: str, message: str, hint: str | None = None) -> ErrorEnvelope:
    return ErrorEnvelope(error=ErrorBody(status=status, code=code, message=message, hint=hint))


def from_error(error: LedsError) -> ErrorEnvelope:
    return envelope(status_of(error), code_of(error), error.message, error.hint)


_DESCRIPTIONS = {
    400: "Bad request: a purpose, justification or case reference missing or unfit, or bad input",
    401: "Missing or invalid credentials (bearer token, or the web session for GET)",
    403: "Refused by the access policy; the message gives the policy's reason",
    404: "No such record, import or audit entry",
    409: "Conflicts with the current state (account exists; log fails verification)",
    413: "The uploaded file is over the size limit",
    422: "The request does not match the schema, or the input cannot be processed",
    503: "The operation could not be recorded in the audit log, so it was refused",
}

ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorEnvelope, "description": text} for status, text in _DESCRIPTIONS.items()
}
"""``responses=`` for every route: each error status, documented with the envelope."""
