"""The Cedar access policy: schema validation, the matrix cell by cell, a differential test
against the plain-Python oracle, explanations, and the adapter for the old operation names."""

from __future__ import annotations

import random
import re
import time
from dataclasses import replace
from importlib import resources
from typing import Any

import cedarpy
import policy_oracle as spec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leds.errors import AccessDenied, PurposeRequired
from leds.governance.identity import Actor, PurposeStatement, Role
from leds.governance.policy import (
    APPLIES_TO,
    DEFAULT_DENY,
    EVALUATION_ERROR,
    SYSTEM_ID,
    AccessRequest,
    Action,
    Agreement,
    Organisation,
    PolicyEngine,
    ResourceKind,
    decide,
    decide_many,
    decide_request,
    engine,
    explain,
    organisation,
    organisations,
    policy_text,
    request_for,
    schema_text,
)
from leds.model.codes import CASE_REQUIRED, Purpose

ROLES = tuple(r.value for r in Role)
PURPOSES = tuple(p.value for p in Purpose)
# Each role's own organisation: where every grant of the matrix is reachable.
HOME = {
    "constable": "WYP",
    "investigator": "MPS",
    "analyst": "GMP",
    "facial-search-operator": "NCA",
    "immigration-officer": "HOME-OFFICE",
    "dvla-enquiry": "DVLA",
    "data-steward": "LEDS",
    "auditor": "LEDS",
    "administrator": "LEDS",
}
SEARCH_VIEW_CELLS = [
    (role, action, "source", source)
    for role in ROLES
    for action in spec.SEARCH_VIEW
    for source in spec.SOURCES
] + [(role, "view_sensitive", "field_class", fc) for role in ROLES for fc in spec.FIELD_CLASSES]


def _req(
    role: str,
    action: str,
    kind: str,
    rid: str,
    purpose: str,
    *,
    org: str | Organisation | None = None,
    case: bool = True,
    step: bool = True,
    vetting: bool = True,
    training: bool = True,
) -> AccessRequest:
    chosen = org if isinstance(org, Organisation) else organisation(org or HOME[role])
    return AccessRequest(
        user_id=f"u-{role}",
        role=role,
        organisation=chosen,
        action=action,
        resource_kind=kind,
        resource_id=rid,
        purpose=purpose,
        has_case_ref=case,
        sensitive_step=step,
        vetting_valid=vetting,
        training_valid=training,
    )


# ---- the policy text ----------------------------------------------------------------------------
def test_policies_validate_against_the_schema() -> None:
    result = cedarpy.validate_policies(policy_text(), schema_text())
    assert result.validation_passed, [str(e) for e in result.errors]


def test_every_policy_has_a_unique_id_and_a_reason() -> None:
    infos = list(engine().info.values())
    ids = [i.id for i in infos]
    assert len(ids) == len(set(ids)) > 30
    assert all(not re.fullmatch(r"policy\d+", i) for i in ids)
    assert all(i.reason for i in infos)
    forbids = [i.id for i in infos if i.effect == "forbid"]
    assert forbids == [
        "forbid-vetting-expired",
        "forbid-training-expired",
        "forbid-outside-agreement-purpose",
        "forbid-outside-agreement-source",
        "forbid-outside-agreement-all-sources",
        "forbid-outside-agreement-field-class",
        "forbid-case-ref-missing",
        "forbid-sensitive-without-step",
    ]


@pytest.mark.parametrize("action", list(Action))
def test_applies_to_mirrors_the_schema(action: Action) -> None:
    eng = engine()
    ids = {"source": "pnc", "field_class": "identity", "system": SYSTEM_ID}
    types = {"source": "Source", "field_class": "FieldClass", "system": "System"}
    for kind in ResourceKind:
        request = {
            "principal": {"type": "User", "id": "constable|WYP|v1t1"},
            "action": {"type": "Action", "id": action.value},
            "resource": {"type": types[kind.value], "id": ids[kind.value]},
            "context": {"purpose": "stop", "has_case_ref": True, "sensitive_step": True},
        }
        result = cedarpy.is_authorized(request, eng.policy_set, eng.entities, schema=eng.schema)
        valid = not result.diagnostics.errors
        assert valid == (kind in APPLIES_TO[action]), (kind, result.diagnostics.errors)


def test_case_required_purposes_match_the_code_list() -> None:
    for purpose in Purpose:
        decision = decide_request(
            _req("constable", "list_imports", "system", "leds", purpose, case=False)
        )
        expected = "forbid-case-ref-missing" if purpose in CASE_REQUIRED else None
        assert (decision.rule if not decision.allowed else None) == expected, purpose


