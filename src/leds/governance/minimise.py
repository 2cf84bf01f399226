"""Least access to fields: classify every field of a record, withhold the classes not allowed.

MISSION.md: role, organisation, purpose and vetting decide which fields a user sees, and the
sensitive classes (intelligence, warning, health, biometric_image, immigration_status) need
an explicit further step with its own justification. This module does the field part:

* **Classification** (data, not code): ``field_classes.toml`` next to this module gives the
  field class of every top-level payload key of every (source, kind) the parsers produce and
  of every person column (:data:`leds.store.schema.PERSON_COLUMNS`); it is read once
  (:func:`classification`). A nested value (list or object) is classified as a whole by its
  top-level key.
* **Default**: a key the table does not list (DVLA ``extra`` columns, the columns of a generic
  mapped source, a key a parser adds later, an unknown source or kind) is of class
  ``"intelligence"`` (:data:`DEFAULT_CLASS`, set in the TOML file): a sensitive class, so it
  is never shown without the further step, and the class that means "unassessed information
  of unknown provenance". Where unlisted keys arise (DVLA, generic) it reaches exactly the
  roles the narrowest class would.
* **Per-value rules** ``marker_flag`` and ``marker``: a PNC marker's flag (``marker_id``,
  ``marker_type``, ``start``, ``end``) is ``offending`` — officers see warning signals such
  as ``WS-FIREARMS`` without the further step — except the health-related signals
  (``WS-MENTAL``, ``WS-SELFHARM``), which are ``health``; its free-text ``detail`` follows
  rule ``marker``: ``warning`` for warning signals, ``health`` for the health-related ones,
  ``offending`` for other markers (``WANTED``, ``BAIL``...). A missing or unlisted type is
  ``health`` (the most restrictive). The marker's subject (``pnc_id``) stays ``identity``.
* :func:`allowed_classes` asks the Cedar policy (one :func:`~leds.governance.policy.decide_many`
  call) which classes an actor may see of a source's records for a purpose, with or without
  the sensitive step, and why each refused class is refused.
* :func:`minimise` returns a :class:`MinimisedRecord`: the payload and person values of the
  allowed classes, and a :class:`Withheld` entry (field, class, reason) for every other
  field. A withheld value is removed entirely: nothing derived from it (length, type, whether
  it was empty) is kept, only its key and class.

The policy question per class: ``view_record`` on the source (may the actor open records of
that source at all; Cedar's ``view_record`` applies to a source, not to a field class) and
``view_sensitive`` on the field class (which classes the role, the organisation's agreement and
the purpose reach; the sensitive five are also refused without the step). A class is allowed
when both are; every request goes in the same batch.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from leds.errors import LedsError, PurposeRequired
from leds.governance.identity import MIN_JUSTIFICATION_WORDS, Actor, PurposeStatement
from leds.governance.policy import (
    SENSITIVE_FIELD_CLASSES,
    Action,
    FieldClass,
    decide_many,
    request_for,
)
from leds.model.codes import Purpose

if TYPE_CHECKING:
    from leds.store.base import StoredRecord

__all__ = [
    "DEFAULT_CLASS",
    "FIELD_CLASSES",
    "SENSITIVE_CLASSES",
    "Classification",
    "MinimisedRecord",
    "ValueRule",
    "Withheld",
    "allowed_classes",
    "classification",
    "classify_payload_key",
    "classify_person_column",
    "minimise",
]

FIELD_CLASSES: tuple[str, ...] = tuple(c.value for c in FieldClass)
"""The eight field classes, in the policy's order."""

SENSITIVE_CLASSES: frozenset[str] = frozenset(c.value for c in SENSITIVE_FIELD_CLASSES)
"""The classes that need the explicit further step (``view_sensitive`` with the step)."""

_TABLE_FILE = "field_classes.toml"


# --------------------------------------------------------------------------------------------
# The classification table
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ValueRule:
    """A per-value rule: the class of a field follows the record's value of ``key``.

    ``classes`` maps a value of ``key`` to a class; any other value (or a missing one) gives
    ``otherwise``.
    """

    name: str
    key: str
    classes: Mapping[str, str]
    otherwise: str

    def class_for(self, payload: Mapping[str, Any]) -> str:
        """The class this rule gives a field of ``payload``."""
        value = payload.get(self.key)
        if isinstance(value, str):
            return self.classes.get(value, self.otherwise)
        return self.otherwise


