"""Biometric performance (UI.md screen 9) and sources and data quality (screen 10).

Each page is one service call (one audit entry, named in the footer), rendered from the same
models as its JSON twin. What a page *offers* is asked of the policy first
(:meth:`Service.may`: nothing recorded): the "Run a new evaluation" form only to roles that
may run one (``biometric_evaluate``), links to rejected rows only to roles that may read them
(``list_rejections``), the link review queue only to those who decide on it.

- ``GET /biometrics/performance``: per modality the operational gallery, the threshold in
  force and the latest evaluation's figures (gallery and probe sets, FNIR at FPIR = 0.003,
  FNIR at rank 1 and rank R, FNMR at fixed FMR, by recorded demographic group), its plots
  (``<img>`` of the API's plot route: each plot read is recorded too, and a plot is found by
  the name the evaluation lists, never by a path), and the threshold history with the
  evaluation each version's report is. No evaluation: an empty state saying how to run one.
- ``POST /biometrics/performance/evaluations``: runs a face evaluation (``gallery_persons``)
  into a new folder under the data directory (post/redirect/get; CSRF).
- ``GET /sources/quality``: per source the last import, rows, rejected rows by (masked)
  reason, persons with cross-source conflicts and timeliness; linkage runs and the model's
  m/u parameters; the retention queue, which is not built yet and says so.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from leds.api.schemas_quality import BiometricPerformanceOut, DataQualityOut
from leds.web.pages import Purposeful, check_csrf, render, service

router = APIRouter(include_in_schema=False)

GALLERY_PERSONS = (100, 5_000, 2_000)  # min, max, default of the form
DIMENSION_LABELS = {"sex": "Sex", "age_band": "Age band", "ethnic_group": "Ethnic group"}


def rate(value: float | None) -> str:
    """A rate as the report prints it (4 significant digits), or a dash."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.4g}"


def age(seconds: float | None) -> str:
    """How long ago, in the largest whole unit."""
    if seconds is None:
        return "never"
    if seconds < 60:
        return "under a minute ago"
    for size, unit in ((86_400, "day"), (3_600, "hour"), (60, "minute")):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"  # pragma: no cover - seconds >= 60 always matches a unit


@router.get("/biometrics/performance", response_class=HTMLResponse)
def biometric_performance(
    request: Request,
    s: Purposeful,
    evaluated: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    svc = service(request)
    result = svc.biometric_performance(s.user, s.purpose)
    return render(
        request,
        "biometric_performance.html",
        s,
        result,
        twin="/api/v1/biometrics/performance",
        perf=BiometricPerformanceOut.of(result.value),
        may_evaluate=svc.may(s.user, s.purpose, "biometric_evaluate"),
        evaluated=evaluated,
        persons=GALLERY_PERSONS,
        dimensions=DIMENSION_LABELS,
        rate=rate,
    )


@router.post("/biometrics/performance/evaluations", response_class=HTMLResponse)
def run_evaluation(
    request: Request,
    s: Purposeful,
    gallery_persons: Annotated[
        int, Form(ge=GALLERY_PERSONS[0], le=GALLERY_PERSONS[1])
    ] = GALLERY_PERSONS[2],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check_csrf(request, s.session, csrf_token)
    result = service(request).biometric_evaluate(
        s.user, s.purpose, modality="face", gallery_persons=gallery_persons
    )
    return RedirectResponse(
        f"/biometrics/performance?evaluated={result.audit_seq}#face", status_code=303
    )


@router.get("/sources/quality", response_class=HTMLResponse)
def data_quality(request: Request, s: Purposeful) -> HTMLResponse:
    svc = service(request)
    result = svc.data_quality(s.user, s.purpose)
    return render(
        request,
        "data_quality.html",
        s,
        result,
        twin="/api/v1/sources/quality",
        q=DataQualityOut.of(result.value),
        may_rejections=svc.may(s.user, s.purpose, "list_rejections"),
        may_review=svc.may(s.user, s.purpose, "merge_split"),
        age=age,
        rate=rate,
    )
