"""Exports through the one door: a page of person or vehicle search results as CSV, recorded
as a disclosure.

An export is a search whose result leaves the system as a file. It needs both the search
(``search_person`` or ``search_vehicle``) and ``export`` on a source (the policy grants
``export`` to analysts on PNC and PND); it reaches only the sources allowed for both, and is
refused (the refusal recorded) when there are none. The rows are the minimised hits of one
page, exactly as the results page shows them; the audit entry is a **disclosure** (DPA 2018
s.62) naming every record and person in the file, the recipient (the user, as a file), the
number of rows and the SHA-256 of the file, so the log can show later exactly what left.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
from dataclasses import dataclass
from typing import Any

from leds.governance.authn import AuthenticatedUser
from leds.governance.identity import PurposeStatement
from leds.model.codes import AuditKind
from leds.service._base import SOURCES, Result
from leds.service.search import SearchOps, _Minimiser, _query_dict

# Columns of the person export (one row per consolidated person, in the page's order).
PERSON_COLUMNS = (
    "rank",
    "person",
    "name",
    "dob",
    "identifiers",
    "sources",
    "markers",
    "band",
    "score",
    "matched_on",
)
# Columns of the vehicle export (one row per registration mark, in the page's order).
VEHICLE_COLUMNS = (
    "rank",
    "vrm",
    "markers",
    "make",
    "model",
    "colour",
    "vin",
    "keeper_change",
    "sources",
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class PersonExport:
    """A CSV file of one page of search results (persons or vehicles)."""

    csv: str
    rows: int
    sources: list[str]
    sha256: str
    columns: tuple[str, ...] = PERSON_COLUMNS


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def person_rows(hits: list[Any], offset: int = 0) -> list[list[str]]:
    """The export's rows for search hits (what the results page shows of each)."""
    rows = []
    for i, h in enumerate(hits, start=offset + 1):
        rows.append(
            [
                _cell(v)
                for v in (
                    i,
                    h.key,
                    h.best_name,
                    h.dob,
                    "; ".join(f"{k}={','.join(vs)}" for k, vs in h.identifiers.items()),
                    "; ".join(f"{s}={n}" for s, n in h.sources.items()),
                    "; ".join(h.markers),
                    h.band,
                    f"{h.score:.2f}",
                    "; ".join(f"{f}={how}" for f, how in h.matched.items()),
                )
            ]
        )
    return rows


def vehicle_rows(hits: list[Any], offset: int = 0) -> list[list[str]]:
    """The vehicle export's rows (what the results page shows of each vehicle)."""
    rows = []
    for i, h in enumerate(hits, start=offset + 1):
        counts: dict[str, int] = {}
        for r in h.records:
            counts[r.source] = counts.get(r.source, 0) + 1
        values = (
            i,
            h.vrm,
            "; ".join(h.markers),
            h.make,
            h.model,
            h.colour,
            h.vin,
            h.keeper_change,
            "; ".join(f"{s}={n}" for s, n in counts.items()),
        )
        rows.append([_cell(v) for v in values])
    return rows


def _csv(columns: tuple[str, ...], rows: list[list[str]]) -> tuple[str, str]:
    """The file's text and its SHA-256 (of the UTF-8 bytes sent)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    text = out.getvalue()
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()


class ExportOps(SearchOps):
    """Audited exports (a disclosure per file)."""

    def export_persons(
        self, user: AuthenticatedUser, purpose: PurposeStatement, query: Any
    ) -> Result[PersonExport]:
        """One page (``query.limit``/``offset``, sort and facet filters as given) of a person
        search as CSV. ``query``: a :class:`leds.search.persons.PersonQuery`."""
        from leds.search.persons import search_persons

        asked = _query_dict(query)
        if query.sources is not None:
            self._check_sources_asked(user, purpose, query)
        decision, scoped = self._export_scope(user, purpose, "search_person", asked, query)
        self._check_marker_filter(user, purpose, query)
        weights = self._weights()
        with self._store.engine.connect() as conn:
            found = search_persons(conn, scoped, weights=weights)
        mini = _Minimiser(self, user, purpose)
        mini.walk(found)
        self._hide_marker_types(user, purpose, found)
        rows = person_rows(found.hits, query.offset)
        return self._disclose(
            user, purpose, asked, decision, scoped.sources, found, mini, rows, PERSON_COLUMNS
        )

    def export_vehicles(
        self, user: AuthenticatedUser, purpose: PurposeStatement, query: Any
    ) -> Result[PersonExport]:
        """One page (``query.limit``/``offset``, sort and facet filters as given) of a vehicle
        search as CSV, recorded as a disclosure. ``query``: a
        :class:`leds.search.vehicles.VehicleQuery`."""
        from leds.search.vehicles import search_vehicles

        asked = _query_dict(query)
        decision, scoped = self._export_scope(user, purpose, "search_vehicle", asked, query)
        self._check_vehicle_filters(user, purpose, query)
        with self._store.engine.connect() as conn:
            found = search_vehicles(conn, scoped)
        mini = _Minimiser(self, user, purpose)
        mini.walk(found)
        self._minimise_vehicles(user, purpose, found)
        rows = vehicle_rows(found.hits, query.offset)
        return self._disclose(
            user, purpose, asked, decision, scoped.sources, found, mini, rows, VEHICLE_COLUMNS
        )

    def _export_scope(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        search: str,
        asked: dict[str, Any],
        query: Any,
    ) -> tuple[Any, Any]:
        """An export needs the ``search`` and ``export`` on a source: (the export's decision,
        the query narrowed to the sources allowed both and asked). Refused, and recorded,
        when there are none."""
        _, searchable = self._authorise_sources(user, purpose, search, asked)
        wanted = query.sources or frozenset(SOURCES)
        candidates = tuple(s for s in SOURCES if s in searchable and s in wanted)
        decision, allowed = self._authorise_sources(
            user, purpose, "export", asked, candidates or tuple(sorted(searchable))
        )
        return decision, dataclasses.replace(query, sources=frozenset(allowed) & wanted)

    def _disclose(
        self,
        user: AuthenticatedUser,
        purpose: PurposeStatement,
        asked: dict[str, Any],
        decision: Any,
        sources_read: frozenset[str] | None,
        found: Any,
        mini: _Minimiser,
        rows: list[list[str]],
        columns: tuple[str, ...],
    ) -> Result[PersonExport]:
        """The CSV of ``rows``, recorded (before it is returned) as a disclosure naming every
        record and person in it, the recipient, the rows and the file's SHA-256."""
        text, digest = _csv(columns, rows)
        subjects = [f"record/{i}" for i in dict.fromkeys(mini.shown)]
        subjects += [f"person/{p}" for p in dict.fromkeys(getattr(found, "person_ids", ()))]
        sources = sorted(sources_read or ())
        seq = self._record(
            AuditKind.DISCLOSURE,
            user,
            purpose,
            "export",
            {**asked, "sources": sources, "format": "csv"},
            decision,
            subjects,
            {"rows": len(rows), "total": found.total, "sha256": digest},
            recipients=[f"{user.actor.user_id} (CSV file)"],
        )
        return Result(PersonExport(text, len(rows), sources, digest, columns), seq)
