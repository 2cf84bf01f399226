"""The candidate review screen (UI.md screen 6), faces and fingerprints alike: what
:func:`leds.web.pages.add_review_routes` renders and sends.

* **Ranked list**: rank, score, above or below the threshold in force, source and kind, the
  template's enrolment date. The candidate's identity (sample reference, source record id,
  the person record and its link) is behind a "Show identity" control unless the setting
  ``LEDS_REVIEW_IDENTITY`` (:func:`leds.config.review_identity`, or ``app.state.
  review_identity``) is ``shown``. The identities are in the page's one audited response
  (``biometric_candidates``; its audit entry names every candidate's records), so opening
  one is not a further call and records nothing more: hiding is about the reviewer's bias,
  not about access. Opening the person page is its own audited view.
* **Side by side**: the probe's recorded figures (its quality measures, format and size, the
  face chosen, the minutia count; the search's algorithm and time) beside the candidate's
  enrolment record (source record, enrolment date, template quality and algorithm, score,
  rank, threshold). leds keeps no image of either: the probe is not kept after the search
  and the gallery holds templates, not pictures (the synthetic world's are synthetic
  templates), so the page says so instead of showing thumbnails or a zoom.
* **Decisions**: one form per candidate for what the signed-in reviewer may do — the first
  decision (or revising their own), else the optional second review, which the service
  refuses from the first reviewer, from anyone not authorised to review this modality, and
  never records in someone else's name (the second reviewer signs in as themselves).
* **Decision record**: JSON and CSV downloads (``Service.biometric_record``), each recorded
  as a disclosure before it is sent.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from leds.api.routes import record_file
from leds.api.schemas_search import ReviewStateOut
from leds.config import review_identity
from leds.service import Result
from leds.web.pages import Visit, service

DECISION_LABELS = {
    "possible-match": "possible match",
    "not-a-match": "not a match",
    "inconclusive": "inconclusive",
}


def identity_hidden(request: Request) -> bool:
    """Whether candidate identities start hidden (the app's setting, else the environment)."""
    configured = getattr(request.app.state, "review_identity", None)
    return review_identity(configured) == "hidden"


def _day(value: str | None) -> str:
    return value[:10] if value else "—"


def _when(value: str | None) -> str:
    return f"{value[:10]} {value[11:16]} UTC" if value else "—"


def _figures(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in value.items())
    return str(value)


def probe_facts(state: ReviewStateOut) -> list[tuple[str, str]]:
    """The probe's side of the comparison: what the search recorded about it."""
    p = state.parameters
    facts = [("Image", "not kept after the search (SHA-256 recorded)")]
    if p.get("format") or p.get("width"):
        size = f"{p.get('width')} × {p.get('height')} px" if p.get("width") else ""
        facts.append(("Source", f"uploaded {p.get('format', 'image')} {size}".strip()))
    else:
        facts.append(("Source", "uploaded for this search"))
    facts.append(("Date", f"searched {_when(state.created_at)}"))
    quality = [_figures(p["quality"])] if "quality" in p else []
    quality += [f"{k.replace('_', ' ')} {p[k]}" for k in ("minutia_count", "faces") if k in p]
    facts.append(("Quality", "; ".join(quality) or "not recorded"))
    facts.append(("Algorithm", state.algorithm or "—"))
    facts.append(("Score and rank", "— (each candidate is scored against the probe)"))
    return facts


def candidate_facts(state: ReviewStateOut, c: dict[str, Any]) -> list[tuple[str, str]]:
    """The candidate's side: its enrolment record as recorded (identity left out)."""
    template = c.get("template") or {}
    algorithm = template.get("algorithm") or ""
    image = "none held: " + (
        "a synthetic template (numbers, not a picture)"
        if "synthetic" in algorithm
        else "the gallery keeps the template only"
    )
    threshold = state.threshold or {}
    place = "above" if c["above_threshold"] else "below"
    quality = template.get("quality")
    return [
        ("Image", image),
        ("Source", f"{c['record']['source'].upper()} {c['record']['kind']} record"),
        ("Date", f"enrolled {_day(template.get('enrolled_at'))}"),
        ("Quality", "not recorded" if quality is None else f"template quality {quality}"),
        ("Algorithm", algorithm or "—"),
        (
            "Score and rank",
            f"{c['score']:.3f}, rank {c['rank']} of {len(state.candidates)}, {place} the "
            f"threshold {threshold.get('value')} (version {threshold.get('version')})",
        ),
    ]


def _form(c: dict[str, Any], me: str, open_: bool) -> str | None:
    """Which decision the signed-in reviewer may record on this candidate."""
    if not open_:
        return None
    first, second = c.get("first"), c.get("second")
    if first is None or first["reviewer_id"] == me:
        return "first"  # decide, or revise one's own first decision
    if second is None or second["reviewer_id"] == me:
        return "second"  # the optional second review, by a different person
    return None  # two other reviewers have decided


def review_context(
    s: Visit, result: Result[Any], base: str, label: str, *, hidden: bool
) -> dict[str, Any]:
    """The review page's context: the state, each candidate's view and whether identities
    start ``hidden`` (:func:`identity_hidden`, asked before the service call)."""
    state = ReviewStateOut.of(result.value)
    me = s.user.actor.user_id
    open_ = state.status == "open"
    probe = probe_facts(state)
    rows = []
    for c in state.candidates:
        pairs = zip(probe, candidate_facts(state, c), strict=True)
        rows.append(
            {
                **c,
                "form": _form(c, me, open_),
                "enrolled": _day((c.get("template") or {}).get("enrolled_at")),
                "compare": [(what, mine, theirs) for (what, mine), (_, theirs) in pairs],
            }
        )
    return {
        "state": state,
        "rows": rows,
        "me": me,
        "identity_hidden": hidden,
        "decision_labels": DECISION_LABELS,
        "review_base": base,
        "review_label": label,
        "record_api": f"/api/v1/biometrics/searches/{state.search_id}/record",
    }


def record_download(request: Request, s: Visit, search_id: int, fmt: str) -> Response:
    """The decision record file, recorded as a disclosure to the reviewer before it is sent
    (refused, nothing sent, if that record cannot be written)."""
    result = service(request).biometric_record(
        s.user, s.purpose, search_id, fmt="csv" if fmt == "csv" else "json"
    )
    return record_file(result)
