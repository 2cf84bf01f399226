"""``leds link``: run linkage, explain a pair, review the queue, decide, undo, history, evaluate.

Thin commands: parse the input, call the :class:`leds.service.Service` operation, format the
answer as a Rich table or (``--json``) as JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

from leds.cli import ACCESS, Access, JsonOpt, app, err, out, with_access
from leds.cli.search import emit_json, plain

link_app = typer.Typer(
    help="Record linkage: link the sources into persons, explain, review, evaluate.",
    invoke_without_command=True,
)
app.add_typer(link_app, name="link")


class PairDecision(StrEnum):
    match = "match"
    not_a_match = "not-a-match"
    unsure = "unsure"


RecordRef = Annotated[str, typer.Argument(help="Internal record id (123) or SOURCE:ID")]
WhyOpt = Annotated[str, typer.Option("--why", help="Why (recorded with the decision)")]

_STAGES = {
    "read": "reading person records",
    "train": "training the model (steps)",
    "predict": "scoring pairs",
    "cluster": "clustering records",
}


@contextmanager
def stage_progress() -> Iterator[Callable[[str, int], None]]:
    """A Rich progress display with one line per linkage stage (``progress(stage, n)``)."""
    columns = [TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,}")]
    with Progress(*columns, TimeElapsedColumn(), console=err, transient=False) as bar:
        tasks: dict[str, TaskID] = {}

        def tick(stage: str, n: int) -> None:
            if stage not in tasks:
                for other in tasks.values():
                    bar.update(other, total=bar.tasks[other].completed)
                tasks[stage] = bar.add_task(_STAGES.get(stage, stage), total=None)
            bar.advance(tasks[stage], n)

        yield tick
        for task in tasks.values():
            bar.update(task, total=bar.tasks[task].completed)


def _print_run(result: Any, audit_seq: int) -> None:
    outcome = result.outcome
    table = Table("", "", title=f"link run {result.run_id} ({result.kind})", show_header=False)
    rows: list[tuple[str, str]] = [
        ("model", f"{result.model_version} ({'trained' if result.trained else 'reused'})"),
        ("person records read", f"{result.records:,}"),
        ("pairs scored", f"{result.pairs:,}"),
        ("persons", f"{outcome.persons:,}"),
        ("new persons", f"{len(outcome.created):,}"),
        ("merges", f"{len(outcome.merged):,}"),
        ("splits", f"{len(outcome.split):,}"),
        ("records that changed person", f"{len(outcome.records_changed):,}"),
        ("attached to existing persons", f"{getattr(outcome, 'attached', 0):,}"),
        ("queued for review", f"{result.queued_for_review:,}"),
    ]
    for stage, secs in result.seconds.items():
        rows.append((f"{stage} time", f"{secs:.1f} s"))
    for k, v in rows:
        table.add_row(k, v)
    out.print(table)
    out.print(f"[dim]recorded as audit entry {audit_seq}[/]")


@link_app.callback()
@with_access
def link_run(
    ctx: typer.Context,
    incremental: Annotated[
        bool, typer.Option("--incremental", help="Attach only the records of --import N")
    ] = False,
    import_ids: Annotated[
        list[int] | None, typer.Option("--import", help="Import number to attach (repeatable)")
    ] = None,
    retrain: Annotated[
        bool, typer.Option("--retrain/--no-retrain", help="Train the model again (full run)")
    ] = True,
    threshold: Annotated[
        float | None,
        typer.Option("--threshold", min=0.0, max=1.0, help="Match probability to link at"),
    ] = None,
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """Link the person records of every source into persons (data stewards; a recorded
    *combination*). Without a sub-command: a full run (or --incremental --import N)."""
    if ctx.invoked_subcommand is not None:
        return
    statement = access.statement()
    with access.service() as service:
        who = access.login(service)
        with stage_progress() as tick:
            result = service.link_records(
                who,
                statement,
                incremental=incremental,
                import_ids=tuple(import_ids or ()),
                retrain=retrain,
                threshold=threshold,
                progress=tick,
            )
    run = result.value
    if as_json:
        emit_json(
            {
                "run_id": run.run_id,
                "kind": run.kind,
                "model_version": run.model_version,
                "trained": run.trained,
                "records": run.records,
                "pairs": run.pairs,
                "queued_for_review": run.queued_for_review,
                "outcome": run.outcome.counts(),
                "seconds": run.seconds,
                "audit_seq": result.audit_seq,
            }
        )
        return
    _print_run(run, result.audit_seq)


@link_app.command("explain")
@with_access
def link_explain(
    record_a: RecordRef,
    record_b: RecordRef,
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """Why two person records are (or are not) one person: the match-weight waterfall."""
    statement = access.statement()
    with access.service() as service:
        result = service.link_explain(access.login(service), statement, record_a, record_b)
    view = result.value
    ex = view.explanation
    if as_json:
        emit_json(
            {
                "record_a": view.record_a,
                "record_b": view.record_b,
                "person_a": view.person_a,
                "person_b": view.person_b,
                "explanation": ex.to_dict(),
                "waterfall": [
                    {"step": s, "weight": w, "running_total": t} for s, w, t in ex.waterfall()
                ],
                "audit_seq": result.audit_seq,
            }
        )
        return
    table = Table(
        "comparison",
        "level",
        "weight",
        "running total",
        view.record_a,
        view.record_b,
        title=f"{view.record_a} vs {view.record_b} (model {ex.model_version})",
    )
    table.add_row("prior", "", f"{ex.prior:+.2f}", f"{ex.prior:+.2f}", "", "")
    running = ex.prior
    for c in ex.comparisons:
        running += c.match_weight
        colour = "green" if c.match_weight > 0 else "red" if c.match_weight < 0 else "dim"
        table.add_row(
            c.comparison,
            c.level,
            f"[{colour}]{c.match_weight:+.2f}[/]",
            f"{running:+.2f}",
            _values(c.left),
            _values(c.right),
        )
    table.add_row("[bold]total[/]", "", "", f"[bold]{ex.match_weight:+.2f}[/]", "", "")
    out.print(table)
    same = view.person_a is not None and view.person_a == view.person_b
    out.print(
        f"match probability {ex.match_probability:.4f}; persons: {view.person_a or '-'} and "
        f"{view.person_b or '-'} ({'the same person' if same else 'different persons'})"
    )
    out.print(f"[dim]recorded as audit entry {result.audit_seq}[/]")


def _values(values: dict[str, Any]) -> str:
    shown = [f"{k}={v}" for k, v in values.items() if v not in (None, "", [])]
    return ", ".join(shown)[:60]


@link_app.command("review")
@with_access
def link_review(
    limit: Annotated[int, typer.Option("--limit", min=1, max=1_000)] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """The review queue: pairs near the threshold, most uncertain first."""
    statement = access.statement()
    with access.service() as service:
        result = service.link_review_queue(access.login(service), statement, limit, offset)
    if as_json:
        emit_json({"items": result.value, "audit_seq": result.audit_seq})
        return
    table = Table(
        "item",
        "record a",
        "record b",
        "prob.",
        "weight",
        "why",
        Column("person a", no_wrap=True, min_width=11),
        Column("person b", no_wrap=True, min_width=11),
        title="link review queue",
    )
    for i in result.value:
        table.add_row(
            str(i.id),
            str(i.record_a),
            str(i.record_b),
            f"{i.probability:.3f}",
            f"{i.weight:+.2f}",
            i.reason,
            i.person_a or "",
            i.person_b or "",
        )
    out.print(table)
    if not result.value:
        out.print("the queue is empty")
    else:
        out.print("decide with: leds link decide A B match|not-a-match|unsure --why TEXT")
    out.print(f"[dim]recorded as audit entry {result.audit_seq}[/]")


def _print_decision(made: Any, audit_seq: int, verb: str) -> None:
    change = made.change
    out.print(
        f"decision {made.id} {verb}: {made.record_a} / {made.record_b} {made.decision} "
        f"— persons concerned: {', '.join(change.persons) or 'none'}"
    )
    for froms, into in change.merged:
        out.print(f"  merged {', '.join(froms)} into {into}")
    for source, into_ids in change.split:
        out.print(f"  split {source} into {', '.join(into_ids)}")
    out.print(f"  {len(change.records_changed)} record(s) changed person")
    out.print(f"[dim]recorded as audit entry {audit_seq}[/]")


@link_app.command("decide")
@with_access
def link_decide(
    record_a: RecordRef,
    record_b: RecordRef,
    decision: Annotated[PairDecision, typer.Argument(help="match, not-a-match or unsure")],
    why: WhyOpt,
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """Decide a pair (applied to the person index at once, kept by every later run)."""
    statement = access.statement()
    with access.service() as service:
        who = access.login(service)
        result = service.link_decide(who, statement, record_a, record_b, decision.value, why)
    if as_json:
        emit_json({"decision": result.value, "audit_seq": result.audit_seq})
        return
    _print_decision(result.value, result.audit_seq, "recorded")


@link_app.command("undo")
@with_access
def link_undo(
    decision_id: Annotated[int, typer.Argument(min=1, help="Decision number")],
    why: WhyOpt,
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """Undo a review decision (the index changes back; recorded)."""
    statement = access.statement()
    with access.service() as service:
        result = service.link_undo(access.login(service), statement, decision_id, why)
    if as_json:
        emit_json({"decision": result.value, "audit_seq": result.audit_seq})
        return
    _print_decision(result.value, result.audit_seq, "undone")


@link_app.command("history")
@with_access
def link_history(
    person_id: Annotated[str, typer.Argument(help="Person id (see `leds search person`)")],
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """Which person ids became which, when and why."""
    statement = access.statement()
    with access.service() as service:
        result = service.person_history(access.login(service), statement, person_id)
    if as_json:
        emit_json({"events": result.value, "audit_seq": result.audit_seq})
        return
    table = Table(
        Column("at", no_wrap=True),
        "event",
        "from",
        "to",
        "records",
        "run",
        "decision",
        "why",
        title=f"history of {person_id}",
    )
    for e in result.value:
        table.add_row(
            e.at.strftime("%Y-%m-%d %H:%M"),
            e.event,
            ", ".join(e.from_ids),
            ", ".join(e.to_ids),
            str(e.records),
            str(e.run_id or ""),
            str(e.decision_id or ""),
            e.reason,
        )
    out.print(table)
    out.print(f"[dim]recorded as audit entry {result.audit_seq}[/]")


@link_app.command("evaluate")
@with_access
def link_evaluate(
    world: Annotated[
        Path | None,
        typer.Option("--world", help="A synthetic world (its truth/ files) [DATA/world]"),
    ] = None,
    threshold: Annotated[
        list[float] | None,
        typer.Option("--threshold", min=0.0, max=1.0, help="A curve point (repeatable)"),
    ] = None,
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """Compare the person index with a ground truth: pairwise and B-cubed P/R/F1, per pair
    of sources, and (with --threshold) a curve over thresholds."""
    statement = access.statement()
    with access.service() as service:
        if world is None and (service.data_dir / "world" / "truth").is_dir():
            world = service.data_dir / "world"
        result = service.link_evaluate(
            access.login(service), statement, world=world, thresholds=tuple(threshold or ())
        )
    ev = result.value
    if as_json:
        emit_json(
            {
                "overall": ev.overall,
                "by_source_pair": {"-".join(k): v for k, v in ev.by_source_pair.items()},
                "curve": ev.curve,
                "world": str(world) if world else None,
                "audit_seq": result.audit_seq,
            }
        )
        return
    m = ev.overall
    table = Table("measure", "precision", "recall", "F1", title="linkage against the truth")
    table.add_row("pairwise", f"{m.precision:.4f}", f"{m.recall:.4f}", f"{m.f1:.4f}")
    table.add_row(
        "B-cubed", f"{m.bcubed_precision:.4f}", f"{m.bcubed_recall:.4f}", f"{m.bcubed_f1:.4f}"
    )
    out.print(table)
    out.print(
        f"{m.records:,} records ({m.unpredicted:,} not in the index); "
        f"{m.predicted_clusters:,} persons predicted, {m.true_clusters:,} true; pairs: "
        f"{m.true_positive_pairs:,} right, {m.false_positive_pairs:,} wrongly linked, "
        f"{m.false_negative_pairs:,} missed"
    )
    if ev.by_source_pair:
        pairs = Table(
            "sources", "true pairs", "linked", "precision", "recall", "F1", title="by source pair"
        )
        for key, p in sorted(ev.by_source_pair.items()):
            pairs.add_row(
                " – ".join(key),
                f"{p.true_pairs:,}",
                f"{p.predicted_pairs:,}",
                f"{p.precision:.4f}",
                f"{p.recall:.4f}",
                f"{p.f1:.4f}",
            )
        out.print(pairs)
    if ev.curve:
        curve = Table("threshold", "precision", "recall", "F1", "B-cubed F1", title="curve")
        for point in ev.curve:
            c = point.metrics
            curve.add_row(
                f"{point.threshold:.3f}",
                f"{c.precision:.4f}",
                f"{c.recall:.4f}",
                f"{c.f1:.4f}",
                f"{c.bcubed_f1:.4f}",
            )
        out.print(curve)
    out.print(f"[dim]recorded as audit entry {result.audit_seq}[/]")


__all__ = ["link_app", "plain", "stage_progress"]
