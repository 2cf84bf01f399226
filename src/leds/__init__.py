"""leds: Law Enforcement Data Service (synthetic data only).

The public surface is small and fixed (``__all__``, guarded by ``tests/test_public_api.py``)::

    from leds import Service, PurposeStatement
    service = Service.open(Path("leds-data"))
    me = service.login("U000016", password)
    purpose = PurposeStatement.of("admin-process", "checking the nightly import")
    service.list_imports(me, purpose)

Names load lazily, so importing a submodule (a worker process of the generator, say) does not
import the whole service stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "AccessDenied",
    "AuditFailure",
    "LedsError",
    "PurposeRequired",
    "PurposeStatement",
    "Service",
    "__version__",
    "generate_world",
]

_WHERE = {
    "AccessDenied": "leds.errors",
    "AuditFailure": "leds.errors",
    "LedsError": "leds.errors",
    "PurposeRequired": "leds.errors",
    "PurposeStatement": "leds.governance.identity",
    "Service": "leds.service",
    "generate_world": "leds.synth",
}

if TYPE_CHECKING:
    from leds.errors import AccessDenied, AuditFailure, LedsError, PurposeRequired
    from leds.governance.identity import PurposeStatement
    from leds.service import Service
    from leds.synth import generate_world


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'leds' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
