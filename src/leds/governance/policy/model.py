"""The vocabulary of the access policy: actions, resources, organisations and requests.

Everything here is plain Python data; :mod:`leds.governance.policy.engine` turns it into Cedar
entities and requests. Organisations and their data-sharing agreements are read from
``organisations.toml`` in this package.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from typing import Any

from leds.errors import AccessDenied, LedsError, PurposeRequired
from leds.governance.identity import Actor, PurposeStatement, Role
from leds.model.codes import CASE_REQUIRED, Purpose, SourceSystem

SYSTEM_ID = "leds"  # the one System entity: operations on no particular source


class Action(StrEnum):
    """The actions the policy decides (Cedar ``Action::"..."``)."""

    SEARCH_PERSON = "search_person"
    SEARCH_VEHICLE = "search_vehicle"
    SEARCH_PROPERTY = "search_property"
    SEARCH_TEXT = "search_text"
    VIEW_RECORD = "view_record"
    VIEW_SENSITIVE = "view_sensitive"
    FACE_SEARCH = "face_search"
    FINGERPRINT_SEARCH = "fingerprint_search"
    EXPORT = "export"
    MERGE_SPLIT = "merge_split"
    ERASE_RECORD = "erase_record"
    IMPORT_SOURCE = "import_source"
    LIST_IMPORTS = "list_imports"
    LIST_REJECTIONS = "list_rejections"
    READ_AUDIT = "read_audit"
    VERIFY_AUDIT = "verify_audit"
    MANAGE_USERS = "manage_users"
    LINK_RECORDS = "link_records"
    LINK_EXPLAIN = "link_explain"
    LINK_EVALUATE = "link_evaluate"
    BIOMETRIC_REVIEW = "biometric_review"
    BIOMETRIC_ENROL = "biometric_enrol"
    BIOMETRIC_EVALUATE = "biometric_evaluate"
    THRESHOLD_PROPOSE = "threshold_propose"
    THRESHOLD_APPROVE = "threshold_approve"
    BIOMETRIC_PERFORMANCE = "biometric_performance"
    DATA_QUALITY = "data_quality"


class ResourceKind(StrEnum):
    """The kinds of resource; each value is also the Cedar entity type's lower-case name."""

    SOURCE = "source"
    FIELD_CLASS = "field_class"
    SYSTEM = "system"


class FieldClass(StrEnum):
    """Classes of fields of a record; the sensitive ones need the explicit further step."""

    IDENTITY = "identity"
    CONTACT = "contact"
    OFFENDING = "offending"
    INTELLIGENCE = "intelligence"
    WARNING = "warning"
    HEALTH = "health"
    BIOMETRIC_IMAGE = "biometric_image"
    IMMIGRATION_STATUS = "immigration_status"


SENSITIVE_FIELD_CLASSES: frozenset[FieldClass] = frozenset(
    {
        FieldClass.INTELLIGENCE,
        FieldClass.WARNING,
        FieldClass.HEALTH,
        FieldClass.BIOMETRIC_IMAGE,
        FieldClass.IMMIGRATION_STATUS,
    }
)

CEDAR_TYPE: dict[ResourceKind, str] = {
    ResourceKind.SOURCE: "Source",
    ResourceKind.FIELD_CLASS: "FieldClass",
    ResourceKind.SYSTEM: "System",
}

_S = frozenset({ResourceKind.SOURCE})
_SY = frozenset({ResourceKind.SYSTEM})
_S_SY = frozenset({ResourceKind.SOURCE, ResourceKind.SYSTEM})

