"""``leds face`` / ``leds fingerprint`` (1:N searches and their human review) and
``leds biometrics`` (enrolment, evaluation, thresholds).

A candidate list is an investigative lead, never an identification: every list printed says so.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from leds.cli import ACCESS, Access, JsonOpt, _progress, app, out, with_access
from leds.cli.search import audit_note, emit_json
from leds.errors import LedsError

face_app = typer.Typer(help="Face 1:N searches and their review.", no_args_is_help=True)
app.add_typer(face_app, name="face")
fingerprint_app = typer.Typer(help="Fingerprint 1:N searches.", no_args_is_help=True)
app.add_typer(fingerprint_app, name="fingerprint")
bio_app = typer.Typer(
    help="Biometric galleries: enrolment, evaluation and thresholds.", no_args_is_help=True
)
app.add_typer(bio_app, name="biometrics")
threshold_app = typer.Typer(help="Propose and approve decision thresholds.", no_args_is_help=True)
bio_app.add_typer(threshold_app, name="threshold")


class Modality(StrEnum):
    face = "face"
    fingerprint = "fingerprint"


class CandidateDecision(StrEnum):
    possible_match = "possible-match"
    not_a_match = "not-a-match"
    inconclusive = "inconclusive"


SearchId = Annotated[int, typer.Argument(min=1, help="Search number (printed by the search)")]
CandidatesOpt = Annotated[
    int | None,
    typer.Option("--candidates", min=2, max=50, help="Candidate list length R [20]"),
]


def _read_image(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LedsError(
            f"cannot read {path}: {exc.strerror}", hint="give the path of an image file"
        ) from None
    if not data:
        raise LedsError(f"{path} is empty", hint="give the path of an image file")
    return data


def _print_candidates(found: Any, audit_seq: int) -> None:
    title = (
        f"{found.modality} search {found.search_id}: {len(found.candidates)} candidates "
        f"(threshold v{found.threshold_version} = {found.threshold:.3f}, {found.algorithm})"
    )
    table = Table(
        "rank", "score", "above threshold", "record", "person record", "sample", title=title
    )
    for c in found.candidates:
        table.add_row(
            str(c.rank),
            f"{c.score:.3f}",
            "[bold]yes[/]" if c.above_threshold else "",
            f"{c.record_source}:{c.record_kind} {c.record_source_id} (#{c.record_id})",
            f"{c.person_source_id or ''}"
            + (f" (#{c.person_record_id})" if c.person_record_id else ""),
            c.sample_ref,
        )
    out.print(table)
    out.print(f"[bold yellow]{found.notice.upper()}[/]")
    out.print(
        f"review each candidate: leds face decide {found.search_id} RANK "
        "possible-match|not-a-match|inconclusive --why TEXT; then leds face close "
        f"{found.search_id}"
    )
    audit_note(audit_seq)


def _candidates_json(found: Any, audit_seq: int) -> None:
    emit_json(
        {
            "search_id": found.search_id,
            "modality": found.modality,
            "notice": found.notice,
            "probe_sha256": found.probe_sha256,
            "algorithm": found.algorithm,
            "threshold": {"version": found.threshold_version, "value": found.threshold},
            "list_length": found.list_length,
            "status": found.status,
            "candidates": [c.as_dict() for c in found.candidates],
            "audit_seq": audit_seq,
        }
    )


@face_app.command("search")
@with_access
def face_search(
    photo: Annotated[Path, typer.Argument(help="Probe photo (JPEG or PNG); it is not kept")],
    candidates: CandidatesOpt = None,
    face: Annotated[
        int | None, typer.Option("--face", min=0, help="Which face, if the photo has several")
    ] = None,
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """Search the face gallery: a recorded list of candidates (an investigative lead — not an
    identification) for human review."""
    image = _read_image(photo)
    statement = access.statement()
    with access.service() as service:
        who = access.login(service)
        result = service.face_search(who, statement, image, list_length=candidates, face_index=face)
    if as_json:
        _candidates_json(result.value, result.audit_seq)
    else:
        _print_candidates(result.value, result.audit_seq)


@fingerprint_app.command("search")
@with_access
def fingerprint_search(
    image: Annotated[Path, typer.Argument(help="Probe print image (500 ppi); it is not kept")],
    candidates: CandidatesOpt = None,
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """Search the fingerprint gallery: a recorded candidate list for human review."""
    data = _read_image(image)
    statement = access.statement()
    with access.service() as service:
        who = access.login(service)
        result = service.fingerprint_search(who, statement, data, list_length=candidates)
    if as_json:
        _candidates_json(result.value, result.audit_seq)
    else:
        _print_candidates(result.value, result.audit_seq)


@face_app.command("review")
@with_access
def face_review(search_id: SearchId, access: Access = ACCESS, as_json: JsonOpt = False) -> None:
    """A search's candidates with their first and second decisions (face or fingerprint)."""
    statement = access.statement()
    with access.service() as service:
        result = service.biometric_candidates(access.login(service), statement, search_id)
    state = result.value
    if as_json:
        emit_json({**state.as_dict(), "audit_seq": result.audit_seq})
        return
    table = Table(
        "rank",
        "score",
        "record",
        "first",
        "second",
        "outcome",
        title=f"search {state.search_id} ({state.status})",
    )
    for r in state.reviews:
        c = r.candidate
        table.add_row(
            str(c.rank),
            f"{c.score:.3f}",
            f"{c.record_source}:{c.record_source_id}",
            f"{r.first.decision} ({r.first.reviewer_id})" if r.first else "[dim]undecided[/]",
            f"{r.second.decision} ({r.second.reviewer_id})" if r.second else "",
            ("[yellow]disagreement → inconclusive[/]" if r.disagreement else r.outcome or ""),
        )
    out.print(table)
    if state.undecided:
        out.print(f"undecided ranks: {', '.join(map(str, state.undecided))}")
    out.print(f"[bold yellow]{state.notice.upper()}[/]")
    audit_note(result.audit_seq)


