"""A plain-Python statement of the leds access rules: the oracle the Cedar policies are checked
against.

Written from the access design (MISSION.md, MATRIX.md), not from ``policies.cedar``: the
grants are a table of rows, the refusals a list of predicates in their order of precedence.
It also renders the tables of MATRIX.md, so the document cannot drift from what is tested.
"""

from __future__ import annotations

from dataclasses import dataclass

from leds.governance.identity import Role
from leds.governance.policy import AccessRequest
from leds.model.codes import CASE_REQUIRED, Purpose, SourceSystem

SOURCES = tuple(s.value for s in SourceSystem)
FIELD_CLASSES = (
    "identity",
    "contact",
    "offending",
    "intelligence",
    "warning",
    "health",
    "biometric_image",
    "immigration_status",
)
SENSITIVE = frozenset(
    {"intelligence", "warning", "health", "biometric_image", "immigration_status"}
)
SYSTEM = "leds"

# Purpose groups (MATRIX.md).
PURPOSE_GROUPS: dict[str, frozenset[str]] = {
    "operational": frozenset(
        {
            "stop",
            "process-warning",
            "accident",
            "arrest",
            "unattended-vehicle",
            "crime",
            "safeguarding",
        }
    ),
    "investigation": frozenset(
        {"crime", "arrest", "intelligence", "crime-support", "safeguarding"}
    ),
    "analysis": frozenset({"intelligence", "crime-support"}),
    "biometric": frozenset({"crime", "safeguarding", "immigration"}),
    "immigration": frozenset({"immigration"}),
    "licensing": frozenset({"admin-licensing"}),
    "stewardship": frozenset({"admin-process", "oversight"}),
    "oversight": frozenset({"oversight"}),
    "administration": frozenset({"admin-process"}),
    "any": frozenset(p.value for p in Purpose),
}

# Actions that reach personal data: the ones a data-sharing agreement bounds.
PERSONAL_DATA = frozenset(
    {
        "search_person",
        "search_vehicle",
        "search_property",
        "search_text",
        "view_record",
        "view_sensitive",
        "face_search",
        "fingerprint_search",
        "export",
        "merge_split",
        "erase_record",
        "import_source",
        "list_rejections",
        "read_audit",
        "link_records",
        "link_explain",
        "biometric_review",
        "biometric_enrol",
    }
)
# Actions whose System resource means "every source".
ACROSS_SOURCES = frozenset({"view_record", "import_source", "list_rejections", "merge_split"})


@dataclass(frozen=True)
class Grant:
    """One row of the matrix: ``role`` may do ``actions`` on ``resources`` for ``purposes``."""

    role: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]  # source names, field-class names, or "leds" (the System)
    purposes: str  # a PURPOSE_GROUPS key


ALL = "*"  # any role

