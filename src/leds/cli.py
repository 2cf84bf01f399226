"""The ``leds`` command: a thin shell over the Python API (check input, call, format).

Every command that reads or writes data takes ``--data DIR`` (default ``./leds-data`` or
``$LEDS_DATA``) or ``--store URL`` for PostgreSQL, and every command that touches personal data
takes ``--purpose`` / ``--reason`` / ``--case`` (or ``LEDS_PURPOSE`` / ``LEDS_REASON`` /
``LEDS_CASE``). Errors print a message and a hint, never a stack trace.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from leds.config import data_dir
from leds.errors import LedsError
from leds.governance.identity import Actor, PurposeStatement, Role
from leds.service import Service

app = typer.Typer(
    name="leds",
    help="Law Enforcement Data Service (synthetic data only). Access is recorded.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
audit_app = typer.Typer(help="Read the audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

out = Console()
err = Console(stderr=True)

DataOpt = Annotated[
    Path | None, typer.Option("--data", help="Data directory [env LEDS_DATA; ./leds-data]")
]
StoreOpt = Annotated[
    str | None,
    typer.Option("--store", envvar="LEDS_STORE_URL", help="PostgreSQL URL instead of SQLite"),
]
PurposeOpt = Annotated[
    str | None, typer.Option("--purpose", envvar="LEDS_PURPOSE", help="Lawful purpose code")
]
ReasonOpt = Annotated[
    str | None,
    typer.Option("--reason", envvar="LEDS_REASON", help="Justification (at least 3 words)"),
]
CaseOpt = Annotated[
    str | None, typer.Option("--case", envvar="LEDS_CASE", help="Case or incident reference")
]
UserOpt = Annotated[str | None, typer.Option("--user", envvar="LEDS_USER", help="Acting user id")]
RoleOpt = Annotated[str, typer.Option("--role", envvar="LEDS_ROLE", help="Acting role")]
OrgOpt = Annotated[str, typer.Option("--org", envvar="LEDS_ORG", help="Acting organisation")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


def main() -> None:
    """Entry point: run the app, turning leds errors into a message and exit status 2."""
    try:
        app(standalone_mode=False)
    except LedsError as exc:
        err.print(f"[bold red]error:[/] {exc.message}")
        if exc.hint:
            err.print(f"[yellow]hint:[/] {exc.hint}")
        sys.exit(2)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        err.print("aborted")
        sys.exit(130)


def _actor(user: str | None, role: str, org: str) -> Actor:
    # Local, trusted operator of an embedded install; accounts and tokens replace this.
    return Actor(user_id=user or f"local:{getpass.getuser()}", role=role, organisation=org)


@contextmanager
def _service(data: Path | None, store: str | None) -> Iterator[Service]:
    service = Service.open(data, store)
    try:
        yield service
    finally:
        service.close()


@contextmanager
def _progress(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=err, transient=False) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def _json(value: Any) -> None:
    def plain(obj: Any) -> Any:
        if is_dataclass(obj) and not isinstance(obj, type):
            return asdict(obj)
        return str(obj)

    out.print_json(json.dumps(value, default=plain))


@app.command()
def synth(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write the world to")],
    persons: Annotated[int, typer.Option("--persons", min=1, help="True persons")] = 50_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed")] = 1,
    part_size: Annotated[int, typer.Option("--part-size", min=100)] = 50_000,
    workers: Annotated[int, typer.Option("--workers", min=1)] = 2,
    as_json: JsonOpt = False,
) -> None:
    """Generate a synthetic world: four source extracts, ground truth and the workforce."""
    from leds.synth import generate_world

    with _progress("generating persons", persons) as tick:
        manifest = generate_world(
            out_dir, persons, seed, part_size=part_size, workers=workers, progress=tick
        )
    if as_json:
        _json(manifest)
    else:
        out.print(f"world written to {out_dir} ({manifest.persons} persons, seed {seed})")


def ingest_path(
    service: Service,
    actor: Actor,
    purpose: PurposeStatement,
    source: str,
    path: Path,
    mapping: Path | None,
) -> Any:
    with _progress(f"importing {source}", None) as tick:
        return service.import_source(
            actor, purpose, source, path, mapping=mapping, progress=tick
        ).value


def _print_summary(summary: Any) -> None:
    table = Table(
        "import",
        "source",
        "status",
        "read",
        "inserted",
        "updated",
        "unchanged",
        "rejected",
        "path",
        title="imports",
    )
    table.add_row(
        str(summary.import_id),
        summary.source.value,
        summary.status,
        *(
            str(getattr(summary, k))
            for k in ("read", "inserted", "updated", "unchanged", "rejected")
        ),
        summary.path,
    )
    out.print(table)
    if summary.message:
        out.print(summary.message)


@app.command()
def ingest(
    source: Annotated[str, typer.Argument(help="pnc, pnd, dvla, iabs or csv")],
    path: Annotated[Path, typer.Argument(help="An extract file or a directory of them")],
    mapping: Annotated[Path | None, typer.Option("--mapping", help="TOML mapping (csv)")] = None,
    purpose: PurposeOpt = None,
    reason: ReasonOpt = None,
    case: CaseOpt = None,
    user: UserOpt = None,
    role: RoleOpt = Role.DATA_STEWARD.value,
    org: OrgOpt = "LEDS",
    data: DataOpt = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import a source extract (a *collection*, recorded in the audit log)."""
    statement = PurposeStatement.of(purpose, reason, case)
    with _service(data, store) as service:
        summary = ingest_path(service, _actor(user, role, org), statement, source, path, mapping)
    _json(summary) if as_json else _print_summary(summary)


