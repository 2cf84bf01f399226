"""The access policy of leds, written in Cedar: deny unless allowed, and every decision named.

Files of this package
---------------------
``policies.cedar``
    The policies. Each has ``@id("...")`` (the rule a decision names) and ``@reason("...")``.
``schema.cedarschema``
    The Cedar schema the policies are validated against (the test suite does so).
``organisations.toml``
    The demo organisations and their data-sharing agreements.
``MATRIX.md``
    The role x action x resource x purpose matrix as a readable table.

The model
---------
Principal ``User``
    ``role`` (String, one of the nine :class:`~leds.governance.identity.Role` values),
    ``organisation`` (an ``Organisation`` entity), ``vetting_valid`` (Bool),
    ``training_valid`` (Bool).
``Organisation``
    ``police`` (Bool); a non-police organisation acting under a data-sharing agreement also
    has ``allowed_sources``, ``allowed_purposes`` and ``allowed_field_classes``
    (Set<String>). A non-police organisation without them reaches no personal data.
Actions
    ``search_person``, ``search_vehicle``, ``search_property``, ``search_text``,
    ``face_search``, ``fingerprint_search``, ``export`` (on a ``Source``); ``view_record``
    and ``import_source`` (on a ``Source``, or on the ``System`` meaning "any source");
    ``view_sensitive`` (on a ``FieldClass``); ``merge_split``, ``list_rejections``,
    ``read_audit``, ``verify_audit``, ``list_imports``, ``manage_users`` (on the
    ``System``). All but the last three belong to the action group ``personal_data``,
    which is what data-sharing agreements bound.
Resources
    ``Source`` entities ``pnc``, ``pnd``, ``dvla``, ``iabs``, ``generic`` (attribute
    ``name``); ``FieldClass`` entities ``identity``, ``contact``, ``offending``,
    ``intelligence``, ``warning``, ``health``, ``biometric_image``, ``immigration_status``
    (attributes ``name``, ``sensitive``: true for the last five); ``System::"leds"``.
Context
    ``purpose`` (String, a :class:`~leds.model.codes.Purpose` code), ``has_case_ref``
    (Bool), ``sensitive_step`` (Bool: the explicit further step with its own justification
    that ``view_sensitive`` of a sensitive field class needs).

Forbids (each wins over any permit)
    expired vetting or expired training: nothing at all; a non-police organisation outside
    its agreement's purposes, sources (on the System: unless it covers every source) or field
    classes; a purpose in :data:`~leds.model.codes.CASE_REQUIRED` without a case reference;
    a sensitive field class without the further step.

The Python side
---------------
:class:`AccessRequest` carries everything a decision depends on, including the actor facts
:class:`~leds.governance.identity.Actor` does not hold (vetting, training, organisation and
agreement); :func:`request_for` builds one from an ``Actor``. :func:`decide_request` decides
one, :func:`decide_many` many with one batch call, :func:`explain` says why. A
:class:`Decision` names its rule: the ``@id`` of the first determining policy,
``"default-deny"`` when no permit matched, ``"evaluation-error"`` when evaluation failed
(refused: fail closed). :func:`decide` is the adapter for the service's older operation names
(``import_source``, ``list_imports``, ``list_rejections``, ``read_record``, ``read_audit``).
"""

from __future__ import annotations

from leds.governance.policy.engine import (
    DEFAULT_DENY,
    EVALUATION_ERROR,
    OPERATIONS,
    PolicyEngine,
    decide,
    decide_many,
    decide_request,
    engine,
    explain,
    policy_text,
    schema_text,
)
from leds.governance.policy.model import (
    APPLIES_TO,
    SENSITIVE_FIELD_CLASSES,
    SYSTEM_ID,
    AccessRequest,
    Action,
    Agreement,
    Decision,
    FieldClass,
    Organisation,
    ResourceKind,
    organisation,
    organisations,
    request_for,
)

__all__ = [
    "APPLIES_TO",
    "DEFAULT_DENY",
    "EVALUATION_ERROR",
    "OPERATIONS",
    "SENSITIVE_FIELD_CLASSES",
    "SYSTEM_ID",
    "AccessRequest",
    "Action",
    "Agreement",
    "Decision",
    "FieldClass",
    "Organisation",
    "PolicyEngine",
    "ResourceKind",
    "decide",
    "decide_many",
    "decide_request",
    "engine",
    "explain",
    "organisation",
    "organisations",
    "policy_text",
    "request_for",
    "schema_text",
]