@dataclass(frozen=True, slots=True)
class Classification:
    """The parsed ``field_classes.toml``.

    ``payload[(source, kind)][key]`` is a class name or a :class:`ValueRule`; ``person`` maps
    each person column to a class; ``default`` is the class of anything not listed.
    """

    default: str
    person: Mapping[str, str]
    payload: Mapping[tuple[str, str], Mapping[str, str | ValueRule]]
    rules: Mapping[str, ValueRule]

    def listed(self, source: str, kind: str) -> frozenset[str]:
        """The payload keys explicitly classified for ``(source, kind)``."""
        return frozenset(self.payload.get((source, kind), {}))

    def payload_class(self, source: str, kind: str, key: str, payload: Mapping[str, Any]) -> str:
        """The class of ``payload[key]`` of a record of ``(source, kind)``."""
        entry = self.payload.get((source, kind), {}).get(key)
        if entry is None:
            return self.default
        if isinstance(entry, ValueRule):
            return entry.class_for(payload)
        return entry

    def person_class(self, column: str) -> str:
        """The class of the person column ``column``."""
        return self.person.get(column, self.default)


def _class_name(value: Any, where: str) -> str:
    if not isinstance(value, str) or value not in FIELD_CLASSES:
        raise LedsError(
            f"{_TABLE_FILE}: {where} has class {value!r}, not a field class",
            hint=f"one of: {', '.join(FIELD_CLASSES)}",
        )
    return value


def _parse_rules(data: Mapping[str, Any]) -> dict[str, ValueRule]:
    rules: dict[str, ValueRule] = {}
    for name, body in data.items():
        if not isinstance(body, dict) or not isinstance(body.get("key"), str):
            raise LedsError(f"{_TABLE_FILE}: rule {name!r} needs a key (the deciding field)")
        classes = {
            str(value): _class_name(cls, f"rule {name}, value {value}")
            for value, cls in dict(body.get("classes", {})).items()
        }
        rules[name] = ValueRule(
            name=name,
            key=body["key"],
            classes=classes,
            otherwise=_class_name(body.get("otherwise"), f"rule {name}, otherwise"),
        )
    return rules


def parse_classification(data: Mapping[str, Any]) -> Classification:
    """Build a :class:`Classification` from the parsed TOML ``data``, checking every class
    and rule it names (raises :class:`~leds.errors.LedsError`)."""
    rules = _parse_rules(data.get("rules", {}))
    person = {
        str(col): _class_name(cls, f"person column {col}")
        for col, cls in dict(data.get("person", {})).items()
    }
    payload: dict[tuple[str, str], dict[str, str | ValueRule]] = {}
    for source, kinds in dict(data.get("payload", {})).items():
        for kind, keys in dict(kinds).items():
            table: dict[str, str | ValueRule] = {}
            for key, entry in dict(keys).items():
                where = f"payload.{source}.{kind}.{key}"
                if isinstance(entry, dict):
                    rule = rules.get(str(entry.get("rule")))
                    if rule is None:
                        raise LedsError(f"{_TABLE_FILE}: {where} names an unknown rule {entry!r}")
                    table[str(key)] = rule
                else:
                    table[str(key)] = _class_name(entry, where)
            payload[(str(source), str(kind))] = table
    return Classification(
        default=_class_name(data.get("default"), "default"),
        person=person,
        payload=payload,
        rules=rules,
    )


@lru_cache(maxsize=1)
def classification() -> Classification:
    """The packaged classification (``field_classes.toml``), read once per process."""
    text = resources.files(__package__).joinpath(_TABLE_FILE).read_text("utf-8")
    return parse_classification(tomllib.loads(text))


DEFAULT_CLASS: str = classification().default
"""The class of a key the table does not list ("intelligence", see the module docstring)."""


def classify_payload_key(
    source: str, kind: str, key: str, payload: Mapping[str, Any] | None = None
) -> str:
    """The field class of payload ``key`` of a record of ``(source, kind)``.

    ``payload`` is the record's payload, which a per-value rule reads (without it, a rule
    gives its most restrictive class, ``otherwise``). An unlisted key gets
    :data:`DEFAULT_CLASS`.
    """
    return classification().payload_class(source, kind, key, payload or {})


def classify_person_column(column: str) -> str:
    """The field class of the person column ``column`` (unlisted: :data:`DEFAULT_CLASS`)."""
    return classification().person_class(column)


# --------------------------------------------------------------------------------------------
# Minimising a record
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Withheld:
    """A field left out of a :class:`MinimisedRecord`: its name, class and why.

    ``field`` is ``"payload.<key>"`` or ``"person.<column>"``. Nothing of the value is kept.
    """

    field: str
    field_class: str
    reason: str