def test_matrix_md_is_the_oracle_s_matrix() -> None:
    text = resources.files("leds.governance.policy").joinpath("MATRIX.md").read_text("utf-8")
    block = text.split("<!-- matrix:begin -->\n", 1)[1].split("<!-- matrix:end -->", 1)[0]
    assert block.strip() == spec.render_matrix().strip()


def test_the_demo_organisations() -> None:
    orgs = organisations()
    assert {"WYP", "MPS", "GMP", "NCA", "HOME-OFFICE", "DVLA", "IOPC", "LEDS"} <= set(orgs)
    assert all(orgs[c].police for c in ("WYP", "MPS", "GMP", "NCA"))
    home_office = orgs["HOME-OFFICE"].agreement
    assert home_office is not None
    assert home_office.sources == {"iabs", "pnc"}
    assert home_office.purposes == {"immigration"}
    assert orgs["DVLA"].agreement == Agreement(
        frozenset({"dvla"}), frozenset({"admin-licensing"}), frozenset({"identity", "contact"})
    )
    assert organisation("NOBODY") == Organisation("NOBODY", "unknown organisation NOBODY", False)


# ---- the matrix, cell by cell -------------------------------------------------------------------
@pytest.mark.parametrize(("role", "action", "kind", "rid"), SEARCH_VIEW_CELLS)
def test_matrix_cell(role: str, action: str, kind: str, rid: str) -> None:
    base = [_req(role, action, kind, rid, p) for p in PURPOSES]
    for req, decision in zip(base, decide_many(base), strict=True):
        allowed = spec.granted(role, action, rid, req.purpose)
        assert decision.allowed == allowed, (req, decision)
        if not allowed:
            assert decision.rule == spec.oracle(req)[1], (req, decision)
            continue
        # Changing exactly one thing refuses.
        negatives: list[tuple[AccessRequest, str | None]] = [
            (replace(req, vetting_valid=False), "forbid-vetting-expired"),
            (replace(req, training_valid=False), "forbid-training-expired"),
        ]
        other_purposes = [
            p for p in PURPOSES if p != req.purpose and not spec.granted(role, action, rid, p)
        ]
        other_roles = [
            r for r in ROLES if r != role and not spec.granted(r, action, rid, req.purpose)
        ]
        assert other_purposes
        assert other_roles
        negatives += [(replace(req, purpose=p), None) for p in other_purposes]
        negatives += [(replace(req, role=r), None) for r in other_roles]
        if Purpose(req.purpose) in CASE_REQUIRED:
            negatives.append((replace(req, has_case_ref=False), "forbid-case-ref-missing"))
        if rid in spec.SENSITIVE:
            negatives.append((replace(req, sensitive_step=False), "forbid-sensitive-without-step"))
        decided = decide_many([n for n, _ in negatives])
        for (neg, rule), got in zip(negatives, decided, strict=True):
            assert not got.allowed, (neg, got)
            assert got.rule == (rule or spec.oracle(neg)[1]), (neg, got)


def test_matrix_has_allowed_and_refused_cells() -> None:
    cells = [(role, action, rid, p) for role, action, _, rid in SEARCH_VIEW_CELLS for p in PURPOSES]
    allowed = sum(spec.granted(*c) for c in cells)
    assert len(cells) == 9 * (5 * 5 + 8) * 13
    assert 100 < allowed < len(cells) // 2


# ---- refusals by organisation -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("req", "rule"),
    [
        (_req("constable", "search_person", "source", "dvla", "stop", org="DVLA"),
         "forbid-outside-agreement-purpose"),
        (_req("investigator", "search_person", "source", "pnc", "crime", org="HOME-OFFICE"),
         "forbid-outside-agreement-purpose"),
        (_req("facial-search-operator", "face_search", "source", "pnd", "immigration",
              org="HOME-OFFICE"), "forbid-outside-agreement-source"),
        (_req("auditor", "view_sensitive", "field_class", "health", "oversight", org="IOPC"),
         "forbid-outside-agreement-field-class"),
        (_req("auditor", "view_record", "system", "leds", "oversight",
              org=Organisation("PARTIAL", "partial", False, Agreement(
                  frozenset({"pnc"}), frozenset({"oversight"}), frozenset()))),
         "forbid-outside-agreement-all-sources"),
        (_req("auditor", "read_audit", "system", "leds", "oversight", org="NOBODY"),
         "forbid-outside-agreement-purpose"),
        (_req("auditor", "read_audit", "system", "leds", "admin-process", org="IOPC"),
         "forbid-outside-agreement-purpose"),
    ],
)  # fmt: skip
def test_a_non_police_organisation_is_bound_by_its_agreement(req: AccessRequest, rule: str) -> None:
    decision = decide_request(req)
    assert (decision.allowed, decision.rule) == (False, rule)
    assert spec.oracle(req) == (False, rule)