@face_app.command("decide")
@with_access
def face_decide(
    search_id: SearchId,
    rank: Annotated[int, typer.Argument(min=1, help="Candidate rank")],
    decision: Annotated[
        CandidateDecision, typer.Argument(help="possible-match, not-a-match or inconclusive")
    ],
    why: Annotated[str, typer.Option("--why", help="Rationale (recorded)")],
    second: Annotated[
        bool, typer.Option("--second", help="As the second reviewer (a different person)")
    ] = False,
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """Decide one candidate of a search, with a rationale."""
    statement = access.statement()
    with access.service() as service:
        who = access.login(service)
        result = service.biometric_decide(
            who, statement, search_id, rank, decision.value, why, second=second
        )
    change = result.value
    if as_json:
        emit_json({**change.as_dict(), "audit_seq": result.audit_seq})
        return
    revised = f" (was {change.previous})" if change.previous else ""
    out.print(
        f"search {change.search_id} rank {change.rank}: {change.decision}{revised} by "
        f"{change.reviewer_id} ({'second' if second else 'first'} review, "
        f"decision {change.decision_id})"
    )
    audit_note(result.audit_seq)


@face_app.command("close")
@with_access
def face_close(
    search_id: SearchId,
    require_second: Annotated[
        bool, typer.Option("--require-second", help="Refuse unless all have a second review")
    ] = False,
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """Close a search (refused while any candidate is undecided)."""
    statement = access.statement()
    with access.service() as service:
        who = access.login(service)
        result = service.biometric_close(
            who, statement, search_id, require_second_review=require_second
        )
    closed = result.value
    if as_json:
        emit_json({**closed.as_dict(), "audit_seq": result.audit_seq})
        return
    table = Table("rank", "outcome", title=f"search {closed.search_id} closed")
    for rank, outcome in sorted(closed.outcomes.items()):
        table.add_row(str(rank), outcome)
    out.print(table)
    matches = ", ".join(map(str, closed.possible_matches)) or "none"
    out.print(f"possible matches (ranks): {matches}")
    out.print(f"[bold yellow]{closed.notice.upper()}[/]")
    audit_note(result.audit_seq)


@bio_app.command("enrol")
@with_access
def biometrics_enrol(
    modality: Annotated[Modality, typer.Option("--modality")] = Modality.face,
    reindex: Annotated[
        bool,
        typer.Option(
            "--reindex",
            help="First rebuild a fingerprint gallery kept in an older layout from its templates",
        ),
    ] = False,
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """Enrol every imported sample of a modality not yet in its gallery (data stewards)."""
    statement = access.statement()
    with access.service() as service:
        who = access.login(service)
        with _progress(f"enrolling {modality.value} samples", None) as tick:
            result = service.biometric_enrol(
                who, statement, modality.value, reindex=reindex, progress=tick
            )
    got = result.value
    if as_json:
        emit_json({"outcome": got, "audit_seq": result.audit_seq})
        return
    out.print(
        f"{got.modality}: {got.enrolled:,} enrolled, {got.already:,} already enrolled, "
        f"{got.failed:,} failed to enrol; gallery holds {got.gallery_size:,}"
    )
    audit_note(result.audit_seq)


@bio_app.command("evaluate")
@with_access
def biometrics_evaluate(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the report")],
    threshold: Annotated[
        list[float] | None,
        typer.Option("--threshold", help="A threshold to evaluate at (repeatable)"),
    ] = None,
    modality: Annotated[Modality, typer.Option("--modality")] = Modality.face,
    gallery_persons: Annotated[
        int | None,
        typer.Option(
            "--gallery-persons",
            min=10,
            help="Synthetic persons in the gallery (default: 2,000 face, 350 fingerprint)",
        ),
    ] = None,
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """Write the evaluation report (HTML, plots, CSV: FNIR/FPIR, DET, CMC, by group): face on
    synthetic templates by exact search, fingerprint on synthetic prints through the
    fingerprint gallery's own search (about a minute at the default 350 persons)."""
    statement = access.statement()
    with access.service() as service:
        who = access.login(service)
        with _progress("evaluating", None) as tick:
            result = service.biometric_evaluate(
                who,
                statement,
                out_dir,
                modality=modality.value,
                thresholds=tuple(threshold or ()),
                gallery_persons=gallery_persons,
                progress=tick,
            )
    if as_json:
        emit_json({"report": result.value, "out": str(out_dir), "audit_seq": result.audit_seq})
        return
    out.print(f"[bold green]report written[/] to {out_dir}")
    out.print(
        f"propose a threshold from it: leds biometrics threshold propose {modality.value} T "
        f"--report {out_dir} --why TEXT"
    )
    audit_note(result.audit_seq)


def _print_threshold(change: Any, audit_seq: int) -> None:
    out.print(
        f"{change.modality} threshold v{change.version} = {change.threshold} "
        f"({change.algorithm}): {change.status}"
    )
    if change.previous is not None:
        prev = change.previous
        out.print(f"  replaces v{prev.version} = {prev.threshold}")
    audit_note(audit_seq)


@threshold_app.command("propose")
@with_access
def threshold_propose(
    modality: Annotated[Modality, typer.Argument()],
    threshold: Annotated[float, typer.Argument(help="The proposed score threshold")],
    report: Annotated[Path, typer.Option("--report", help="Evaluation report at that value")],
    why: Annotated[str, typer.Option("--why", help="Rationale (recorded)")],
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """Propose a new threshold (refused unless the report evaluated it)."""
    statement = access.statement()
    with access.service() as service:
        who = access.login(service)
        result = service.threshold_propose(who, statement, modality.value, threshold, report, why)
    if as_json:
        emit_json({**result.value.as_dict(), "audit_seq": result.audit_seq})
        return
    _print_threshold(result.value, result.audit_seq)
    out.print("it takes effect once the oversight role approves it")


def _decide_threshold(
    access: Access, modality: Modality, version: int, approve: bool, note: str | None, js: bool
) -> None:
    statement = access.statement()
    with access.service() as service:
        who = access.login(service)
        result = service.threshold_decide(
            who, statement, modality.value, version, approve=approve, note=note
        )
    if js:
        emit_json({**result.value.as_dict(), "audit_seq": result.audit_seq})
        return
    _print_threshold(result.value, result.audit_seq)


VersionArg = Annotated[int, typer.Argument(min=1, help="Proposed version number")]
NoteOpt = Annotated[str | None, typer.Option("--note", help="Note kept with the decision")]


@threshold_app.command("approve")
@with_access
def threshold_approve(
    modality: Annotated[Modality, typer.Argument()],
    version: VersionArg,
    note: NoteOpt = None,
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """Approve a proposed threshold (oversight only, never the proposer)."""
    _decide_threshold(access, modality, version, True, note, as_json)


@threshold_app.command("refuse")
@with_access
def threshold_refuse(
    modality: Annotated[Modality, typer.Argument()],
    version: VersionArg,
    note: NoteOpt = None,
    access: Access = ACCESS,
    as_json: JsonOpt = False,
) -> None:
    """Refuse a proposed threshold, with a note (oversight only)."""
    _decide_threshold(access, modality, version, False, note, as_json)
