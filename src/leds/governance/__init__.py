"""Governance: purposes, policy, the audit log (and later retention, rights, quality, misuse)."""
