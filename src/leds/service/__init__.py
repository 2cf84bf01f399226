"""The one door: every read or write of personal data goes through :class:`Service`.

Each operation runs authenticate -> authorise -> execute -> minimise -> audit -> respond.
Interfaces authenticate (password, API token or OIDC token, see :meth:`Service.login` and
:mod:`leds.governance.oidc`) and hand over an :class:`AuthenticatedUser`; the service asks
the Cedar policy (deny unless allowed), executes, removes what the user may not see, and
appends the s.62 audit event — in the same transaction as the operation's effect, and before
any result is returned. If the audit write fails, the operation fails (fail closed) and
nothing is returned. Every result carries the sequence number of its audit entry.
"""

from __future__ import annotations

from leds.service._base import (
    BATCH,
    BOOTSTRAP,
    NewAccount,
    RecordView,
    Result,
    ServiceBase,
    SourceOverview,
)
from leds.service.accounts import AccountOps
from leds.service.audit import AuditOps
from leds.service.biometric_record import BiometricRecordOps, DecisionRecordFile
from leds.service.biometrics import BiometricOps
from leds.service.exports import ExportOps, PersonExport
from leds.service.link import LinkOps
from leds.service.oversight import AlertReport, AuditExport, AuditPage, OversightOps
from leds.service.person_panels import PersonPanelOps
from leds.service.quality import QualityOps
from leds.service.records import RecordOps
from leds.service.search import SearchOps

__all__ = [
    "BATCH",
    "BOOTSTRAP",
    "AlertReport",
    "AuditExport",
    "AuditPage",
    "DecisionRecordFile",
    "NewAccount",
    "PersonExport",
    "RecordView",
    "Result",
    "Service",
    "SourceOverview",
]


class Service(
    AccountOps,
    RecordOps,
    ExportOps,
    SearchOps,
    AuditOps,
    OversightOps,
    PersonPanelOps,
    LinkOps,
    BiometricRecordOps,
    BiometricOps,
    QualityOps,
    ServiceBase,
):
    """The one door to the store of personal data (operations grouped by area in the
    mixins of this package; the shared workflow — authorise, audit — in ``ServiceBase``)."""
