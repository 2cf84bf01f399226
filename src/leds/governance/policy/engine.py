"""Cedar evaluation of :class:`AccessRequest`s: single, batch, explained, and the old adapter.

The policy set, the schema and a base entity set (organisations, sources, field classes, the
System, the action group, and one user entity per role x known organisation x vetting x
training) are parsed once per process and reused. A user entity stands for the facts the
policy reads, not for a person: its id is derived from those facts, so any number of requests
share a handful of entities and a batch needs no per-request entity data.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import product
from typing import Any, cast

import cedarpy

from leds.governance.identity import Actor, Role
from leds.governance.policy.model import (
    APPLIES_TO,
    CEDAR_TYPE,
    SENSITIVE_FIELD_CLASSES,
    SYSTEM_ID,
    AccessRequest,
    Action,
    Decision,
    FieldClass,
    Organisation,
    ResourceKind,
    organisations,
    request_for,
    requires_case_ref,
)
from leds.model.codes import Purpose, SourceSystem

DEFAULT_DENY = "default-deny"
EVALUATION_ERROR = "evaluation-error"
_EXTRA_CACHE = 64  # entity sets kept for organisations not in organisations.toml
_MEMO_SIZE = 65_536  # decisions remembered per engine (see PolicyEngine.decide_many)

# Old operation names (the plain rule table's) -> Cedar actions; all act on the System.
OPERATIONS: dict[str, Action] = {
    "import_source": Action.IMPORT_SOURCE,
    "list_imports": Action.LIST_IMPORTS,
    "list_rejections": Action.LIST_REJECTIONS,
    "read_record": Action.VIEW_RECORD,
    "read_audit": Action.READ_AUDIT,
}


@dataclass(frozen=True, slots=True)
class PolicyInfo:
    """One policy of the set: its @id, effect (permit/forbid), @reason and position."""

    id: str
    effect: str
    reason: str
    position: int


def _package_text(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text("utf-8")


def policy_text() -> str:
    """The Cedar policies (``policies.cedar``)."""
    return _package_text("policies.cedar")


def schema_text() -> str:
    """The Cedar schema (``schema.cedarschema``)."""
    return _package_text("schema.cedarschema")


def _uid(kind: str, ident: str) -> dict[str, str]:
    return {"type": kind, "id": ident}


def _org_entity(uid: str, org: Organisation) -> dict[str, Any]:
    attrs: dict[str, Any] = {"police": org.police}
    if org.agreement is not None:
        attrs["allowed_sources"] = sorted(org.agreement.sources)
        attrs["allowed_purposes"] = sorted(org.agreement.purposes)
        attrs["allowed_field_classes"] = sorted(org.agreement.field_classes)
    return {"uid": _uid("Organisation", uid), "attrs": attrs, "parents": []}


def _user_id(role: str, org_uid: str, vetting: bool, training: bool) -> str:
    return f"{role}|{org_uid}|v{int(vetting)}t{int(training)}"


def _user_entity(role: str, org_uid: str, vetting: bool, training: bool) -> dict[str, Any]:
    return {
        "uid": _uid("User", _user_id(role, org_uid, vetting, training)),
        "attrs": {
            "role": role,
            "organisation": {"__entity": _uid("Organisation", org_uid)},
            "vetting_valid": vetting,
            "training_valid": training,
        },
        "parents": [],
    }


def _users_of(org_uid: str) -> list[dict[str, Any]]:
    return [
        _user_entity(role.value, org_uid, v, t)
        for role, v, t in product(Role, (True, False), (True, False))
    ]


class PolicyEngine:
    """The parsed policy set, schema and base entities; decides :class:`AccessRequest`s."""

    def __init__(self, policies: str, schema: str) -> None:
        self.policies_text = policies
        self.schema = cedarpy.Schema.from_str(schema)
        self.policy_set = cedarpy.PolicySet.from_str(policies)
        est = json.loads(cedarpy.policies_to_json_str(policies))["staticPolicies"]
        self.info: dict[str, PolicyInfo] = {}
        for position, (cedar_id, body) in enumerate(est.items()):
            notes = body.get("annotations", {})
            self.info[cedar_id] = PolicyInfo(
                id=notes.get("id") or cedar_id,
                effect=body["effect"],
                reason=notes.get("reason") or "",
                position=position,
            )
        self._known: dict[Organisation, str] = {o: code for code, o in organisations().items()}
        self._known_uids = frozenset(self._known.values())
        base: list[dict[str, Any]] = [
            _uid_entity("System", SYSTEM_ID, {}),
            *(_uid_entity("Source", s.value, {"name": s.value}) for s in SourceSystem),
            *(
                _uid_entity(
                    "FieldClass",
                    f.value,
                    {"name": f.value, "sensitive": f in SENSITIVE_FIELD_CLASSES},
                )
                for f in FieldClass
            ),
        ]
        for org, code in self._known.items():
            base.append(_org_entity(code, org))
            base.extend(_users_of(code))
        # Built with the schema: validates the entities and adds the action entities (with
        # the personal_data group) that the policies' ``action in`` tests need.
        self.entities = cedarpy.Entities.from_json_str(json.dumps(base), self.schema)
        self._contexts: dict[tuple[str, bool, bool], str] = {}
        # Entity sets extended with organisations not in organisations.toml, by their uids.
        self._extra_entities: dict[tuple[str, ...], cedarpy.Entities] = {}
        self._memo: dict[tuple[object, ...], Decision] = {}

    # ---- building Cedar requests -----------------------------------------------------------
    def _org_uid(self, org: Organisation) -> str:
        known = self._known.get(org)
        if known is not None:
            return known
        digest = hashlib.sha256(json.dumps(_org_entity("", org)["attrs"]).encode()).hexdigest()
        return f"{org.code}#{digest[:24]}"

    def _context(self, req: AccessRequest) -> str:
        key = (req.purpose, req.has_case_ref, req.sensitive_step)
        ctx = self._contexts.get(key)
        if ctx is None:
            ctx = json.dumps(
                {
                    "purpose": req.purpose,
                    "has_case_ref": req.has_case_ref,
                    "sensitive_step": req.sensitive_step,
                }
            )
            self._contexts[key] = ctx
        return ctx

    def _cedar_request(self, req: AccessRequest, org_uid: str) -> dict[str, Any]:
        user = _user_id(req.role, org_uid, req.vetting_valid, req.training_valid)
        return {
            "principal": _uid("User", user),
            "action": _uid("Action", req.action),
            "resource": _uid(CEDAR_TYPE[ResourceKind(req.resource_kind)], req.resource_id),
            "context": self._context(req),
        }

    def _entities_for(self, reqs: Iterable[AccessRequest]) -> tuple[cedarpy.Entities, list[str]]:
        uids: list[str] = []
        extra: dict[str, Organisation] = {}
        for req in reqs:
            uid = self._org_uid(req.organisation)
            if uid not in self._known_uids:
                extra[uid] = req.organisation
            uids.append(uid)
        if not extra:
            return self.entities, uids
        key = tuple(sorted(extra))
        handle = self._extra_entities.get(key)
        if handle is None:
            delta: list[dict[str, Any]] = []
            for uid, org in extra.items():
                delta.append(_org_entity(uid, org))
                delta.extend(_users_of(uid))
            handle = self.entities.with_added_json_str(json.dumps(delta), self.schema)
            if len(self._extra_entities) >= _EXTRA_CACHE:
                self._extra_entities.pop(next(iter(self._extra_entities)))
            self._extra_entities[key] = handle
        return handle, uids

    # ---- deciding ----------------------------------------------------------------------------
    def decide_many(self, reqs: Sequence[AccessRequest]) -> list[Decision]:
        """Decide every request with one batch call to Cedar (each distinct request once).

        A decision depends on nothing but :func:`_decision_key` and this engine's policies
        and entities, which never change after construction; so decisions already taken are
        remembered (bounded, oldest forgotten first) and Cedar is asked only about new ones.
        The request of an access is the same; only the cost of deciding it goes (a search
        asks 4-5 questions, ~1 ms each in Cedar, that repeat from one search to the next).
        """
        memo = self._memo
        out: list[Decision | None] = []
        index: dict[tuple[object, ...], int] = {}
        unique: list[AccessRequest] = []
        keys: list[tuple[object, ...]] = []
        waiting: list[tuple[int, int]] = []  # (position in out, slot in unique)
        for req in reqs:
            key = _decision_key(req)
            known = memo.get(key)
            if known is not None:
                out.append(known)
                continue
            slot = index.get(key)
            if slot is None:
                slot = index[key] = len(unique)
                unique.append(req)
                keys.append(key)
            waiting.append((len(out), slot))
            out.append(None)
        if unique:
            decided = self._decide_distinct(unique)
            for key, decision in zip(keys, decided, strict=True):
                if len(memo) >= _MEMO_SIZE:
                    # another thread may be deciding too: forgetting is best effort
                    with contextlib.suppress(StopIteration, RuntimeError):
                        memo.pop(next(iter(memo)), None)
                memo[key] = decision
            for position, slot in waiting:
                out[position] = decided[slot]
        return cast(list[Decision], out)

    def _decide_distinct(self, reqs: Sequence[AccessRequest]) -> list[Decision]:
        if not reqs:
            return []
        entities, org_uids = self._entities_for(reqs)
        cedar_reqs = [self._cedar_request(r, u) for r, u in zip(reqs, org_uids, strict=True)]
        results = cedarpy.is_authorized_batch(cedar_reqs, self.policy_set, entities)
        return [self._decision(r, res) for r, res in zip(reqs, results, strict=True)]

    def _decision(self, req: AccessRequest, result: cedarpy.AuthzResult) -> Decision:
        errors = tuple(result.diagnostics.errors)
        matched = sorted(
            (self.info[p] for p in result.diagnostics.reasons), key=lambda i: i.position
        )
        ids = tuple(i.id for i in matched)
        if result.allowed and not errors:
            first = matched[0]
            return Decision(True, first.id, f"allowed by {first.id}: {first.reason}", ids)
        forbids = [i for i in matched if i.effect == "forbid"]
        if forbids:
            first = forbids[0]
            return Decision(False, first.id, f"refused by {first.id}: {first.reason}", ids, errors)
        if errors:
            return Decision(
                False,
                EVALUATION_ERROR,
                f"refused: the policy could not be evaluated ({errors[0]})",
                (),
                errors,
            )
        return Decision(
            False,
            DEFAULT_DENY,
            f"role {req.role!r} may not {req.action} on {req.resource_kind} "
            f"{req.resource_id!r} for purpose {req.purpose!r}: no policy permits it",
        )

    def explain(self, req: AccessRequest) -> str:
        """A multi-line account of ``req``: the request, decision, policies and errors."""
        decision = self.decide_many([req])[0]
        org = req.organisation
        if org.police:
            terms = "police"
        elif org.agreement is None:
            terms = "non-police, no data-sharing agreement"
        else:
            a = org.agreement
            terms = (
                f"non-police; agreement: sources {sorted(a.sources)}, purposes "
                f"{sorted(a.purposes)}, field classes {sorted(a.field_classes)}"
            )
        by_id = {i.id: i for i in self.info.values()}
        lines = [
            "request:",
            f"  user:         {req.user_id} (role {req.role})",
            f"  organisation: {org.code} ({terms})",
            f"  vetting:      {'valid' if req.vetting_valid else 'EXPIRED'}; "
            f"training: {'valid' if req.training_valid else 'EXPIRED'}",
            f"  action:       {req.action}",
            f'  resource:     {CEDAR_TYPE[ResourceKind(req.resource_kind)]}::"{req.resource_id}"',
            f"  purpose:      {req.purpose}; case ref: {'yes' if req.has_case_ref else 'no'}; "
            f"sensitive step: {'yes' if req.sensitive_step else 'no'}",
            f"decision: {'ALLOW' if decision.allowed else 'DENY'} (rule {decision.rule})",
            f"reason: {decision.reason}",
            "determining policies:",
        ]
        if decision.determining:
            for pid in decision.determining:
                info = by_id[pid]
                lines.append(f"  - {pid} ({info.effect}): {info.reason}")
        else:
            lines.append(f"  - none ({decision.rule}: no permit matched)")
        lines.append("errors:")
        lines.extend(f"  - {e}" for e in decision.errors or ("none",))
        return "\n".join(lines)


def _decision_key(req: AccessRequest) -> tuple[object, ...]:
    """Everything a decision depends on (all of the request but the user id)."""
    return (
        req.role,
        req.organisation,
        req.action,
        req.resource_kind,
        req.resource_id,
        req.purpose,
        req.has_case_ref,
        req.sensitive_step,
        req.vetting_valid,
        req.training_valid,
    )


def _uid_entity(kind: str, ident: str, attrs: dict[str, Any]) -> dict[str, Any]:
    return {"uid": _uid(kind, ident), "attrs": attrs, "parents": []}


@lru_cache(maxsize=1)
def engine() -> PolicyEngine:
    """The process-wide engine over the packaged policies and schema."""
    return PolicyEngine(policy_text(), schema_text())


def decide_request(req: AccessRequest) -> Decision:
    """Decide one request (deny unless a permit matches and no forbid does)."""
    return engine().decide_many([req])[0]


def decide_many(reqs: Sequence[AccessRequest]) -> list[Decision]:
    """Decide many requests with one batch call; the result is in the same order."""
    return engine().decide_many(reqs)


def explain(req: AccessRequest) -> str:
    """Explain the decision on ``req``: request, decision, determining policies, errors."""
    return engine().explain(req)


def decide(actor: Actor, operation: str, purpose: Purpose) -> Decision:
    """Decide whether ``actor`` may perform ``operation`` for ``purpose`` (deny by default).

    The adapter for the service's operations (``import_source``, ``list_imports``,
    ``list_rejections``, ``read_record``, ``read_audit``; a Cedar action name on the System is
    accepted too). It assumes valid vetting and training, acts on the System (no source
    restriction) and assumes the case reference a validated
    :class:`~leds.governance.identity.PurposeStatement` guarantees.
    """
    action = OPERATIONS.get(operation)
    if action is None and operation in _ACTION_NAMES:
        action = Action(operation)
    if action is None or ResourceKind.SYSTEM not in APPLIES_TO[action]:
        return Decision(
            False,
            DEFAULT_DENY,
            f"role {actor.role!r} may not {operation} for purpose {purpose.value!r}: "
            "not an operation on the system",
        )
    req = request_for(actor, action, purpose, has_case_ref=requires_case_ref(purpose.value))
    return decide_request(req)


_ACTION_NAMES = frozenset(a.value for a in Action)