GRANTS: tuple[Grant, ...] = (
    # constable: PNC, DVLA and the PND summary (no free-text intelligence)
    Grant("constable", ("search_person", "view_record"), ("pnc", "pnd", "dvla"), "operational"),
    Grant("constable", ("search_vehicle",), ("pnc", "dvla"), "operational"),
    Grant("constable", ("search_property",), ("pnc",), "operational"),
    Grant(
        "constable",
        ("view_sensitive",),
        ("identity", "contact", "offending", "warning"),
        "operational",
    ),
    # investigator: all four source systems
    Grant(
        "investigator",
        ("search_person", "view_record"),
        ("pnc", "pnd", "dvla", "iabs"),
        "investigation",
    ),
    Grant("investigator", ("search_vehicle",), ("pnc", "dvla"), "investigation"),
    Grant("investigator", ("search_property",), ("pnc",), "investigation"),
    Grant("investigator", ("search_text",), ("pnd",), "investigation"),
    Grant("investigator", ("link_explain",), (SYSTEM,), "investigation"),
    Grant(
        "investigator",
        ("view_sensitive",),
        FIELD_CLASSES[:-1],  # everything but immigration status
        "investigation",
    ),
    # analyst: PNC and PND, audited export
    Grant("analyst", ("search_person", "view_record", "export"), ("pnc", "pnd"), "analysis"),
    Grant("analyst", ("search_vehicle", "search_property"), ("pnc",), "analysis"),
    Grant("analyst", ("search_text",), ("pnd",), "analysis"),
    Grant("analyst", ("link_explain",), (SYSTEM,), "analysis"),
    Grant(
        "analyst",
        ("view_sensitive",),
        ("identity", "contact", "offending", "intelligence"),
        "analysis",
    ),
    # facial-search operator: the face galleries (PND custody images, IABS), IABS fingerprints
    Grant("facial-search-operator", ("face_search", "view_record"), ("pnd", "iabs"), "biometric"),
    Grant("facial-search-operator", ("fingerprint_search",), ("iabs",), "biometric"),
    Grant("facial-search-operator", ("biometric_review",), (SYSTEM,), "biometric"),
    Grant(
        "facial-search-operator",
        ("view_sensitive",),
        ("identity", "biometric_image"),
        "biometric",
    ),
    Grant("facial-search-operator", ("biometric_performance",), (SYSTEM,), "biometric"),
    # immigration officer: IABS and PNC
    Grant("immigration-officer", ("search_person", "view_record"), ("iabs", "pnc"), "immigration"),
    Grant("immigration-officer", ("fingerprint_search",), ("iabs",), "immigration"),
    Grant("immigration-officer", ("biometric_review",), (SYSTEM,), "immigration"),
    Grant(
        "immigration-officer",
        ("view_sensitive",),
        ("identity", "offending", "immigration_status", "biometric_image"),
        "immigration",
    ),
    Grant("immigration-officer", ("biometric_performance",), (SYSTEM,), "immigration"),
    # DVLA enquiry: DVLA only
    Grant(
        "dvla-enquiry",
        ("search_person", "search_vehicle", "view_record"),
        ("dvla",),
        "licensing",
    ),
    Grant("dvla-enquiry", ("view_sensitive",), ("identity", "contact"), "licensing"),
    # data steward: every source, and the System (= every source)
    Grant("data-steward", ("import_source", "view_record"), (*SOURCES, SYSTEM), "stewardship"),
    Grant("data-steward", ("list_rejections",), (SYSTEM,), "stewardship"),
    Grant("data-steward", ("view_sensitive",), FIELD_CLASSES, "stewardship"),
    Grant("data-steward", ("merge_split",), (SYSTEM,), "administration"),
    Grant("data-steward", ("erase_record",), SOURCES, "administration"),
    Grant("data-steward", ("link_records",), (SYSTEM,), "administration"),
    Grant("data-steward", ("link_explain", "link_evaluate"), (SYSTEM,), "stewardship"),
    Grant(
        "data-steward",
        ("biometric_enrol", "biometric_evaluate", "threshold_propose"),
        (SYSTEM,),
        "administration",
    ),
    Grant("data-steward", ("data_quality", "biometric_performance"), (SYSTEM,), "stewardship"),
    # auditor: the audit log, and records under review
    Grant("auditor", ("read_audit", "verify_audit", "list_rejections"), (SYSTEM,), "stewardship"),
    Grant("auditor", ("view_record",), (*SOURCES, SYSTEM), "stewardship"),
    Grant("auditor", ("view_sensitive",), FIELD_CLASSES, "stewardship"),
    Grant("auditor", ("link_evaluate", "biometric_evaluate"), (SYSTEM,), "stewardship"),
    Grant("auditor", ("threshold_approve",), (SYSTEM,), "oversight"),
    Grant("auditor", ("data_quality", "biometric_performance"), (SYSTEM,), "stewardship"),
    # administrator: accounts and loading, no reading of personal data
    Grant("administrator", ("manage_users",), (SYSTEM,), "administration"),
    Grant("administrator", ("import_source",), (*SOURCES, SYSTEM), "stewardship"),
    Grant("administrator", ("data_quality",), (SYSTEM,), "stewardship"),
    # everyone: the list of imports (counts and files, no personal data)
    Grant(ALL, ("list_imports",), (SYSTEM,), "any"),
)


def granted(role: str, action: str, resource: str, purpose: str) -> bool:
    """Whether some row of the matrix grants this (ignoring every refusal)."""
    return any(
        g.role in (role, ALL)
        and action in g.actions
        and resource in g.resources
        and purpose in PURPOSE_GROUPS[g.purposes]
        for g in GRANTS
    )


