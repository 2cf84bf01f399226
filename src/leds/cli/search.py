"""``leds search`` (person, vehicle, property, id, text), ``leds show`` (person, vehicle) and
``leds reindex``.

Records in results arrive minimised (:class:`leds.governance.minimise.MinimisedRecord`): the
tables print the fields kept and name the fields withheld (with their class).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from enum import Enum, StrEnum
from typing import Annotated, Any

import typer
from rich.table import Column, Table

from leds.cli import ACCESS, Access, JsonOpt, _progress, app, out, with_access
from leds.errors import LedsError
from leds.governance.minimise import MinimisedRecord

search_app = typer.Typer(
    help="Search persons, vehicles, property, identifiers and intelligence text.",
    no_args_is_help=True,
)
app.add_typer(search_app, name="search")
show_app = typer.Typer(help="Consolidated views of a person or a vehicle.", no_args_is_help=True)
app.add_typer(show_app, name="show")

LimitOpt = Annotated[int, typer.Option("--limit", min=1, max=500, help="Results per page")]
OffsetOpt = Annotated[int, typer.Option("--offset", min=0, help="Results to skip")]
WARNING_MARKERS = ("WS-", "WANTED", "MISSING", "ABSCONDER")


# ---- shared formatting (also used by the link and biometrics commands) -------------------
def plain(value: Any) -> Any:
    """A JSON-able copy of a result: dataclasses (records by ``to_dict``), dates, sets."""
    if isinstance(value, MinimisedRecord):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(plain(v) for v in value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def emit_json(value: Any) -> None:
    """Print ``value`` as JSON on standard output (no markup, no wrapping)."""
    out.print(
        json.dumps(plain(value), indent=2, ensure_ascii=False),
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def _short(value: Any, width: int = 40) -> str:
    text = value if isinstance(value, str) else json.dumps(plain(value), ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def kept_fields(rec: MinimisedRecord, width: int = 40) -> str:
    """``key=value`` of the kept person columns and payload keys, one line."""
    items = {**rec.person, **{k: v for k, v in rec.payload.items() if k not in rec.person}}
    return "; ".join(f"{k}={_short(v, width)}" for k, v in items.items() if v not in (None, ""))


def withheld_fields(rec: MinimisedRecord) -> str:
    return ", ".join(f"{w.field} ({w.field_class})" for w in rec.withheld)


def records_table(records: list[Any], title: str, *, width: int = 40) -> Table:
    """A table of minimised records: id, source, kind, kept fields, withheld fields."""
    table = Table("record", "source", "kind", "kept fields", "withheld", title=title)
    for rec in records:
        if isinstance(rec, MinimisedRecord):
            table.add_row(
                str(rec.record_id),
                rec.source,
                rec.kind,
                kept_fields(rec, width),
                withheld_fields(rec) or "[dim]none[/]",
            )
    return table


def audit_note(seq: int) -> None:
    out.print(f"[dim]recorded as audit entry {seq}[/]")


def _marker_text(markers: list[str]) -> str:
    return " ".join(
        f"[bold red]{m}[/]" if m.startswith(WARNING_MARKERS) else f"[yellow]{m}[/]" for m in markers
    )


def _date(text: str | None, option: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise LedsError(f"{option}: not a date: {text!r}", hint="use YYYY-MM-DD") from None


def _sources(values: list[str] | None) -> frozenset[str] | None:
    known = {"pnc", "pnd", "dvla", "iabs", "generic"}
    if not values:
        return None
    chosen = {v.strip().lower() for v in values}
    unknown = chosen - known
    if unknown:
        raise LedsError(
            f"unknown source {', '.join(sorted(unknown))}",
            hint=f"--source is one of {', '.join(sorted(known))}",
        )
    return frozenset(chosen)


# ---- person ------------------------------------------------------------------------------
class Mode(StrEnum):
    exact = "exact"
    phonetic = "phonetic"
    fuzzy = "fuzzy"


@search_app.command("person")
@with_access
def search_person(
    surname: Annotated[str | None, typer.Option("--surname", help="Wildcards * and ?")] = None,
    forenames: Annotated[str | None, typer.Option("--forenames")] = None,
    dob: Annotated[str | None, typer.Option("--dob", help="YYYY-MM-DD")] = None,
    dob_from: Annotated[str | None, typer.Option("--dob-from", help="YYYY-MM-DD")] = None,
    dob_to: Annotated[str | None, typer.Option("--dob-to", help="YYYY-MM-DD")] = None,
    year: Annotated[int | None, typer.Option("--year", min=1880, max=2100)] = None,
    age_from: Annotated[int | None, typer.Option("--age-from", min=0, max=130)] = None,
    age_to: Annotated[int | None, typer.Option("--age-to", min=0, max=130)] = None,
    sex: Annotated[str | None, typer.Option("--sex", help="M, F or U")] = None,
    postcode: Annotated[str | None, typer.Option("--postcode", help="LS2 6HU or LS2 6")] = None,
    address: Annotated[str | None, typer.Option("--address", help="Address fragment")] = None,
    height_from: Annotated[int | None, typer.Option("--height-from", help="cm")] = None,
    height_to: Annotated[int | None, typer.Option("--height-to", help="cm")] = None,
    build: Annotated[str | None, typer.Option("--build")] = None,
    marks: Annotated[str | None, typer.Option("--marks", help="Scars, marks, tattoos")] = None,
    identifier: Annotated[str | None, typer.Option("--id", help="PNC ID, CRO, NINO...")] = None,
    mode: Annotated[Mode, typer.Option("--mode", help="Name matching")] = Mode.fuzzy,
    limit: LimitOpt = 20,
    offset: OffsetOpt = 0,
    source: Annotated[
        list[str] | None, typer.Option("--source", help="Only this source (repeatable)")
    ] = None,
    show_records: Annotated[
        bool, typer.Option("--records", help="Also list each hit's records (minimised)")
    ] = False,
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """Persons by name (exact, phonetic, fuzzy; wildcards), date of birth or age, sex,
    postcode, address, description and identifiers; markers first."""
    from leds.search.persons import PersonQuery

    query = PersonQuery(
        surname=surname,
        forenames=forenames,
        dob=_date(dob, "--dob"),
        dob_from=_date(dob_from, "--dob-from"),
        dob_to=_date(dob_to, "--dob-to"),
        year=year,
        age_from=age_from,
        age_to=age_to,
        sex=sex.strip().upper() if sex else None,
        postcode=postcode,
        address=address,
        height_from=height_from,
        height_to=height_to,
        build=build,
        marks=marks,
        identifier=identifier,
        sources=_sources(source),
        mode=mode.value,
        limit=limit,
        offset=offset,
    )
    statement = access.statement()
    with access.service() as service:
        result = service.search_person(access.login(service), statement, query)
    found = result.value
    if as_json:
        emit_json(
            {
                "total": found.total,
                "candidates": found.candidates,
                "hits": found.hits,
                "facets": found.facets,
                "audit_seq": result.audit_seq,
            }
        )
        return
    table = Table(
        "score",
        Column("person", no_wrap=True, min_width=11),
        "best name",
        Column("dob", no_wrap=True, min_width=10),
        "matched",
        "sources",
        "markers",
        title=f"persons ({found.total:,} found, {offset + 1}-{offset + len(found.hits)})",
    )
    for h in found.hits:
        band = {"high": "green", "medium": "yellow"}.get(h.band, "red")
        table.add_row(
            f"{h.score:.1f} [{band}]{h.band}[/]",
            h.key,
            h.best_name,
            h.dob or "",
            ", ".join(f"{k}:{v}" for k, v in h.matched.items()),
            " ".join(f"[cyan]{s}[/]" + (f"×{n}" if n > 1 else "") for s, n in h.sources.items()),
            _marker_text(h.markers),
        )
    out.print(table)
    if found.facets:
        for name, counts in found.facets.items():
            shown = ", ".join(f"{k} {v}" for k, v in list(counts.items())[:8])
            out.print(f"[dim]{name}:[/] {shown}")
    if show_records:
        for h in found.hits:
            out.print(records_table(h.records, f"records of {h.key}"))
    audit_note(result.audit_seq)


# ---- vehicle -----------------------------------------------------------------------------
@search_app.command("vehicle")
@with_access
def search_vehicle(
    vrm: Annotated[
        str | None, typer.Argument(help="Registration mark, full or partial (? one, * any)")
    ] = None,
    vin: Annotated[str | None, typer.Option("--vin")] = None,
    make: Annotated[str | None, typer.Option("--make")] = None,
    model: Annotated[str | None, typer.Option("--model")] = None,
    colour: Annotated[str | None, typer.Option("--colour")] = None,
    keeper_postcode: Annotated[str | None, typer.Option("--keeper-postcode")] = None,
    marker: Annotated[
        str | None, typer.Option("--marker", help="stolen, suspect or not-over-air")
    ] = None,
    limit: LimitOpt = 20,
    offset: OffsetOpt = 0,
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """Vehicles by full or partial mark (confusable characters folded), VIN, make, model,
    colour, keeper postcode or marker; markers first."""
    from leds.search.vehicles import VehicleQuery

    query = VehicleQuery(
        vrm=vrm,
        vin=vin,
        make=make,
        model=model,
        colour=colour,
        keeper_postcode=keeper_postcode,
        marker=marker,
        limit=limit,
        offset=offset,
    )
    statement = access.statement()
    with access.service() as service:
        result = service.search_vehicle(access.login(service), statement, query)
    found = result.value
    if as_json:
        emit_json(
            {
                "total": found.total,
                "truncated": found.truncated,
                "hits": found.hits,
                "audit_seq": result.audit_seq,
            }
        )
        return
    table = Table(
        "mark",
        "exact",
        "markers",
        "make",
        "model",
        "colour",
        "VIN",
        "records",
        title=f"vehicles ({found.total:,} found)",
    )
    for h in found.hits:
        table.add_row(
            h.vrm,
            "yes" if h.exact else "",
            " ".join(f"[bold red]{m}[/]" for m in h.markers),
            h.make or "",
            h.model or "",
            h.colour or "",
            h.vin or "",
            ", ".join(f"{r.source}:{r.kind}" for r in h.records if isinstance(r, MinimisedRecord)),
        )
    out.print(table)
    if found.truncated:
        out.print("[yellow]more matched than can be listed: narrow the search[/]")
    audit_note(result.audit_seq)


# ---- property ----------------------------------------------------------------------------
@search_app.command("property")
@with_access
def search_property(
    serial: Annotated[str | None, typer.Argument(help="Serial number (? and * allowed)")] = None,
    partial: Annotated[bool, typer.Option("--partial", help="Serial contains this")] = False,
    category: Annotated[str | None, typer.Option("--category")] = None,
    make: Annotated[str | None, typer.Option("--make")] = None,
    model: Annotated[str | None, typer.Option("--model")] = None,
    status: Annotated[str | None, typer.Option("--status")] = None,
    limit: LimitOpt = 20,
    offset: OffsetOpt = 0,
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """PNC property by serial (exact, partial, wildcards), category, make, model, status."""
    from leds.search.property import PropertyQuery

    query = PropertyQuery(
        serial=serial,
        partial=partial,
        category=category,
        make=make,
        model=model,
        status=status,
        limit=limit,
        offset=offset,
    )
    statement = access.statement()
    with access.service() as service:
        result = service.search_property(access.login(service), statement, query)
    found = result.value
    if as_json:
        emit_json(
            {
                "total": found.total,
                "truncated": found.truncated,
                "hits": found.hits,
                "audit_seq": result.audit_seq,
            }
        )
        return
    table = Table(
        "record", "property", "person", "withheld", title=f"property ({found.total:,} found)"
    )
    for h in found.hits:
        rec = h.record
        if not isinstance(rec, MinimisedRecord):
            continue
        table.add_row(
            str(rec.record_id),
            kept_fields(rec, 24),
            h.person_id or (str(h.person.record_id) if h.person is not None else ""),
            withheld_fields(rec) or "[dim]none[/]",
        )
    out.print(table)
    audit_note(result.audit_seq)


# ---- identifier --------------------------------------------------------------------------
@search_app.command("id")
@with_access
def search_id(
    value: Annotated[str, typer.Argument(help="PNC ID, CRO, driver number, NINO, passport...")],
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="pnc_id, cro, driver_number, nino, vin, passport or immigration_ref",
        ),
    ] = None,
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """The records holding an identifier (validated first; "did you mean" on a typo)."""
    statement = access.statement()
    with access.service() as service:
        result = service.lookup_identifier(access.login(service), statement, value, kind)
    found = result.value
    if as_json:
        emit_json(
            {
                "kinds": found.kinds,
                "records": found.records,
                "person_ids": found.person_ids,
                "audit_seq": result.audit_seq,
            }
        )
        return
    looked = ", ".join(f"{k} {v}" for k, v in found.kinds)
    rows = [r for r in found.records if isinstance(r, MinimisedRecord)]
    table = Table(
        "record",
        "source",
        "kind",
        "person",
        "kept fields",
        "withheld",
        title=f"records holding {looked}",
    )
    for rec in rows:
        table.add_row(
            str(rec.record_id),
            rec.source,
            rec.kind,
            found.person_ids.get(rec.record_id, ""),
            kept_fields(rec),
            withheld_fields(rec) or "[dim]none[/]",
        )
    out.print(table)
    if not rows:
        out.print("no record holds it")
    audit_note(result.audit_seq)


# ---- text --------------------------------------------------------------------------------
@search_app.command("text")
@with_access
def search_text(
    text: Annotated[str, typer.Argument(help='Words, "phrases", word*, OR, -excluded')],
    source_grade: Annotated[str | None, typer.Option("--source-grade", help="1-3")] = None,
    intel_grade: Annotated[str | None, typer.Option("--intel-grade", help="A-E")] = None,
    handling: Annotated[str | None, typer.Option("--handling", help="P or C")] = None,
    limit: LimitOpt = 20,
    offset: OffsetOpt = 0,
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """Free text over PND intelligence reports, with grading and handling filters."""
    from leds.search.text import TextQuery

    query = TextQuery(
        text=text,
        source_grade=source_grade,
        intel_grade=intel_grade,
        handling=handling,
        limit=limit,
        offset=offset,
    )
    statement = access.statement()
    with access.service() as service:
        result = service.search_text(access.login(service), statement, query)
    found = result.value
    if as_json:
        emit_json({"total": found.total, "hits": found.hits, "audit_seq": result.audit_seq})
        return
    table = Table(
        "rank", "record", "snippet", "withheld", title=f"intelligence ({found.total:,} found)"
    )
    for h in found.hits:
        rec = h.record
        if not isinstance(rec, MinimisedRecord):
            continue
        table.add_row(
            f"{h.rank:.2f}", str(rec.record_id), h.snippet, withheld_fields(rec) or "[dim]none[/]"
        )
    out.print(table)
    audit_note(result.audit_seq)


# ---- consolidated views ------------------------------------------------------------------
@show_app.command("person")
@with_access
def show_person(
    key: Annotated[str, typer.Argument(help="Person id, R<record id> or record id")],
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """The consolidated person: best name, aliases, dates of birth, identifiers, markers,
    addresses, vehicles, events, conflicts and every contributing record."""
    statement = access.statement()
    with access.service() as service:
        result = service.show_person(access.login(service), statement, key)
    view = result.value
    if as_json:
        emit_json({"person": view, "audit_seq": result.audit_seq})
        return
    out.print(f"[bold]{view.best_name}[/]  person {view.key}")
    summary = Table("", "", show_header=False)
    summary.add_row("dates of birth", ", ".join(view.dobs) or "-")
    for kind, values in view.identifiers.items():
        summary.add_row(kind, ", ".join(values))
    for a in view.aliases:
        summary.add_row("alias", " ".join(str(a.get(k) or "") for k in ("forenames", "surname")))
    for c in view.conflicts:
        summary.add_row(
            f"[yellow]conflict: {c.field}[/]",
            "; ".join(f"{v} (records {', '.join(map(str, ids))})" for v, ids in c.values.items()),
        )
    for a in view.addresses[:5]:
        summary.add_row("address", f"{a.get('text') or ''} {a.get('postcode') or ''}".strip())
    for v in view.vehicles:
        summary.add_row("vehicle", f"{v.get('vrm')} {v.get('from') or ''}–{v.get('to') or ''}")
    if view.custody.get("count"):
        summary.add_row("custody", f"{view.custody['count']} (last {view.custody['last']})")
    if view.immigration.get("encounters"):
        summary.add_row(
            "immigration",
            f"{view.immigration['encounters']} encounters (last {view.immigration['last']})",
        )
    out.print(summary)
    if view.markers:
        out.print(records_table(view.markers, "markers (warning signals first)"))
    out.print(records_table(view.nominals, "person records"))
    if view.events:
        out.print(records_table(view.events, "events"))
    if view.intelligence:
        out.print(records_table(view.intelligence, "intelligence"))
    audit_note(result.audit_seq)


@show_app.command("vehicle")
@with_access
def show_vehicle(
    vrm: Annotated[str, typer.Argument(help="Full registration mark")],
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """The consolidated vehicle: register record, PNC markers, keeper history with people."""
    statement = access.statement()
    with access.service() as service:
        result = service.show_vehicle(access.login(service), statement, vrm)
    view = result.value
    if as_json:
        emit_json({"vehicle": view, "audit_seq": result.audit_seq})
        return
    out.print(f"[bold]{view.vrm}[/]")
    if view.vehicle is not None:
        out.print(records_table([view.vehicle], "register record"))
    if view.markers:
        out.print(records_table(view.markers, "PNC markers"))
    keepers = Table("role", "name", "postcode", "from", "to", "person", title="keepers")
    for k in view.keepers:
        keepers.add_row(
            k["role"],
            str(k.get("name") or ""),
            str(k.get("postcode") or ""),
            str(k.get("from") or ""),
            str(k.get("to") or ""),
            str(k.get("person_id") or k.get("person_record_id") or ""),
        )
    out.print(keepers)
    audit_note(result.audit_seq)


@app.command("reindex")
@with_access
def reindex(access: Access = ACCESS, as_json: JsonOpt = False) -> None:
    """Rebuild every search index from the stored records (after a bulk load or restore)."""
    statement = access.statement()
    with access.service() as service:
        who = access.login(service)
        with _progress("indexing records", None) as tick:
            result = service.reindex_search(who, statement, progress=tick)
    if as_json:
        emit_json({"stats": result.value, "audit_seq": result.audit_seq})
        return
    stats = plain(result.value)
    if isinstance(stats, dict):
        out.print(", ".join(f"{k} {v}" for k, v in stats.items()))
    out.print("[bold green]search indexes rebuilt[/]")
    audit_note(result.audit_seq)