def test_what_an_agreement_allows_is_allowed() -> None:
    allowed = [
        _req("immigration-officer", "view_sensitive", "field_class", "immigration_status",
             "immigration"),
        _req("facial-search-operator", "face_search", "source", "iabs", "immigration",
             org="HOME-OFFICE"),
        _req("auditor", "read_audit", "system", "leds", "oversight", org="IOPC"),
        _req("constable", "list_imports", "system", "leds", "stop", org="NOBODY"),
    ]  # fmt: skip
    assert [d.allowed for d in decide_many(allowed)] == [True] * len(allowed)


# ---- differential: Cedar against the oracle -----------------------------------------------------
DIFFERENTIAL_N = 100_000


def _random_orgs(rng: random.Random) -> list[Organisation]:
    def some(values: tuple[str, ...]) -> frozenset[str]:
        return frozenset(v for v in values if rng.random() < 0.5)

    made = [
        Organisation("NOBODY", "no agreement", False),
        Organisation("BTP", "British Transport Police (not in the TOML)", True),
    ]
    for n in range(6):
        agreement = Agreement(some(spec.SOURCES), some(PURPOSES), some(spec.FIELD_CLASSES))
        made.append(Organisation(f"RANDOM-{n}", "random agreement", False, agreement))
    made.append(
        Organisation(
            "ALL-BUT-GENERIC",
            "every source but generic",
            False,
            Agreement(
                frozenset(spec.SOURCES) - {"generic"},
                frozenset(PURPOSES),
                frozenset(spec.FIELD_CLASSES),
            ),
        )
    )
    made.append(
        Organisation(
            "ALL",
            "every source",
            False,
            Agreement(frozenset(spec.SOURCES), frozenset(PURPOSES), frozenset(spec.FIELD_CLASSES)),
        )
    )
    return [*organisations().values(), *made]


def _random_requests(n: int, seed: int) -> list[AccessRequest]:
    rng = random.Random(seed)
    orgs = _random_orgs(rng)
    actions = [a.value for a in Action]
    reqs: list[AccessRequest] = []
    for i in range(n):
        if i % 2:  # uniform over every attribute
            role = rng.choice(ROLES)
            action = rng.choice(actions)
            kind: str = rng.choice(sorted(APPLIES_TO[Action(action)]))
            rid = rng.choice(
                {"source": spec.SOURCES, "field_class": spec.FIELD_CLASSES, "system": ("leds",)}[
                    kind
                ]
            )
            purpose = rng.choice(PURPOSES)
        else:  # near a grant (so that allows are common), the rest random
            grant = rng.choice(spec.GRANTS)
            role = rng.choice(ROLES) if grant.role == spec.ALL else grant.role
            action = rng.choice(grant.actions)
            rid = rng.choice(grant.resources)
            kind = (
                "system"
                if rid == "leds"
                else "field_class"
                if rid in spec.FIELD_CLASSES
                else "source"
            )
            purpose = rng.choice(sorted(spec.PURPOSE_GROUPS[grant.purposes]))
        reqs.append(
            AccessRequest(
                user_id=f"user{i}",
                role=role,
                organisation=rng.choice(orgs),
                action=action,
                resource_kind=kind,
                resource_id=rid,
                purpose=purpose,
                has_case_ref=rng.random() < 0.8,
                sensitive_step=rng.random() < 0.6,
                vetting_valid=rng.random() < 0.92,
                training_valid=rng.random() < 0.92,
            )
        )
    return reqs


def test_cedar_agrees_with_the_oracle_on_random_requests(
    capsys: pytest.CaptureFixture[str],
) -> None:
    reqs = _random_requests(DIFFERENTIAL_N, seed=20240611)
    engine()  # parse once, outside the timing
    start = time.perf_counter()
    decisions = decide_many(reqs)
    cedar_s = time.perf_counter() - start
    mismatches = []
    for req, got in zip(reqs, decisions, strict=True):
        allowed, rule = spec.oracle(req)
        if got.allowed != allowed or (not allowed and got.rule != rule):
            mismatches.append((req, got, rule))
    total_s = time.perf_counter() - start
    allows = sum(d.allowed for d in decisions)
    rules = {d.rule for d in decisions if not d.allowed}
    with capsys.disabled():
        print(
            f"\ndifferential: {len(reqs)} requests, {allows} allowed, {len(mismatches)} "
            f"mismatches; cedar {cedar_s:.1f}s ({len(reqs) / cedar_s:,.0f}/s), "
            f"with oracle {total_s:.1f}s"
        )
    assert not mismatches, mismatches[:5]
    assert allows > 10_000
    assert len(reqs) - allows > 10_000
    assert rules >= {i.id for i in engine().info.values() if i.effect == "forbid"} | {DEFAULT_DENY}
    assert total_s < 60, "the differential test should take well under a minute"