def refusal(req: AccessRequest) -> str | None:
    """The refusal that applies to ``req`` (first in precedence order), or None."""
    org = req.organisation
    terms = org.agreement
    bound = not org.police and req.action in PERSONAL_DATA
    checks: tuple[tuple[str, bool], ...] = (
        ("forbid-vetting-expired", not req.vetting_valid),
        ("forbid-training-expired", not req.training_valid),
        (
            "forbid-outside-agreement-purpose",
            bound and (terms is None or req.purpose not in terms.purposes),
        ),
        (
            "forbid-outside-agreement-source",
            bound
            and req.resource_kind == "source"
            and (terms is None or req.resource_id not in terms.sources),
        ),
        (
            "forbid-outside-agreement-all-sources",
            not org.police
            and req.action in ACROSS_SOURCES
            and req.resource_kind == "system"
            and (terms is None or not set(SOURCES) <= terms.sources),
        ),
        (
            "forbid-outside-agreement-field-class",
            bound
            and req.resource_kind == "field_class"
            and (terms is None or req.resource_id not in terms.field_classes),
        ),
        (
            "forbid-case-ref-missing",
            Purpose(req.purpose) in CASE_REQUIRED and not req.has_case_ref,
        ),
        (
            "forbid-sensitive-without-step",
            req.action == "view_sensitive"
            and req.resource_id in SENSITIVE
            and not req.sensitive_step,
        ),
    )
    for rule, applies in checks:
        if applies:
            return rule
    return None


def oracle(req: AccessRequest) -> tuple[bool, str | None]:
    """(allowed, deny rule): the rule is the refusal's id, or "default-deny", or None."""
    refused = refusal(req)
    if refused is not None:
        return False, refused
    if granted(req.role, req.action, req.resource_id, req.purpose):
        return True, None
    return False, "default-deny"


# ---- MATRIX.md --------------------------------------------------------------------------------
SEARCH_VIEW = ("search_person", "search_vehicle", "search_property", "search_text", "view_record")
_SHORT = {
    "search_person": "person",
    "search_vehicle": "vehicle",
    "search_property": "property",
    "search_text": "text",
    "view_record": "record",
    "face_search": "face",
    "fingerprint_search": "fingerprint",
    "export": "export",
    "import_source": "import",
}


def render_matrix() -> str:
    """The generated tables of MATRIX.md (between its matrix:begin/end markers)."""
    roles = [r.value for r in Role]
    out = ["### Grants (one row per rule)", ""]
    out.append("| role | actions | resources | purposes |")
    out.append("|---|---|---|---|")
    for g in GRANTS:
        role = "any role" if g.role == ALL else g.role
        resources = ", ".join(g.resources)
        out.append(f"| {role} | {', '.join(g.actions)} | {resources} | {g.purposes} |")
    out += ["", "### Purpose groups", "", "| group | purposes |", "|---|---|"]
    for name, codes in PURPOSE_GROUPS.items():
        listed = "every purpose code" if name == "any" else ", ".join(sorted(codes))
        out.append(f"| {name} | {listed} |")
    out += ["", "### Role x source (searches, record view, biometric search, export, import)", ""]
    out.append("| role | " + " | ".join(SOURCES) + " |")
    out.append("|---|" + "---|" * len(SOURCES))
    for role in roles:
        cells = []
        for source in SOURCES:
            acts = [
                _SHORT[a]
                for a in _SHORT
                if any(granted(role, a, source, p) for p in PURPOSE_GROUPS["any"])
            ]
            cells.append(", ".join(acts) or "-")
        out.append(f"| {role} | " + " | ".join(cells) + " |")
    out += ["", "### Role x field class (view_sensitive; * needs the further step)", ""]
    heads = [f"{f}*" if f in SENSITIVE else f for f in FIELD_CLASSES]
    out.append("| role | " + " | ".join(heads) + " |")
    out.append("|---|" + "---|" * len(FIELD_CLASSES))
    for role in roles:
        cells = [
            "yes"
            if any(granted(role, "view_sensitive", f, p) for p in PURPOSE_GROUPS["any"])
            else "-"
            for f in FIELD_CLASSES
        ]
        out.append(f"| {role} | " + " | ".join(cells) + " |")
    out += ["", "### Role x purpose (any action but list_imports, which every role has)", ""]
    purposes = [p.value for p in Purpose]
    out.append("| role | " + " | ".join(purposes) + " |")
    out.append("|---|" + "---|" * len(purposes))
    for role in roles:
        groups = [PURPOSE_GROUPS[g.purposes] for g in GRANTS if g.role == role]
        cells = ["yes" if any(p in group for group in groups) else "-" for p in purposes]
        out.append(f"| {role} | " + " | ".join(cells) + " |")
    return "\n".join(out)
