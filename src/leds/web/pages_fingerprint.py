"""Fingerprint search (screen 2, tab Fingerprint) and its candidate review (as screen 6): upload
a print, review the ranked candidates, decide each with a rationale, close the search. The
review reuses the face review template; post/redirect/get as for faces."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from leds.api.routes import MAX_UPLOAD
from leds.api.routes_fingerprint import read_print
from leds.web.pages import Purposeful, add_review_routes, check_csrf, render, service

router = APIRouter(include_in_schema=False)


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


add_review_routes(router, "/fingerprints", "Fingerprint search")
