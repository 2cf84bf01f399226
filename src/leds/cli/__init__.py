"""The ``leds`` command: a thin shell over the Python API (check input, call, format).

Every command that reads or writes data takes ``--data DIR`` (default ``./leds-data`` or
``$LEDS_DATA``) or ``--store URL`` for PostgreSQL, and every command that touches personal data
takes ``--purpose`` / ``--reason`` / ``--case`` (or ``LEDS_PURPOSE`` / ``LEDS_REASON`` /
``LEDS_CASE``). Errors print a message and a hint, never a stack trace.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, is_dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, get_type_hints

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

from leds.errors import LedsError
from leds.governance.authn import AuthenticatedUser, AuthenticationFailed
from leds.governance.identity import PurposeStatement
from leds.service import NewAccount, Service

app = typer.Typer(
    name="leds",
    help="Law Enforcement Data Service (synthetic data only). Access is recorded.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
audit_app = typer.Typer(help="Read, verify and witness the audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
policy_app = typer.Typer(help="The access policy.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")
users_app = typer.Typer(help="Local accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")

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
UserOpt = Annotated[
    str | None,
    typer.Option("--user", envvar="LEDS_USER", help="Sign in as (password: LEDS_PASSWORD/prompt)"),
]
TokenOpt = Annotated[
    str | None, typer.Option("--token", envvar="LEDS_TOKEN", help="Sign in with an API token")
]
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
    except typer.TyperException as exc:
        # Typer >= 0.22 raises its own copy of click's usage errors (bad option values)
        show = getattr(exc, "show", None)
        if show is None:
            raise
        show()
        sys.exit(int(getattr(exc, "exit_code", 2)))
    except (click.exceptions.Abort, typer.Abort):
        err.print("aborted")
        sys.exit(130)


def _login(service: Service, user: str | None, token: str | None) -> AuthenticatedUser:
    """Sign in with a token, or a user id and password (``LEDS_PASSWORD`` or a prompt)."""
    if token:
        return service.login_token(token)
    if not user:
        raise AuthenticationFailed(
            "sign in first",
            hint="give --user USER (password from LEDS_PASSWORD or a prompt) or --token TOKEN",
        )
    password = os.environ.get("LEDS_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise AuthenticationFailed("no password", hint="set LEDS_PASSWORD or run in a terminal")
        password = typer.prompt(f"password for {user}", hide_input=True)
    return service.login(user, password)


@contextmanager
def _service(data: Path | None, store: str | None) -> Iterator[Service]:
    service = Service.open(data, store)
    try:
        yield service
    finally:
        service.close()


@dataclass(frozen=True, slots=True)
class Access:
    """Who is asking and why: the options every command on personal data takes."""

    purpose: str | None = None
    reason: str | None = None
    case: str | None = None
    user: str | None = None
    token: str | None = None
    data: Path | None = None
    store: str | None = None

    def statement(self) -> PurposeStatement:
        return PurposeStatement.of(self.purpose, self.reason, self.case)

    @contextmanager
    def service(self) -> Iterator[Service]:
        with _service(self.data, self.store) as service:
            yield service

    def login(self, service: Service) -> AuthenticatedUser:
        return _login(service, self.user, self.token)


ACCESS = Access()  # replaced by the options given on the command line

_ACCESS_OPTIONS: dict[str, Any] = {
    "purpose": PurposeOpt,
    "reason": ReasonOpt,
    "case": CaseOpt,
    "user": UserOpt,
    "token": TokenOpt,
    "data": DataOpt,
    "store": StoreOpt,
}


def with_access(command: Callable[..., None]) -> Callable[..., None]:
    """Give ``command`` the shared sign-in, purpose and data options as one ``access``
    argument (Typer reads the options from the signature this builds)."""
    hints = get_type_hints(command, include_extras=True)
    own = [
        p.replace(annotation=hints[p.name])
        for p in inspect.signature(command).parameters.values()
        if p.name != "access"
    ]
    shared = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=kind)
        for name, kind in _ACCESS_OPTIONS.items()
    ]

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        access = Access(**{name: kwargs.pop(name, None) for name in _ACCESS_OPTIONS})
        command(*args, access=access, **kwargs)

    run.__signature__ = inspect.Signature([*own, *shared])  # type: ignore[attr-defined]
    run.__annotations__ = {**{p.name: p.annotation for p in own}, **_ACCESS_OPTIONS}
    return run


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
    actor: AuthenticatedUser,
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
@with_access
def ingest(
    source: Annotated[str, typer.Argument(help="pnc, pnd, dvla, iabs or csv")],
    path: Annotated[Path, typer.Argument(help="An extract file or a directory of them")],
    mapping: Annotated[Path | None, typer.Option("--mapping", help="TOML mapping (csv)")] = None,
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """Import a source extract (a *collection*, recorded in the audit log)."""
    statement = access.statement()
    with access.service() as service:
        summary = ingest_path(service, access.login(service), statement, source, path, mapping)
    _json(summary) if as_json else _print_summary(summary)


@app.command()
@with_access
def sources(
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """List imports and the number of records held per source and kind."""
    statement = access.statement()
    with access.service() as service:
        result = service.list_imports(access.login(service), statement)
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
@with_access
def rejections(
    import_id: Annotated[int, typer.Argument(help="Import number (see `leds sources`)")],
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 50,
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """Show the rows an import rejected, with file, line, field and reason."""
    statement = access.statement()
    with access.service() as service:
        result = service.list_rejections(access.login(service), statement, import_id, limit)
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
@with_access
def record(
    source: Annotated[str, typer.Argument(help="pnc, pnd, dvla, iabs or generic")],
    kind: Annotated[str, typer.Argument(help="Record kind, e.g. person, arrest, vehicle")],
    record_id: Annotated[str, typer.Argument(help="The source's own record id")],
    sensitive: Annotated[
        str | None,
        typer.Option("--sensitive", help="Justification to see sensitive fields (recorded)"),
    ] = None,
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """Read one source record with its provenance (a *consultation*, recorded); fields you
    may not see are withheld and listed with the reason."""
    statement = access.statement()
    with access.service() as service:
        who = access.login(service)
        result = service.read_record(who, statement, source, kind, record_id, sensitive=sensitive)
    view = result.value
    if as_json:
        _json(
            {
                "source_record_id": view.source_record_id,
                "record": view.record.to_dict(),
                "provenance": {
                    "file": view.file,
                    "line": view.line,
                    "import": view.import_id,
                    "imported_at": view.imported_at.isoformat(),
                },
                "sensitive_step": view.sensitive_step,
                "audit_seq": result.audit_seq,
            }
        )
        return
    shown = view.record
    table = Table("field", "value", title=f"{shown.source} {shown.kind} {view.source_record_id}")
    for key, value in shown.payload.items():
        table.add_row(key, value if isinstance(value, str) else json.dumps(value))
    out.print(table)
    if shown.withheld:
        withheld = Table("withheld field", "class", "why", title="withheld")
        for w in shown.withheld:
            withheld.add_row(w.field, w.field_class, w.reason)
        out.print(withheld)
    out.print(
        f"provenance: {view.file} line {view.line}, import {view.import_id}, "
        f"{view.imported_at.isoformat()}"
    )
    out.print(f"[dim]recorded as audit entry {result.audit_seq}[/]")


@app.command()
@with_access
def erase(
    source: Annotated[str, typer.Argument(help="pnc, pnd, dvla, iabs or generic")],
    kind: Annotated[str, typer.Argument(help="Record kind, e.g. person, marker")],
    record_id: Annotated[str, typer.Argument(help="The source's own record id")],
    why: Annotated[str, typer.Option("--why", help="Why it is erased (retention, rectification)")],
    access: Access = ACCESS,
) -> None:
    """Erase one source record (data stewards). The audit log records the erasure, not the
    erased content."""
    statement = access.statement()
    with access.service() as service:
        who = access.login(service)
        result = service.erase_record(who, statement, source, kind, record_id, why)
    out.print(f"erased record {result.value} [dim](audit entry {result.audit_seq})[/]")


@audit_app.command("log")
@with_access
def audit_log(
    after: Annotated[int, typer.Option("--after", min=0)] = 0,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 50,
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """Show audit entries (auditors only; reading the log is itself recorded)."""
    statement = access.statement()
    with access.service() as service:
        result = service.audit_log(access.login(service), statement, after, limit)
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


@audit_app.command("verify")
@with_access
def audit_verify(
    trusted: Annotated[
        Path | None,
        typer.Option("--trusted", help="A checkpoint note held outside leds (e.g. the witness's)"),
    ] = None,
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """Recompute the whole log; fail naming the first bad entry or checkpoint."""
    statement = access.statement()
    held = _read_text(trusted) if trusted else None
    with access.service() as service:
        who = access.login(service)
        with _progress("verifying entries", None) as tick:
            result = service.verify_audit(who, statement, trusted=held, progress=tick)
    report = result.value
    if as_json:
        _json(
            {
                "entries": report.entries,
                "checkpoints": report.checkpoints,
                "root": report.root.hex(),
                "head": report.head_note,
                "audit_seq": result.audit_seq,
            }
        )
        return
    out.print(
        f"[bold green]verified[/] {report.entries:,} entries and {report.checkpoints:,} "
        f"signed checkpoints; root {report.root.hex()}"
    )


@audit_app.command("prove")
@with_access
def audit_prove(
    seq: Annotated[int, typer.Argument(min=1, help="Audit entry sequence number")],
    access: Access = ACCESS,
) -> None:
    """Print an inclusion proof of one entry against the signed head (JSON, no content)."""
    statement = access.statement()
    with access.service() as service:
        result = service.prove_audit(access.login(service), statement, seq)
    proof = result.value
    _json(
        {
            "seq": proof.seq,
            "leaf_index": proof.leaf_index,
            "leaf_input": proof.leaf_input.hex(),
            "proof": [h.hex() for h in proof.proof],
            "checkpoint": proof.checkpoint,
            "audit_seq": result.audit_seq,
        }
    )


@audit_app.command("witness")
@with_access
def audit_witness(
    state: Annotated[Path, typer.Option("--state", help="The witness's own state file")],
    key: Annotated[Path, typer.Option("--key", help="The witness's signing key file")],
    log_key: Annotated[
        str | None, typer.Option("--log-key", help="The log's verifier key it trusts")
    ] = None,
    access: Access = ACCESS,
) -> None:
    """The oversight body's witness: cosign the log's head only if it is consistent with the
    last checkpoint this witness cosigned (refuses a smaller tree or a fork)."""
    from leds.governance.audit.keys import load_or_create_signer
    from leds.governance.audit.notes import NoteVerifier
    from leds.governance.audit.witness import Witness

    statement = access.statement()
    signer = load_or_create_signer(key, name="leds-oversight-witness")
    with access.service() as service:
        verifier = NoteVerifier.from_string(log_key) if log_key else service.log_verifier
        witness = Witness(state, signer, verifier)
        result = service.witness_cosign(access.login(service), statement, witness)
    out.print(result.value, end="")
    out.print(f"[dim]witness key {witness.verifier_key_string()}[/]")


@policy_app.command("explain")
def policy_explain(
    role: Annotated[str, typer.Option("--role", help="Role of the user")],
    org: Annotated[str, typer.Option("--org", help="Organisation code")],
    action: Annotated[str, typer.Option("--action", help="e.g. search_person, view_record")],
    purpose: Annotated[str, typer.Option("--purpose", help="Purpose code")],
    source: Annotated[str | None, typer.Option("--source")] = None,
    field_class: Annotated[str | None, typer.Option("--field-class")] = None,
    case: Annotated[bool, typer.Option("--case/--no-case", help="A case reference given")] = False,
    sensitive: Annotated[bool, typer.Option("--sensitive-step")] = False,
    vetting: Annotated[bool, typer.Option("--vetting-valid/--vetting-expired")] = True,
    training: Annotated[bool, typer.Option("--training-valid/--training-expired")] = True,
) -> None:
    """Say which policy decides a request, and why (no data is read)."""
    from leds.governance.identity import Actor
    from leds.governance.policy import explain, request_for

    request = request_for(
        Actor("explain", role, org),
        action,
        purpose,
        source=source,
        field_class=field_class,
        has_case_ref=case,
        sensitive_step=sensitive,
        vetting_valid=vetting,
        training_valid=training,
    )
    out.print(explain(request), markup=False, highlight=False)


@users_app.command("add")
@with_access
def users_add(
    new_user: Annotated[str, typer.Argument(help="User id of the new account")],
    role: Annotated[str, typer.Option("--role", help="One of the nine roles")],
    org: Annotated[str, typer.Option("--org", help="Organisation code")],
    name: Annotated[str, typer.Option("--name", help="Display name")] = "",
    unit: Annotated[str, typer.Option("--unit")] = "",
    vetting_expires: Annotated[str, typer.Option("--vetting-expires", help="YYYY-MM-DD")] = "",
    training_expires: Annotated[str, typer.Option("--training-expires", help="YYYY-MM-DD")] = "",
    access: Access = ACCESS,
) -> None:
    """Add a local account (administrators; the very first account needs no sign-in and must
    be an administrator). The new password comes from LEDS_NEW_PASSWORD or a prompt."""
    statement = access.statement()
    password = os.environ.get("LEDS_NEW_PASSWORD")
    if password is None:
        password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    new = NewAccount(
        new_user,
        name or new_user,
        role,
        org,
        unit,
        password,
        _date(vetting_expires, 365),
        _date(training_expires, 365),
    )
    with access.service() as service:
        who = access.login(service) if service.has_accounts() else None
        result = service.add_account(who, statement, new)
    out.print(f"account {result.value} added [dim](audit entry {result.audit_seq})[/]")


@app.command("token")
@with_access
def token_create(
    label: Annotated[str, typer.Option("--label", help="What the token is for")],
    days: Annotated[int, typer.Option("--days", min=1, max=365)] = 30,
    access: Access = ACCESS,
) -> None:
    """Create an API token for yourself; it is shown once (leds keeps only its hash)."""
    statement = access.statement()
    with access.service() as service:
        result = service.create_token(access.login(service), statement, label, days)
    out.print(result.value, markup=False, highlight=False)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LedsError(f"cannot read {path}: {exc.strerror}") from None


def _date(text: str, default_days: int) -> date:
    if not text:
        return date.today() + timedelta(days=default_days)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise LedsError(f"not a date: {text!r}", hint="use YYYY-MM-DD") from None


# Command groups in their own modules register themselves on ``app``.
from leds.cli import biometrics, link, search, serve  # noqa: E402,F401

if __name__ == "__main__":  # pragma: no cover
    main()