@dataclass(frozen=True, slots=True)
class MinimisedRecord:
    """A stored record reduced to the fields the request may see.

    ``record_id``, ``source`` and ``kind`` say which record it is (no personal data: the
    source's own ids are payload or person fields and classified like the rest).
    ``payload`` and ``person`` hold copies of the kept values; ``withheld`` lists every field
    removed, in payload then person order.
    """

    record_id: int
    source: str
    kind: str
    payload: dict[str, Any]
    person: dict[str, Any]
    withheld: list[Withheld] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form of the minimised record."""
        return {
            "record_id": self.record_id,
            "source": self.source,
            "kind": self.kind,
            "payload": copy.deepcopy(self.payload),
            "person": copy.deepcopy(self.person),
            "withheld": [
                {"field": w.field, "field_class": w.field_class, "reason": w.reason}
                for w in self.withheld
            ],
        }


def _default_reason(field_class: str) -> str:
    if field_class in SENSITIVE_CLASSES:
        return (
            f"field class {field_class!r} needs the sensitive-data step and a role, "
            "organisation and purpose that permit it"
        )
    return f"field class {field_class!r} is not permitted for this role, organisation and purpose"


def minimise(
    record: StoredRecord,
    allowed: Collection[str],
    *,
    reasons: Mapping[str, str] | None = None,
) -> MinimisedRecord:
    """Keep the fields of ``record`` whose class is in ``allowed``; list the others.

    ``allowed`` is a collection of field class names (e.g. the first result of
    :func:`allowed_classes`); ``reasons`` (its second result) gives the reason per refused
    class, otherwise a generic reason is used. Kept values are deep copies. Raises
    :class:`~leds.errors.LedsError` for a name in ``allowed`` that is not a field class.
    """
    unknown = sorted(set(allowed) - set(FIELD_CLASSES))
    if unknown:
        raise LedsError(
            f"unknown field class {unknown[0]!r}", hint=f"one of: {', '.join(FIELD_CLASSES)}"
        )
    table = classification()
    why = reasons or {}
    withheld: list[Withheld] = []

    def refuse(name: str, cls: str) -> None:
        withheld.append(Withheld(name, cls, why.get(cls) or _default_reason(cls)))

    payload: dict[str, Any] = {}
    for key, value in record.payload.items():
        cls = table.payload_class(record.source, record.kind, key, record.payload)
        if cls in allowed:
            payload[key] = copy.deepcopy(value)
        else:
            refuse(f"payload.{key}", cls)
    person: dict[str, Any] = {}
    for column, value in record.person.items():
        cls = table.person_class(column)
        if cls in allowed:
            person[column] = copy.deepcopy(value)
        else:
            refuse(f"person.{column}", cls)
    return MinimisedRecord(record.id, record.source, record.kind, payload, person, withheld)


# --------------------------------------------------------------------------------------------
# Asking the policy
# --------------------------------------------------------------------------------------------


def allowed_classes(
    actor: Actor,
    purpose: Purpose | str | PurposeStatement,
    source: str,
    *,
    sensitive_step: bool,
    sensitive_justification: str | None,
    vetting_valid: bool = True,
    training_valid: bool = True,
) -> tuple[set[str], dict[str, str]]:
    """The field classes ``actor`` may see of ``source``'s records for ``purpose``.

    One :func:`~leds.governance.policy.decide_many` call decides ``view_record`` on the source
    and ``view_sensitive`` on each of the eight field classes (the sensitive five with
    ``sensitive_step``, the others without: the policy asks the step only of the sensitive
    ones). A class is allowed when both its own request and the source's are. ``purpose`` is
    passed to :func:`~leds.governance.policy.request_for` as is: a
    :class:`~leds.governance.identity.PurposeStatement` carries its case reference, a bare
    code carries none.

    Returns ``(allowed, reasons)``: the allowed class names and, for each refused class, the
    reason from the deciding :class:`~leds.governance.policy.Decision`.

    Raises :class:`~leds.errors.PurposeRequired` when ``sensitive_step`` is asked without its
    own justification of at least three words (the purpose's justification does not count).
    """
    if sensitive_step:
        words = (sensitive_justification or "").split()
        if len(words) < MIN_JUSTIFICATION_WORDS:
            raise PurposeRequired(
                "the sensitive-data step needs its own justification",
                hint=f"say why the sensitive fields are needed in at least "
                f"{MIN_JUSTIFICATION_WORDS} words",
            )
    requests = [
        request_for(
            actor,
            Action.VIEW_RECORD,
            purpose,
            source=source,
            vetting_valid=vetting_valid,
            training_valid=training_valid,
        )
    ]
    requests.extend(
        request_for(
            actor,
            Action.VIEW_SENSITIVE,
            purpose,
            field_class=cls,
            sensitive_step=sensitive_step and cls in SENSITIVE_CLASSES,
            vetting_valid=vetting_valid,
            training_valid=training_valid,
        )
        for cls in FIELD_CLASSES
    )
    record_decision, *class_decisions = decide_many(requests)
    allowed: set[str] = set()
    reasons: dict[str, str] = {}
    for cls, decision in zip(FIELD_CLASSES, class_decisions, strict=True):
        if not record_decision.allowed:
            reasons[cls] = (
                f"field class {cls!r}: records of source {source!r} may not be shown "
                f"({record_decision.reason})"
            )
        elif not decision.allowed:
            reasons[cls] = f"field class {cls!r}: {decision.reason}"
        else:
            allowed.add(cls)
    return allowed, reasons