def _requests() -> st.SearchStrategy[AccessRequest]:
    orgs = [*organisations().values(), Organisation("NOBODY", "none", False)]

    @st.composite
    def build(draw: st.DrawFn) -> AccessRequest:
        action = draw(st.sampled_from(list(Action)))
        kind = draw(st.sampled_from(sorted(APPLIES_TO[action])))
        rid = draw(
            st.sampled_from(
                {"source": spec.SOURCES, "field_class": spec.FIELD_CLASSES, "system": ("leds",)}[
                    kind
                ]
            )
        )
        return AccessRequest(
            user_id="h",
            role=draw(st.sampled_from(ROLES)),
            organisation=draw(st.sampled_from(orgs)),
            action=action.value,
            resource_kind=kind,
            resource_id=rid,
            purpose=draw(st.sampled_from(PURPOSES)),
            has_case_ref=draw(st.booleans()),
            sensitive_step=draw(st.booleans()),
            vetting_valid=draw(st.booleans()),
            training_valid=draw(st.booleans()),
        )

    return build()


@settings(max_examples=300, deadline=None)
@given(_requests())
def test_single_decisions_agree_with_the_oracle(req: AccessRequest) -> None:
    decision = decide_request(req)
    allowed, rule = spec.oracle(req)
    assert decision.allowed == allowed
    if not allowed:
        assert decision.rule == rule


def test_a_batch_decides_as_single_calls_do_in_order() -> None:
    reqs = _random_requests(400, seed=7)
    reqs += reqs[:50]  # duplicates are decided once, answered everywhere
    assert decide_many(reqs) == [decide_request(r) for r in reqs]
    assert decide_many([]) == []


def test_remembered_decisions_are_the_ones_cedar_gave_and_cedar_is_not_asked_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    eng = engine()
    reqs = _random_requests(300, seed=11)
    eng._memo.clear()
    first = decide_many(reqs)
    eng._memo.clear()
    assert [decide_request(r) for r in reqs] == first  # one at a time, from Cedar again

    def no_cedar(_reqs: Any) -> Any:
        raise AssertionError("Cedar was asked about a decision already taken")

    monkeypatch.setattr(eng, "_decide_distinct", no_cedar)
    assert decide_many(reqs) == first
    # a request differing in one fact the decision depends on is a new question
    other = replace(reqs[0], vetting_valid=not reqs[0].vetting_valid)
    with pytest.raises(AssertionError, match="already taken"):
        decide_many([other])


def test_the_memory_of_decisions_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    engine_module = sys.modules[type(engine()).__module__]
    eng = engine()
    eng._memo.clear()
    monkeypatch.setattr(engine_module, "_MEMO_SIZE", 10)
    decide_many(_random_requests(200, seed=12))
    assert len(eng._memo) <= 10


# ---- explanations -------------------------------------------------------------------------------
def test_explain_names_the_permit_of_an_allow() -> None:
    text = explain(_req("constable", "search_vehicle", "source", "dvla", "stop"))
    assert "decision: ALLOW (rule constable-vehicle)" in text
    assert "  - constable-vehicle (permit): " in text
    assert "errors:\n  - none" in text


def test_explain_names_the_forbid_of_a_refusal() -> None:
    req = _req("investigator", "search_text", "source", "pnd", "crime", vetting=False, case=False)
    text = explain(req)
    assert "decision: DENY (rule forbid-vetting-expired)" in text
    assert "  - forbid-vetting-expired (forbid): " in text
    assert "  - forbid-case-ref-missing (forbid): " in text
    assert "vetting:      EXPIRED" in text


def test_explain_names_the_default_deny() -> None:
    text = explain(_req("constable", "search_text", "source", "pnd", "stop"))
    assert "decision: DENY (rule default-deny)" in text
    assert "none (default-deny: no permit matched)" in text


