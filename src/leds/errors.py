"""One exception root for leds.

Every error a user can see is a :class:`LedsError`; each carries a message that says what
went wrong and, where possible, what to do about it (``hint``). Nothing below this root is a
stack trace a user should ever read.
"""

from __future__ import annotations


class LedsError(Exception):
    """Root of every error leds raises on purpose."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def __reduce__(self) -> tuple[object, ...]:
        # Picklable whatever a subclass's __init__ takes (errors cross process boundaries).
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


def _rebuild(cls: type[LedsError], args: tuple[object, ...], state: dict[str, object]) -> LedsError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class InvalidIdentifier(LedsError, ValueError):
    """An identifier (PNC ID, CRO, VRM, NINO, postcode, ...) failed validation."""

    def __init__(self, kind: str, value: str, reason: str, *, suggestion: str | None = None):
        hint = f"did you mean {suggestion}?" if suggestion else None
        super().__init__(f"invalid {kind} {value!r}: {reason}", hint=hint)
        self.kind = kind
        self.value = value
        self.reason = reason
        self.suggestion = suggestion


class PurposeRequired(LedsError):
    """An operation touching personal data was attempted without a valid purpose."""


class AccessDenied(LedsError):
    """Policy refused the request (deny unless allowed)."""


class AuditFailure(LedsError):
    """The audit entry could not be committed; the operation was refused (fail closed)."""


class ExtractError(LedsError):
    """A source extract cannot be read at all (missing, wrong layout, bad mapping)."""


class StoreError(LedsError):
    """The store could not be opened or migrated."""


class NotFound(LedsError):
    """The requested record does not exist."""
