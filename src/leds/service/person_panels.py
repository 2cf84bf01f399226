"""The person page's panels through the one door (UI.md screen 4): the linkage evidence that
joined the person's records, the intelligence and disposals (convictions apart from
non-conviction information), the enrolled biometric templates, and what the policy lets a
page offer (a question, not an operation: nothing read, nothing recorded).

Each operation is authorised, minimised and recorded like every other: one consultation entry
naming the person and every record shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, or_, select

from leds.errors import NotFound
from leds.governance.authn import AuthenticatedUser
from leds.governance.identity import PurposeStatement
from leds.governance.minimise import MinimisedRecord, allowed_classes, minimise
from leds.model.codes import AuditKind
from leds.service._base import SOURCES, Result, ServiceBase

LINK_PAIRS_MAX = 10  # the linkage panel shows at most this many pairs
INTEL_MAX = 100  # intelligence reports and disposals shown per person (newest first)
# Disposal outcomes that are convictions; every other outcome is non-conviction information.
CONVICTION_OUTCOMES = frozenset({"convicted", "guilty", "conviction"})


@dataclass(frozen=True, slots=True)
class LinkedPair:
    """A stored link between two of the person's records and its weight when linked."""

    record_a: int
    record_b: int
    label_a: str  # source:source_record_id
    label_b: str
    probability: float
    match_weight: float  # log2(p / (1 - p)), bounded to +-60
    kind: str  # held (holds the person together) | within (a further link inside it)


@dataclass(frozen=True, slots=True)
class PersonLinks:
    person_id: str | None
    records: int  # the person's person (nominal) records
    pairs: list[LinkedPair]
    more: int  # further links not shown


@dataclass(frozen=True, slots=True)
class PersonIntelligence:
    """PND intelligence and PNC disposals, minimised; convictions apart from the rest."""

    key: str
    intelligence: list[MinimisedRecord]
    convictions: list[MinimisedRecord]
    non_conviction: list[MinimisedRecord]
    undetermined: list[MinimisedRecord]  # disposals whose outcome the user may not see
    not_permitted: list[str]  # of pnc, pnd
    sensitive_step: bool


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    template_id: int
    modality: str
    source: str
    record_id: int | None
    sample_ref: str
    quality: int | None
    algorithm: str
    enrolled_at: datetime
    removed: bool


@dataclass(frozen=True, slots=True)
class PersonBiometrics:
    key: str
    templates: list[TemplateInfo]
    not_permitted: list[str]
    probe_available: bool = False  # enrolled templates carry no image to search with
    notes: list[str] = field(default_factory=list)


def _weight(p: float) -> float:
    if p >= 1.0:
        return 60.0
    if p <= 0.0:
        return -60.0
    return max(-60.0, min(60.0, math.log2(p / (1.0 - p))))


def _person_records(conn: Connection, key: str) -> tuple[str | None, list[int]]:
    """The person id and its (nominal) record ids, for ``L...``, ``R<id>`` or an id."""
    from leds.link import index
    from leds.store.schema import records

    text = key.strip()
    if text.startswith("R") and text[1:].isdigit():
        text = text[1:]
    if text.isdigit():
        rid = int(text)
        pid = index.persons_of(conn, [rid]).get(rid)
        ids = index.records_of(conn, pid) if pid else [rid]
    else:
        pid, ids = text, index.records_of(conn, text)
    nominal = [
        int(r)
        for r in conn.execute(
            select(records.c.id).where(records.c.id.in_(ids), records.c.kind == "person")
        ).scalars()
    ]
    if not nominal:
        raise NotFound(f"no person {key!r}", hint="use a person id or a record id from a search")
    return pid, sorted(nominal)


