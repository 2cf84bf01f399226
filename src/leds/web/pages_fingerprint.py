"""Fingerprint search (screen 2, tab Fingerprint) and its candidate review (as screen 6): upload
a print, review the ranked candidates, decide each with a rationale, close the search. The
review reuses the face review template; post/redirect/get as for faces."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from leds.api.routes import MAX_UPLOAD
from leds.api.routes_fingerprint import read_print
from leds.api.schemas_search import ReviewStateOut
from leds.web.pages import Purposeful, check_csrf, render, service

router = APIRouter(include_in_schema=False)
DECISIONS = ("possible-match", "not-a-match", "inconclusive")


@router.get("/fingerprints", response_class=HTMLResponse)
def fingerprint_form(request: Request, s: Purposeful) -> HTMLResponse:
    from leds.biometrics.fingerprint import ALGORITHM

    return render(
        request,
        "fingerprint_search.html",
        s,
        max_mb=MAX_UPLOAD // (1024 * 1024),
        algorithm=ALGORITHM,
    )


@router.post("/fingerprints", response_class=HTMLResponse)
def fingerprint_search(
    request: Request,
    s: Purposeful,
    image: Annotated[UploadFile, File()],
    list_length: Annotated[int, Form(ge=2, le=50)] = 20,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check_csrf(request, s.session, csrf_token)
    result = service(request).fingerprint_search(
        s.user, s.purpose, read_print(image), list_length=list_length
    )
    return RedirectResponse(f"/fingerprints/{result.value.search_id}", status_code=303)


@router.get("/fingerprints/{search_id}", response_class=HTMLResponse)
def fingerprint_review(request: Request, s: Purposeful, search_id: int) -> HTMLResponse:
    result = service(request).biometric_candidates(s.user, s.purpose, search_id)
    return render(
        request,
        "face_review.html",
        s,
        result,
        twin=f"/api/v1/biometrics/searches/{search_id}",
        state=ReviewStateOut.of(result.value),
        decisions=DECISIONS,
        review_base="/fingerprints",
        review_label="Fingerprint search",
    )


@router.post("/fingerprints/{search_id}/decisions", response_class=HTMLResponse)
def fingerprint_decide(
    request: Request,
    s: Purposeful,
    search_id: int,
    rank: Annotated[int, Form(ge=1, le=50)],
    decision: Annotated[str, Form(max_length=40)],
    rationale: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check_csrf(request, s.session, csrf_token)
    service(request).biometric_decide(s.user, s.purpose, search_id, rank, decision, rationale)
    return RedirectResponse(f"/fingerprints/{search_id}#rank-{rank}", status_code=303)


@router.post("/fingerprints/{search_id}/close", response_class=HTMLResponse)
def fingerprint_close(
    request: Request,
    s: Purposeful,
    search_id: int,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check_csrf(request, s.session, csrf_token)
    service(request).biometric_close(s.user, s.purpose, search_id)
    return RedirectResponse(f"/fingerprints/{search_id}", status_code=303)