@app.command()
def sources(
    purpose: PurposeOpt = None,
    reason: ReasonOpt = None,
    case: CaseOpt = None,
    user: UserOpt = None,
    role: RoleOpt = Role.DATA_STEWARD.value,
    org: OrgOpt = "LEDS",
    data: DataOpt = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List imports and the number of records held per source and kind."""
    statement = PurposeStatement.of(purpose, reason, case)
    with _service(data, store) as service:
        result = service.list_imports(_actor(user, role, org), statement)
    overview = result.value
    if as_json:
        _json(
            {
                "imports": overview.imports,
                "audit_seq": result.audit_seq,
                "counts": [
                    {"source": s, "kind": k, "records": n}
                    for (s, k), n in sorted(overview.counts.items())
                ],
            }
        )
        return
    counts = Table("source", "kind", "records", title="records held")
    for (src, kind), n in sorted(overview.counts.items()):
        counts.add_row(src, kind, f"{n:,}")
    out.print(counts)
    table = Table(
        "import",
        "source",
        "status",
        "read",
        "inserted",
        "updated",
        "unchanged",
        "rejected",
        "finished",
        "path",
        title="imports",
    )
    for s in overview.imports:
        table.add_row(
            str(s.import_id),
            s.source.value,
            s.status,
            *(
                f"{getattr(s, k):,}"
                for k in ("read", "inserted", "updated", "unchanged", "rejected")
            ),
            s.finished_at or "",
            s.path,
        )
    out.print(table)
    out.print(f"[dim]recorded as audit entry {result.audit_seq}[/]")


@app.command()
def rejections(
    import_id: Annotated[int, typer.Argument(help="Import number (see `leds sources`)")],
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 50,
    purpose: PurposeOpt = None,
    reason: ReasonOpt = None,
    case: CaseOpt = None,
    user: UserOpt = None,
    role: RoleOpt = Role.DATA_STEWARD.value,
    org: OrgOpt = "LEDS",
    data: DataOpt = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the rows an import rejected, with file, line, field and reason."""
    statement = PurposeStatement.of(purpose, reason, case)
    with _service(data, store) as service:
        result = service.list_rejections(_actor(user, role, org), statement, import_id, limit)
    if as_json:
        _json({"rejections": result.value, "audit_seq": result.audit_seq})
        return
    title = f"rejections of import {import_id}"
    table = Table("file", "line", "field", "reason", "row", title=title)
    for r in result.value:
        table.add_row(r.file, str(r.line), r.field or "", r.reason, r.raw[:60])
    out.print(table)
    out.print(f"[dim]recorded as audit entry {result.audit_seq}[/]")


@app.command()
def record(
    source: Annotated[str, typer.Argument(help="pnc, pnd, dvla, iabs or generic")],
    kind: Annotated[str, typer.Argument(help="Record kind, e.g. person, arrest, vehicle")],
    record_id: Annotated[str, typer.Argument(help="The source's own record id")],
    purpose: PurposeOpt = None,
    reason: ReasonOpt = None,
    case: CaseOpt = None,
    user: UserOpt = None,
    role: RoleOpt = Role.DATA_STEWARD.value,
    org: OrgOpt = "LEDS",
    data: DataOpt = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Read one source record with its provenance (a *consultation*, recorded)."""
    statement = PurposeStatement.of(purpose, reason, case)
    with _service(data, store) as service:
        result = service.read_record(_actor(user, role, org), statement, source, kind, record_id)
    rec = result.value
    if as_json:
        _json({"record": rec, "audit_seq": result.audit_seq})
        return
    table = Table("field", "value", title=f"{rec.source} {rec.kind} {rec.source_record_id}")
    for key, value in rec.payload.items():
        table.add_row(key, json.dumps(value) if not isinstance(value, str) else value)
    out.print(table)
    out.print(
        f"provenance: {rec.file} line {rec.line}, import {rec.import_id}, "
        f"{rec.imported_at.isoformat()}"
    )
    out.print(f"[dim]recorded as audit entry {result.audit_seq}[/]")


@audit_app.command("log")
def audit_log(
    after: Annotated[int, typer.Option("--after", min=0)] = 0,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 50,
    purpose: PurposeOpt = None,
    reason: ReasonOpt = None,
    case: CaseOpt = None,
    user: UserOpt = None,
    role: RoleOpt = Role.AUDITOR.value,
    org: OrgOpt = "OVERSIGHT",
    data: DataOpt = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show audit entries (auditors only; reading the log is itself recorded)."""
    statement = PurposeStatement.of(purpose, reason, case)
    with _service(data, store) as service:
        result = service.audit_log(_actor(user, role, org), statement, after, limit)
    if as_json:
        _json({"entries": result.value, "audit_seq": result.audit_seq})
        return
    table = Table("seq", "at", "kind", "operation", "actor", "purpose", "decision", "subjects")
    for e in result.value:
        table.add_row(
            str(e.seq),
            e.at.isoformat(timespec="seconds"),
            e.kind,
            e.operation,
            f"{e.actor_id} ({e.actor_role})",
            e.purpose,
            e.decision,
            ", ".join(e.subjects[:3]),
        )
    out.print(table)


DEMO_PURPOSE = ("admin-process", "building the synthetic demo world for local use")


@app.command()
def demo(
    persons: Annotated[int, typer.Option("--persons", min=100)] = 50_000,
    seed: Annotated[int, typer.Option("--seed")] = 1,
    workers: Annotated[int, typer.Option("--workers", min=1)] = 2,
    data: DataOpt = None,
    store: StoreOpt = None,
) -> None:
    """Build a synthetic demo world (50,000 persons by default) and ingest all four sources."""
    from leds.synth import generate_world

    directory = data_dir(data)
    world = directory / "world"
    with _progress("generating persons", persons) as tick:
        generate_world(world, persons, seed, workers=workers, progress=tick)
    actor = Actor(f"local:{getpass.getuser()}", Role.DATA_STEWARD.value, "LEDS")
    statement = PurposeStatement.of(*DEMO_PURPOSE)
    with _service(directory, store) as service:
        for source in ("pnc", "pnd", "dvla", "iabs"):
            _print_summary(ingest_path(service, actor, statement, source, world / source, None))
    out.print(
        f"[bold green]demo world ready[/] in {directory} — try: "
        f"leds sources --data {directory} --purpose admin-process "
        f"--reason 'checking the demo import'"
    )


if __name__ == "__main__":  # pragma: no cover
    main()