class PersonPanelOps(ServiceBase):
    """Operations behind the person page's panels and tabs."""

    def may(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        action: str,
        sources: tuple[str, ...] = (),
        *,
        field_class: str | None = None,
        sensitive_step: bool = False,
    ) -> bool:
        """Would the policy allow ``action`` (on any of ``sources``, on ``field_class``, or on
        the System)? A question, not an operation: nothing is read or recorded. Pages use it
        to offer only what the user may do (asking by calling would record a refusal on every
        view)."""
        targets: tuple[str | None, ...] = sources or (None,)
        decisions = self._decisions(
            user, purpose, action, targets, field_class=field_class, sensitive_step=sensitive_step
        )
        return any(d.allowed for d in decisions)

    def person_links(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        key: str,
        *,
        limit: int = LINK_PAIRS_MAX,
    ) -> Result[PersonLinks]:
        """The stored links that join the person's records (those holding the person
        together first, strongest first), at most ``limit``, each with its match weight when
        linked. ``link_explain`` of a pair gives the comparison-by-comparison waterfall."""
        from leds.link import index
        from leds.service.link import _label

        query = {"person": str(key), "limit": limit}
        decision = self._authorise(user, purpose, "link_explain", query)
        with self._store.engine.connect() as conn:
            pid, ids = _person_records(conn, str(key))
            own = set(ids)
            links = [
                (a, b, p, kind)
                for a, b, p, kind in index.links_of(conn, ids)
                if a in own and b in own and kind in ("held", "within")
            ]
            links.sort(key=lambda x: (x[3] != "held", -x[2], x[0], x[1]))
            shown = links[:limit]
            pairs = [
                LinkedPair(a, b, _label(conn, a), _label(conn, b), p, _weight(p), kind)
                for a, b, p, kind in shown
            ]
        named = sorted({r for x in pairs for r in (x.record_a, x.record_b)})
        seq = self._record(
            AuditKind.CONSULTATION,
            user,
            purpose,
            "person_links",
            query,
            decision,
            ([f"person/{pid}"] if pid else []) + [f"record/{r}" for r in named],
            {"pairs": len(pairs), "links": len(links)},
        )
        return Result(PersonLinks(pid, len(ids), pairs, len(links) - len(pairs)), seq)

    def person_intelligence(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        key: str,
        *,
        sensitive: str | None = None,
    ) -> Result[PersonIntelligence]:
        """The person's PND intelligence reports (with grading and handling code once the
        sensitive-data step is taken: ``sensitive`` is its justification, recorded) and PNC
        disposals, convictions apart from non-conviction information. Minimised like a
        record view; sources the user may not view are listed, not searched."""
        from leds.search.views import person_view

        query: dict[str, Any] = {"person": str(key), "sensitive_step": sensitive is not None}
        if sensitive is not None:
            query["sensitive_justification"] = sensitive
        decision, allowed = self._authorise_sources(
            user, purpose, "view_record", query, ("pnc", "pnd")
        )
        classes = {
            s: allowed_classes(
                user.actor,
                purpose,
                s,
                sensitive_step=sensitive is not None,
                sensitive_justification=sensitive,
                vetting_valid=user.vetting_valid,
                training_valid=user.training_valid,
            )
            for s in sorted(allowed)
        }
        with self._store.engine.connect() as conn:
            view = person_view(conn, str(key))

        def shown(rec: Any) -> MinimisedRecord:
            ok, reasons = classes[rec.source]
            return minimise(rec, ok, reasons=reasons)

        intel = [shown(r) for r in view.intelligence if r.source in allowed][:INTEL_MAX]
        disposals = [
            r
            for r in view.events
            if r.source == "pnc" and r.kind == "disposal" and "pnc" in allowed
        ]
        disposals.sort(key=lambda r: str(r.payload.get("date") or ""), reverse=True)
        convictions: list[MinimisedRecord] = []
        other: list[MinimisedRecord] = []
        unknown: list[MinimisedRecord] = []
        for rec in disposals[:INTEL_MAX]:
            m = shown(rec)
            outcome = m.payload.get("outcome")
            if outcome is None:
                unknown.append(m)
            elif str(outcome).strip().lower() in CONVICTION_OUTCOMES:
                convictions.append(m)
            else:
                other.append(m)
        every = [*intel, *convictions, *other, *unknown]
        withheld = sorted({w.field for m in every for w in m.withheld})
        seq = self._record(
            AuditKind.CONSULTATION,
            user,
            purpose,
            "person_intelligence",
            {**query, "sources": sorted(allowed)},
            decision,
            ([f"person/{view.person_id}"] if view.person_id else [])
            + [f"record/{m.record_id}" for m in every],
            {"intelligence": len(intel), "disposals": len(disposals), "withheld": withheld},
        )
        value = PersonIntelligence(
            view.key,
            intel,
            convictions,
            other,
            unknown,
            [s for s in ("pnc", "pnd") if s not in allowed],
            sensitive is not None,
        )
        return Result(value, seq)

    def person_biometrics(
        self, user: AuthenticatedUser, purpose: PurposeStatement, key: str
    ) -> Result[PersonBiometrics]:
        """The face and fingerprint templates enrolled from the person's records (source,
        date, quality, algorithm; never an image), for the sources the user may view."""
        from leds.search.views import person_view
        from leds.store.schema import records
        from leds.store.tables_biometrics import biometric_templates as bt

        query = {"person": str(key)}
        decision, allowed = self._authorise_sources(user, purpose, "view_record", query)
        with self._store.engine.connect() as conn:
            view = person_view(conn, str(key))
            ids = view.record_ids
            rows = conn.execute(
                select(bt, records.c.source)
                .join(records, records.c.id == bt.c.record_id, isouter=True)
                .where(or_(bt.c.record_id.in_(ids), bt.c.subject_record_id.in_(ids)))
                .order_by(bt.c.modality, bt.c.enrolled_at, bt.c.id)
            ).all()
        templates = [
            TemplateInfo(
                int(r.id),
                str(r.modality),
                str(r.source),
                None if r.record_id is None else int(r.record_id),
                str(r.sample_ref),
                None if r.quality is None else int(r.quality),
                str(r.algorithm),
                r.enrolled_at,
                r.removed_at is not None,
            )
            for r in rows
            if r.source in allowed
        ]
        seq = self._record(
            AuditKind.CONSULTATION,
            user,
            purpose,
            "person_biometrics",
            {**query, "sources": sorted(allowed)},
            decision,
            ([f"person/{view.person_id}"] if view.person_id else [])
            + sorted({f"record/{t.record_id}" for t in templates if t.record_id is not None}),
            {"templates": len(templates)},
        )
        value = PersonBiometrics(view.key, templates, [s for s in SOURCES if s not in allowed])
        return Result(value, seq)