# Which kinds of resource each action applies to (mirrors ``appliesTo`` in the schema; the
# test suite checks the two agree).
APPLIES_TO: dict[Action, frozenset[ResourceKind]] = {
    Action.SEARCH_PERSON: _S,
    Action.SEARCH_VEHICLE: _S,
    Action.SEARCH_PROPERTY: _S,
    Action.SEARCH_TEXT: _S,
    Action.FACE_SEARCH: _S,
    Action.FINGERPRINT_SEARCH: _S,
    Action.EXPORT: _S,
    Action.VIEW_RECORD: _S_SY,
    Action.IMPORT_SOURCE: _S_SY,
    Action.VIEW_SENSITIVE: frozenset({ResourceKind.FIELD_CLASS}),
    Action.MERGE_SPLIT: _SY,
    Action.ERASE_RECORD: _S,
    Action.LIST_REJECTIONS: _SY,
    Action.READ_AUDIT: _SY,
    Action.LIST_IMPORTS: _SY,
    Action.VERIFY_AUDIT: _SY,
    Action.MANAGE_USERS: _SY,
    Action.LINK_RECORDS: _SY,
    Action.LINK_EXPLAIN: _SY,
    Action.LINK_EVALUATE: _SY,
    Action.BIOMETRIC_REVIEW: _SY,
    Action.BIOMETRIC_ENROL: _SY,
    Action.BIOMETRIC_EVALUATE: _SY,
    Action.THRESHOLD_PROPOSE: _SY,
    Action.THRESHOLD_APPROVE: _SY,
    Action.BIOMETRIC_PERFORMANCE: _SY,
    Action.DATA_QUALITY: _SY,
}

RESOURCE_IDS: dict[ResourceKind, frozenset[str]] = {
    ResourceKind.SOURCE: frozenset(s.value for s in SourceSystem),
    ResourceKind.FIELD_CLASS: frozenset(f.value for f in FieldClass),
    ResourceKind.SYSTEM: frozenset({SYSTEM_ID}),
}


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one access decision.

    ``rule`` is the ``@id`` of the determining policy (the first matching permit for an allow,
    the first matching forbid for a refusal), ``"default-deny"`` when nothing permits, or
    ``"evaluation-error"`` when the policy could not be evaluated (which refuses: fail
    closed). ``determining`` lists every determining policy id; ``errors`` any evaluation
    errors.
    """

    allowed: bool
    rule: str
    reason: str
    determining: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Agreement:
    """A data-sharing agreement: what a non-police organisation's users may ever reach."""

    sources: frozenset[str]
    purposes: frozenset[str]
    field_classes: frozenset[str]

    def __post_init__(self) -> None:
        _check_subset("source", self.sources, RESOURCE_IDS[ResourceKind.SOURCE])
        _check_subset("purpose", self.purposes, frozenset(p.value for p in Purpose))
        _check_subset("field class", self.field_classes, RESOURCE_IDS[ResourceKind.FIELD_CLASS])


@dataclass(frozen=True, slots=True)
class Organisation:
    """A police force, or a body reaching personal data only under its :class:`Agreement`."""

    code: str
    name: str
    police: bool
    agreement: Agreement | None = None


@dataclass(frozen=True, slots=True)
class AccessRequest:
    """Everything one access decision depends on.

    The actor's facts that :class:`~leds.governance.identity.Actor` does not hold (vetting and
    training validity, the organisation with its agreement) travel here. Build one with
    :func:`request_for`, or directly; the constructor refuses an unknown role, action,
    purpose or resource, and a resource of a kind the action does not apply to.
    """

    user_id: str
    role: str
    organisation: Organisation
    action: str
    resource_kind: str
    resource_id: str
    purpose: str
    has_case_ref: bool = False
    sensitive_step: bool = False
    vetting_valid: bool = True
    training_valid: bool = True

    def __post_init__(self) -> None:
        if self.role not in _ROLES:
            raise AccessDenied(f"unknown role {self.role!r}", hint=f"one of: {', '.join(_ROLES)}")
        if self.action not in _ACTIONS:
            raise AccessDenied(
                f"unknown action {self.action!r}", hint=f"one of: {', '.join(_ACTIONS)}"
            )
        if self.purpose not in _PURPOSES:
            raise PurposeRequired(
                f"unknown purpose {self.purpose!r}", hint=f"one of: {', '.join(_PURPOSES)}"
            )
        kinds = APPLIES_TO[Action(self.action)]
        if self.resource_kind not in kinds:
            valid = ", ".join(sorted(kinds))
            raise AccessDenied(
                f"{self.action} does not apply to a {self.resource_kind!r} resource",
                hint=f"one of: {valid}",
            )
        ids = RESOURCE_IDS[ResourceKind(self.resource_kind)]
        if self.resource_id not in ids:
            raise AccessDenied(
                f"unknown {self.resource_kind} {self.resource_id!r}",
                hint=f"one of: {', '.join(sorted(ids))}",
            )


