"""Search through the one door: persons (QUEST-like), vehicles (VODS-like), property,
identifiers, free text, and the consolidated person and vehicle views.

Each search is authorised source by source: it reaches only the sources the user may search
for the purpose, and is refused (and the refusal recorded) when it reaches none. Every record
in a result is minimised for the user before it leaves (records of a source the user may not
view are dropped, and so are the view's summaries drawn from such a source); the consultation
entry names every record and person shown.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from typing import Any

from leds.errors import LedsError
from leds.governance.authn import AuthenticatedUser
from leds.governance.identity import PurposeStatement
from leds.governance.minimise import MinimisedRecord, allowed_classes, minimise
from leds.model.codes import AuditKind
from leds.service._base import SOURCES, Result, ServiceBase
from leds.store.base import StoredRecord

# Summaries of the person view and the source they are drawn from.
_VIEW_SUMMARIES = {"custody": "pnd", "intelligence": "pnd", "immigration": "iabs"}


class _Minimiser:
    """Replaces every StoredRecord in a result by what the user may see of it."""

    def __init__(
        self, service: ServiceBase, user: AuthenticatedUser, purpose: PurposeStatement
    ) -> None:
        self._user = user
        self._purpose = purpose
        self._classes: dict[str, tuple[set[str], dict[str, str]]] = {}
        self.shown: list[int] = []

    def _allowed(self, source: str) -> tuple[set[str], dict[str, str]]:
        if source not in self._classes:
            self._classes[source] = allowed_classes(
                self._user.actor,
                self._purpose,
                source,
                sensitive_step=False,
                sensitive_justification=None,
                vetting_valid=self._user.vetting_valid,
                training_valid=self._user.training_valid,
            )
        return self._classes[source]

    def visible(self, source: str) -> bool:
        return bool(self._allowed(source)[0])

    def record(self, rec: StoredRecord) -> MinimisedRecord | None:
        allowed, reasons = self._allowed(rec.source)
        if not allowed:
            return None
        self.shown.append(rec.id)
        return minimise(rec, allowed, reasons=reasons)

    def walk(self, value: Any) -> Any:
        if isinstance(value, StoredRecord):
            return self.record(value)
        if isinstance(value, list):
            out = [self.walk(v) for v in value]
            return [v for v, raw in zip(out, value, strict=True) if v is not None or raw is None]
        if isinstance(value, tuple):
            return tuple(self.walk(v) for v in value)
        if isinstance(value, dict):
            return {k: self.walk(v) for k, v in value.items()}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            for f in dataclasses.fields(value):
                object.__setattr__(value, f.name, self.walk(getattr(value, f.name)))
            return value
        return value


class SearchOps(ServiceBase):
    """Search operations (the library is :mod:`leds.search`)."""

    _weights_cache: tuple[str, Any] | None = None

    def _weights(self) -> Any:
        """The saved linkage model's weights for scoring (None: documented defaults)."""
        if self._data is None:
            return None
        from leds.link.model import list_models
        from leds.search.weights import model_weights

        versions = list_models(self.data_dir) if (self.data_dir / "link").exists() else []
        current = versions[-1] if versions else ""
        if self._weights_cache is None or self._weights_cache[0] != current:
            found = model_weights(self.data_dir) if current else None
            self._weights_cache = (current, found[1] if found else None)
        return self._weights_cache[1]

    def _search(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        action: str,
        query: dict[str, Any],
        run: Callable[[Any, frozenset[str]], Any],
        *,
        sources: tuple[str, ...] | None = None,
        persons: Callable[[Any], list[str]] | None = None,
    ) -> Result[Any]:
        if sources is None:
            decision, allowed = self._authorise_sources(user, purpose, action, query)
        else:
            decision, allowed = self._authorise_sources(user, purpose, action, query, sources)
        with self._store.engine.connect() as conn:
            found = run(conn, allowed)
        people = persons(found) if persons else []
        mini = _Minimiser(self, user, purpose)
        mini.walk(found)
        subjects = [f"record/{i}" for i in dict.fromkeys(mini.shown)]
        subjects += [f"person/{p}" for p in dict.fromkeys(people)]
        searched = getattr(found, "searched", None)  # a person search may be narrowed
        seq = self._record(
            AuditKind.CONSULTATION,
            user,
            purpose,
            action,
            {**query, "sources": sorted(allowed if searched is None else searched)},
            decision,
            subjects,
            {"records": len(set(mini.shown)), "total": getattr(found, "total", None)},
        )
        return Result(found, seq)

    def search_person(
        self, user: AuthenticatedUser, purpose: PurposeStatement, query: Any
    ) -> Result[Any]:
        """Persons by name (exact / phonetic / fuzzy, wildcards, variants, aliases), DOB,
        year or age range, sex, postcode or address, description and identifiers; grouped by
        person, warning markers first, with facets. ``query``: a
        :class:`leds.search.persons.PersonQuery`.

        ``query.sources`` (None: every source the user may search) narrows the search to
        those sources: the result's ``searched`` lists the sources read, ``not_permitted``
        those the policy refuses this user for this purpose, and any other source was not
        asked. Refused (and the refusal recorded) when none of the sources asked may be
        searched; an empty set or an unknown source is a bad query."""
        from leds.search.persons import search_persons

        if query.sources is not None:
            self._check_sources_asked(user, purpose, query)
        weights = self._weights()

        def run(conn: Any, allowed: frozenset[str]) -> Any:
            self._check_marker_filter(user, purpose, query)
            asked = query.sources or allowed
            scoped = dataclasses.replace(query, sources=frozenset(asked) & allowed)
            found = search_persons(conn, scoped, weights=weights)
            found.searched = sorted(scoped.sources or ())
            found.not_permitted = [s for s in SOURCES if s not in allowed]
            found.may_export = bool(self._permitted(user, purpose, "export", found.searched))
            return found

        found = self._search(
            user, purpose, "search_person", _query_dict(query), run, persons=_person_ids
        )
        self._hide_marker_types(user, purpose, found.value)
        return found

    def _check_sources_asked(
        self, user: AuthenticatedUser, purpose: PurposeStatement, query: Any
    ) -> None:
        """The sources a person search asks for: known, at least one, and at least one the
        user may search (else refused, the refusal recorded, with the policy's reason)."""
        from leds.search.errors import BadQuery

        unknown = sorted(set(query.sources) - set(SOURCES))
        if unknown:
            raise BadQuery(
                f"unknown source {', '.join(map(repr, unknown))}",
                hint=f"sources are {', '.join(SOURCES)}",
            )
        if not query.sources:
            raise BadQuery("no source to search", hint="tick (or name) at least one source")
        asked = tuple(s for s in SOURCES if s in query.sources)
        self._authorise_sources(user, purpose, "search_person", _query_dict(query), asked)

    def _permitted(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        action: str,
        sources: list[str] | tuple[str, ...],
    ) -> list[str]:
        """The sources on which the policy would allow ``action`` (a question, not an
        operation: nothing is read or recorded; what the pages offer, such as an export)."""
        decisions = self._decisions(user, purpose, action, sources) if sources else []
        return [s for s, d in zip(sources, decisions, strict=True) if d.allowed]

    def _marker_shown(self, user: AuthenticatedUser, purpose: PurposeStatement) -> Any:
        """A predicate: may this user see a marker of this type (its flag's class)?"""
        from leds.governance.minimise import classification

        rule = classification().rules.get("marker_flag")
        if rule is None:
            return lambda _marker: True
        allowed = _Minimiser(self, user, purpose)._allowed("pnc")[0]
        return lambda marker: rule.class_for({rule.key: marker}) in allowed

    def _check_marker_filter(
        self, user: AuthenticatedUser, purpose: PurposeStatement, query: Any
    ) -> None:
        """Filtering on a marker type the user may not see would reveal who has it:
        refused before anything is searched."""
        from leds.search.errors import BadQuery

        wanted = getattr(query, "filter_marker", None)
        if wanted and not self._marker_shown(user, purpose)(wanted):
            raise BadQuery(
                f"cannot filter on the marker type {wanted!r}",
                hint="filter on a marker type listed in the facets",
            )

    def _hide_marker_types(
        self, user: AuthenticatedUser, purpose: PurposeStatement, results: Any
    ) -> None:
        """Marker types in hits and facets follow the class of a marker's flag: a type whose
        class the user may not see (the health-related signals) is left out."""
        shown = self._marker_shown(user, purpose)
        for hit in results.hits:
            hit.markers = [m for m in hit.markers if shown(m)]
        facet = results.facets.get("marker")
        if facet is not None:
            results.facets["marker"] = {m: n for m, n in facet.items() if shown(m)}

    def search_vehicle(
        self, user: AuthenticatedUser, purpose: PurposeStatement, query: Any
    ) -> Result[Any]:
        """Vehicles by full or partial mark (``?``, ``*``; confusables folded), VIN, make,
        model, colour, keeper postcode or marker; with facets (those drawn from a field the
        user may not see left out, and refused as filters), sort and per-source status.
        ``query``: a :class:`leds.search.vehicles.VehicleQuery`."""
        from leds.search.vehicles import search_vehicles

        def run(conn: Any, allowed: frozenset[str]) -> Any:
            self._check_vehicle_filters(user, purpose, query)
            asked = query.sources or allowed
            scoped = dataclasses.replace(query, sources=frozenset(asked) & allowed)
            found = search_vehicles(conn, scoped)
            found.searched = [s for s in SOURCES if s in (scoped.sources or ())]
            found.not_permitted = [s for s in SOURCES if s not in allowed]
            found.may_export = bool(self._permitted(user, purpose, "export", found.searched))
            return found

        found = self._search(user, purpose, "search_vehicle", _query_dict(query), run)
        self._minimise_vehicles(user, purpose, found.value)
        return found

    def _vehicle_fields_hidden(
        self, user: AuthenticatedUser, purpose: PurposeStatement, fields: Any
    ) -> set[str]:
        """The names in ``fields`` (name -> (source, kind, payload key)) whose payload field
        is of a class this user may not see."""
        from leds.governance.minimise import classify_payload_key

        mini = _Minimiser(self, user, purpose)
        return {
            name
            for name, (source, kind, key) in fields.items()
            if classify_payload_key(source, kind, key) not in mini._allowed(source)[0]
        }

    def _vehicle_facets_hidden(
        self, user: AuthenticatedUser, purpose: PurposeStatement
    ) -> set[str]:
        """The vehicle facets drawn from a field whose class this user may not see."""
        from leds.search.vehicles import FACET_FIELDS

        return self._vehicle_fields_hidden(user, purpose, FACET_FIELDS)

    def _check_vehicle_filters(
        self, user: AuthenticatedUser, purpose: PurposeStatement, query: Any
    ) -> None:
        """Filtering on a facet the user may not see would reveal its values: refused before
        anything is searched."""
        from leds.search.errors import BadQuery

        hidden = set(query.filters) & self._vehicle_facets_hidden(user, purpose)
        if hidden:
            raise BadQuery(
                f"cannot filter on {', '.join(sorted(hidden))}",
                hint="filter on a facet listed with the results",
            )

    def _minimise_vehicles(
        self, user: AuthenticatedUser, purpose: PurposeStatement, results: Any
    ) -> None:
        """What the records' minimisation does not reach: the facets, and each hit's make,
        model, colour and VIN (read from the DVLA record before it was minimised), left out
        where their field's class is one the user may not see."""
        from leds.search.vehicles import HIT_FIELDS

        for facet in self._vehicle_facets_hidden(user, purpose):
            results.facets.pop(facet, None)
        hidden = self._vehicle_fields_hidden(user, purpose, HIT_FIELDS)
        for hit in results.hits:
            for name in hidden:
                setattr(hit, name, None)

    def search_property(
        self, user: AuthenticatedUser, purpose: PurposeStatement, query: Any
    ) -> Result[Any]:
        """PNC property by serial (exact, partial, wildcards), category, make/model, status."""
        from leds.search.property import search_property

        return self._search(
            user,
            purpose,
            "search_property",
            _query_dict(query),
            lambda conn, _allowed: search_property(conn, query),
            sources=("pnc",),
            persons=lambda found: [h.person_id for h in found.hits if h.person_id],
        )

    def search_text(
        self, user: AuthenticatedUser, purpose: PurposeStatement, query: Any
    ) -> Result[Any]:
        """Free text over PND intelligence reports, with grading and handling filters."""
        from leds.search.text import search_text

        return self._search(
            user,
            purpose,
            "search_text",
            _query_dict(query),
            lambda conn, _allowed: search_text(conn, query),
            sources=("pnd",),
        )

    def lookup_identifier(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        value: str,
        kind: str | None = None,
    ) -> Result[Any]:
        """The records holding an identifier (PNC ID, CRO, driver number, NINO, passport,
        immigration reference, VIN), validated first ("did you mean" on a wrong check
        character)."""
        from leds.search.identifiers import lookup_identifier

        def run(conn: Any, allowed: frozenset[str]) -> Any:
            found = lookup_identifier(conn, value, kind)
            found.records = [r for r in found.records if r.source in allowed]
            keep = {r.id for r in found.records}
            found.person_ids = {k: v for k, v in found.person_ids.items() if k in keep}
            return found

        return self._search(
            user,
            purpose,
            "search_person",
            {"identifier": value, "kind": kind},
            run,
            persons=lambda found: list(found.person_ids.values()),
        )

    def show_person(
        self, user: AuthenticatedUser, purpose: PurposeStatement, key: str
    ) -> Result[Any]:
        """The consolidated person (golden record, every contributing record with
        provenance, cross-source conflicts) for a person id, ``R<record id>`` or record id.
        Parts drawn from sources the user may not view are left out."""
        from leds.search.views import person_view

        def run(conn: Any, allowed: frozenset[str]) -> Any:
            view = person_view(conn, key)
            for name, source in _VIEW_SUMMARIES.items():
                if source not in allowed:
                    current = getattr(view, name)
                    object.__setattr__(view, name, type(current)())
            if "dvla" not in allowed:
                object.__setattr__(view, "vehicles", [])
            mini = _Minimiser(self, user, purpose)
            # other keepers of the person's vehicles are DVLA identity data
            if "dvla" not in allowed or "identity" not in mini._allowed("dvla")[0]:
                object.__setattr__(view, "associates", [])
            # addresses are contact details drawn from a source's record: its class decides
            object.__setattr__(
                view,
                "addresses",
                [
                    a
                    for a in view.addresses
                    if a.get("source") in allowed and "contact" in mini._allowed(a["source"])[0]
                ],
            )
            return view

        return self._search(
            user,
            purpose,
            "view_record",
            {"person": str(key)},
            run,
            persons=_view_persons,
        )

    def show_vehicle(
        self, user: AuthenticatedUser, purpose: PurposeStatement, vrm: str
    ) -> Result[Any]:
        """The consolidated vehicle: register record, keeper history with people, markers."""
        from leds.search.views import vehicle_view

        def run(conn: Any, allowed: frozenset[str]) -> Any:
            view = vehicle_view(conn, vrm)
            classes = _Minimiser(self, user, purpose)._allowed("dvla")[0]
            keepers = []
            for k in view.keepers if "dvla" in allowed and "identity" in classes else []:
                keepers.append(k if "contact" in classes else {**k, "postcode": None})
            object.__setattr__(view, "keepers", keepers)
            return view

        return self._search(user, purpose, "search_vehicle", {"vrm": vrm}, run)

    def reindex_search(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> Result[Any]:
        """Rebuild every search index from the stored records (after a bulk load or a
        restore). Imports keep the indexes current on their own."""
        from leds.search.index import build_indexes

        query: dict[str, Any] = {"indexes": "all"}
        decision = self._authorise(user, purpose, "import_source", query)
        with self._audited() as conn:
            stats = build_indexes(conn, progress=progress)
            seq = self._record(
                AuditKind.ALTERATION,
                user,
                purpose,
                "reindex_search",
                query,
                decision,
                ["search-index/all"],
                {"records": getattr(stats, "records", None)},
                conn,
            )
        return Result(stats, seq)


def _view_persons(view: Any) -> list[str]:
    """The persons a person view shows: the person and the related people named in it."""
    out = [view.person_id] if view.person_id else []
    return out + [a["person_id"] for a in view.associates if a.get("person_id")]


def _person_ids(found: Any) -> list[str]:
    return list(found.person_ids)


def _query_dict(query: Any) -> dict[str, Any]:
    if not dataclasses.is_dataclass(query) or isinstance(query, type):
        raise LedsError(
            "a search needs a query object",
            hint="build one of leds.search's Query dataclasses (PersonQuery, VehicleQuery...)",
        )
    out: dict[str, Any] = {}
    for f in dataclasses.fields(query):
        value = getattr(query, f.name)
        if value is None or value == f.default:
            continue
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, frozenset | set):
            value = sorted(value)
        out[f.name] = value
    return out
