"""The audit log (DPA 2018 s.62): typed events, and the tamper-evident log built on them."""

from leds.governance.audit.events import AuditEntry, AuditEvent

__all__ = ["AuditEntry", "AuditEvent"]