_ROLES: tuple[str, ...] = tuple(r.value for r in Role)
_ACTIONS: tuple[str, ...] = tuple(a.value for a in Action)
_PURPOSES: tuple[str, ...] = tuple(p.value for p in Purpose)


def _check_subset(what: str, values: frozenset[str], valid: frozenset[str]) -> None:
    unknown = sorted(values - valid)
    if unknown:
        raise LedsError(
            f"unknown {what} {unknown[0]!r} in a data-sharing agreement",
            hint=f"one of: {', '.join(sorted(valid))}",
        )


def _parse_organisations(data: Mapping[str, Any]) -> dict[str, Organisation]:
    orgs: dict[str, Organisation] = {}
    for code, entry in data.get("organisations", {}).items():
        terms = entry.get("agreement")
        agreement = None
        if terms is not None:
            agreement = Agreement(
                sources=frozenset(terms.get("sources", ())),
                purposes=frozenset(terms.get("purposes", ())),
                field_classes=frozenset(terms.get("field_classes", ())),
            )
        orgs[code] = Organisation(
            code=code,
            name=str(entry.get("name", code)),
            police=bool(entry["police"]),
            agreement=agreement,
        )
    return orgs


@lru_cache(maxsize=1)
def organisations() -> Mapping[str, Organisation]:
    """The organisations known to the policy, by code (from ``organisations.toml``)."""
    text = resources.files(__package__).joinpath("organisations.toml").read_text("utf-8")
    return _parse_organisations(tomllib.loads(text))


def organisation(code: str) -> Organisation:
    """The organisation ``code``; an unknown code is a non-police body with no agreement."""
    known = organisations().get(code)
    if known is not None:
        return known
    return Organisation(code=code, name=f"unknown organisation {code}", police=False)


def request_for(
    actor: Actor,
    action: str,
    purpose: Purpose | str | PurposeStatement,
    *,
    source: str | None = None,
    field_class: str | None = None,
    has_case_ref: bool | None = None,
    sensitive_step: bool = False,
    vetting_valid: bool = True,
    training_valid: bool = True,
) -> AccessRequest:
    """Build the :class:`AccessRequest` of ``actor`` doing ``action`` for ``purpose``.

    The resource is ``source`` or ``field_class`` if given (not both), else the System.
    ``has_case_ref`` defaults to whether a :class:`PurposeStatement` carries a case reference
    (``False`` for a bare purpose code). The organisation is looked up by
    ``actor.organisation`` in ``organisations.toml``.
    """
    if source is not None and field_class is not None:
        raise AccessDenied("a request names one resource: a source or a field class, not both")
    if isinstance(purpose, PurposeStatement):
        code = purpose.code.value
        case = purpose.case_ref is not None if has_case_ref is None else has_case_ref
    else:
        code = str(purpose)
        case = bool(has_case_ref)
    if source is not None:
        kind, rid = ResourceKind.SOURCE, source
    elif field_class is not None:
        kind, rid = ResourceKind.FIELD_CLASS, field_class
    else:
        kind, rid = ResourceKind.SYSTEM, SYSTEM_ID
    return AccessRequest(
        user_id=actor.user_id,
        role=actor.role,
        organisation=organisation(actor.organisation),
        action=str(action),
        resource_kind=kind.value,
        resource_id=rid,
        purpose=code,
        has_case_ref=case,
        sensitive_step=sensitive_step,
        vetting_valid=vetting_valid,
        training_valid=training_valid,
    )


def requires_case_ref(purpose: str) -> bool:
    """Whether ``purpose`` needs a case or incident reference."""
    return purpose in _CASE_REQUIRED


_CASE_REQUIRED: frozenset[str] = frozenset(p.value for p in CASE_REQUIRED)
