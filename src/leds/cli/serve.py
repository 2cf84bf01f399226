"""``leds serve`` (the REST API and web UI) and ``leds demo`` (a complete demo world: four
sources imported, linked into persons, biometric galleries enrolled; then served)."""

from __future__ import annotations

import shlex
import shutil
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from leds.cli import (
    DataOpt,
    StoreOpt,
    _print_summary,
    _progress,
    _service,
    app,
    ingest_path,
    out,
)
from leds.cli.link import stage_progress
from leds.config import data_dir
from leds.demo import (
    DEMO_PASSWORD,
    DEMO_PURPOSE,
    DemoAccount,
    DemoSamples,
    StepOutcome,
    build_world,
    create_demo_accounts,
    demo_samples,
    link_and_enrol,
)
from leds.governance.identity import PurposeStatement, Role

HostOpt = Annotated[str, typer.Option("--host", help="Address to listen on")]
PortOpt = Annotated[int, typer.Option("--port", min=1, max=65_535, help="Port to listen on")]


WorkersOpt = Annotated[
    int,
    typer.Option(
        "--workers",
        min=1,
        max=64,
        help="Server processes sharing the port (sessions and the audit log are in the store)",
    ),
]


def _serve(data: Path | None, store: str | None, host: str, port: int, workers: int = 1) -> None:
    from leds.api import serve as run_server

    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    out.print(f"[bold green]serving[/] the API and web UI on http://{shown}:{port}/ (Ctrl-C stops)")
    run_server(data_dir(data), store, host=host, port=port, workers=workers)


@app.command("serve")
def serve(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    data: DataOpt = None,
    store: StoreOpt = None,
    workers: WorkersOpt = 1,
) -> None:
    """Run the REST API and the web UI (until interrupted)."""
    _serve(data, store, host, port, workers)


def _print_steps(steps: list[StepOutcome]) -> None:
    table = Table("step", "outcome", "time", title="linkage and biometric galleries")
    for step in steps:
        table.add_row(step.name, _describe(step), f"{step.seconds:.1f} s")
    out.print(table)


def _describe(step: StepOutcome) -> str:
    if not step.ok:
        return f"[bold red]failed[/] (the demo goes on without it): {step.error}"
    value: Any = step.value
    if step.name == "link":
        o = value.outcome
        return (
            f"{value.records:,} person records → {o.persons:,} persons "
            f"({value.pairs:,} pairs scored, {value.queued_for_review:,} queued for review)"
        )
    text = (
        f"{value.enrolled:,} enrolled, {value.already:,} already, {value.failed:,} failed to "
        f"enrol; gallery {value.gallery_size:,}"
    )
    if value.gallery_size == 0:
        text += " [yellow](empty: searches of it return no candidates)[/]"
    return text


def _leds_command() -> str:
    """How to run ``leds`` from here: ``leds`` if it is on the PATH, else its path."""
    here = Path(sys.executable).parent / "leds"
    if shutil.which("leds") == str(here) or not here.exists():
        return "leds"
    try:
        return str(here.relative_to(Path.cwd()))
    except ValueError:
        return str(here)


def _sample_commands(
    directory: Path, users: dict[str, DemoAccount], samples: DemoSamples | None, password: str
) -> list[tuple[str, str]]:
    d = shlex.quote(str(directory))
    inv = users[Role.INVESTIGATOR.value].user_id
    steward = users[Role.DATA_STEWARD.value].user_id
    env = f"LEDS_PASSWORD={shlex.quote(password)} LEDS_DATA={d}"
    crime = f"--user {inv} --purpose crime --case DEMO/0001 --reason 'demo enquiry into a burglary'"
    admin = f"--user {steward} --purpose admin-process --reason 'checking the demo linkage'"
    env += f" {shlex.quote(_leds_command())}"
    commands: list[tuple[str, str]] = []
    if samples is not None:
        year = f" --year {samples.year}" if samples.year else ""
        commands += [
            (
                f"a person, surname misspelt ({samples.true_surname} as {samples.surname})",
                f"{env} search person --surname {samples.surname} "
                f"--forenames {shlex.quote(samples.forenames)}{year} {crime}",
            ),
            (
                f"a partial plate ({samples.plate})",
                f"{env} search vehicle {shlex.quote(samples.partial_plate)} {crime}",
            ),
            ("an identifier (a PNC ID)", f"{env} search id {samples.pnc_id} {crime}"),
        ]
    operator = users[Role.FACIAL_SEARCH_OPERATOR.value].user_id
    commands += [
        (
            "a face search with a photo of your own (candidates for human review)",
            f"{env} face search PHOTO.jpg --user {operator} --purpose crime --case DEMO/0001 "
            "--reason 'demo search for a suspect'",
        ),
        ("the linkage review queue", f"{env} link review {admin}"),
        ("linkage against the ground truth", f"{env} link evaluate {admin}"),
        ("the sources and imports", f"{env} sources {admin}"),
    ]
    return commands


@app.command()
def demo(
    persons: Annotated[int, typer.Option("--persons", min=100)] = 50_000,
    seed: Annotated[int, typer.Option("--seed")] = 1,
    workers: Annotated[int, typer.Option("--workers", min=1)] = 2,
    password: Annotated[
        str, typer.Option("--password", envvar="LEDS_DEMO_PASSWORD", help="Demo accounts' password")
    ] = DEMO_PASSWORD,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the web UI and API afterwards")
    ] = True,
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    data: DataOpt = None,
    store: StoreOpt = None,
) -> None:
    """Build a synthetic demo world (50,000 persons by default) with one demo account per
    role: ingest all four sources, link them into persons and enrol the face and fingerprint
    galleries as the demo data steward; then serve the web UI (--no-serve to skip)."""
    directory = data_dir(data)
    started = time.perf_counter()
    with _progress("generating persons", persons) as tick:
        world = build_world(directory, persons, seed, workers=workers, progress=tick)
    statement = PurposeStatement.of(*DEMO_PURPOSE)
    with _service(directory, store) as service:
        users = create_demo_accounts(service, world, password)
        steward = service.login(users[Role.DATA_STEWARD.value].user_id, password)
        for source in ("pnc", "pnd", "dvla", "iabs"):
            _print_summary(ingest_path(service, steward, statement, source, world / source, None))
        with stage_progress() as tick_stage:
            steps = link_and_enrol(
                service,
                steward,
                link_progress=tick_stage,
                enrol_progress=lambda m: lambda n: tick_stage(f"enrolling {m} samples", n),
            )
    _print_steps(steps)
    table = Table("role", "user", "organisation", title=f"demo accounts (password: {password})")
    for role, account in users.items():
        table.add_row(role, account.user_id, account.organisation)
    out.print(table)
    out.print(
        f"[bold green]demo world ready[/] in {directory} "
        f"({time.perf_counter() - started:.0f} s) — try:"
    )
    for label, command in _sample_commands(directory, users, demo_samples(world), password):
        out.print(f"  [dim]# {label}[/]")
        out.print(f"  {command}", markup=False, highlight=False, soft_wrap=True)
    if serve_after:
        _serve(directory, store, host, port)