def test_an_evaluation_error_refuses() -> None:
    broken = PolicyEngine(
        '@id("allow-all") permit (principal, action, resource);\n'
        '@id("broken") forbid (principal, action, resource) when { context.missing };\n',
        schema_text(),
    )
    decision = broken.decide_many([_req("constable", "search_person", "source", "pnc", "stop")])[0]
    assert (decision.allowed, decision.rule) == (False, EVALUATION_ERROR)
    assert decision.errors
    assert "missing" in broken.explain(_req("auditor", "read_audit", "system", "leds", "oversight"))


# ---- requests -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"role": "superuser"}, AccessDenied),
        ({"action": "delete_everything"}, AccessDenied),
        ({"purpose": "personal"}, PurposeRequired),
        ({"resource_kind": "system", "resource_id": "leds"}, AccessDenied),
        ({"resource_id": "interpol"}, AccessDenied),
    ],
)
def test_a_malformed_request_is_refused(change: dict[str, Any], error: type[Exception]) -> None:
    good = _req("constable", "search_person", "source", "pnc", "stop")
    with pytest.raises(error):
        replace(good, **change)


def test_request_for_builds_from_an_actor() -> None:
    actor = Actor("io7", "immigration-officer", "HOME-OFFICE")
    req = request_for(actor, "view_sensitive", Purpose.IMMIGRATION, field_class="biometric_image")
    assert (req.resource_kind, req.resource_id, req.purpose) == (
        "field_class",
        "biometric_image",
        "immigration",
    )
    assert req.organisation == organisations()["HOME-OFFICE"]
    assert not decide_request(req).allowed  # no further step
    stepped = request_for(
        actor, "view_sensitive", "immigration", field_class="biometric_image", sensitive_step=True
    )
    assert decide_request(stepped).allowed
    assert request_for(actor, "list_imports", "immigration").resource_id == SYSTEM_ID
    statement = PurposeStatement.of("crime", "burglary series on the estate", "CASE-1")
    assert request_for(actor, "search_person", statement, source="pnc").has_case_ref
    assert not request_for(actor, "search_person", Purpose.CRIME, source="pnc").has_case_ref
    with pytest.raises(AccessDenied):
        request_for(actor, "view_record", "immigration", source="pnc", field_class="identity")


# ---- the adapter keeps the old table's outcomes -------------------------------------------------
_OLD_STEWARDS = {"data-steward", "administrator"}
_OLD_ADMIN = {"admin-process", "oversight"}
OLD_TABLE = {  # the plain rule table this package replaced
    "import_source": (_OLD_STEWARDS, _OLD_ADMIN),
    "list_imports": (set(ROLES), set(PURPOSES)),
    "list_rejections": (_OLD_STEWARDS | {"auditor"}, _OLD_ADMIN),
    "read_record": (_OLD_STEWARDS | {"auditor"}, _OLD_ADMIN),
    "read_audit": ({"auditor"}, _OLD_ADMIN),
}
# Deliberate change (MATRIX.md): an administrator reads no personal data.
CHANGED = {("administrator", "list_rejections"), ("administrator", "read_record")}


@pytest.mark.parametrize("operation", list(OLD_TABLE))
@pytest.mark.parametrize("role", ROLES)
def test_the_adapter_keeps_the_old_outcomes(operation: str, role: str) -> None:
    roles, purposes = OLD_TABLE[operation]
    actor = Actor("someone", role, "LEDS")
    for purpose in Purpose:
        decision = decide(actor, operation, purpose)
        old = role in roles and purpose.value in purposes
        if (role, operation) in CHANGED:
            assert not decision.allowed
        else:
            assert decision.allowed == old, (role, operation, purpose, decision)


def test_the_adapter_for_the_service_s_callers() -> None:
    constable = decide(Actor("pc123", "constable", "WYP"), "import_source", Purpose.STOP)
    assert (constable.allowed, constable.rule) == (False, DEFAULT_DENY)
    assert "constable" in constable.reason
    auditor = Actor("aud1", "auditor", "IOPC")
    assert decide(auditor, "read_audit", Purpose.OVERSIGHT).allowed
    steward = Actor("steward1", "data-steward", "LEDS")
    assert decide(steward, "read_audit", Purpose.OVERSIGHT).rule == DEFAULT_DENY
    assert decide(steward, "import_source", Purpose.ADMIN_PROCESS).allowed
    assert decide(steward, "merge_split", Purpose.ADMIN_PROCESS).allowed
    unknown = decide(steward, "format_disk", Purpose.ADMIN_PROCESS)
    assert (unknown.allowed, unknown.rule) == (False, DEFAULT_DENY)
    assert not decide(steward, "search_person", Purpose.ADMIN_PROCESS).allowed
