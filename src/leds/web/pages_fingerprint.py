"""Fingerprint search (screen 2, tab Fingerprint) and its candidate review (as screen 6): upload
a print, review the ranked candidates, decide each with a rationale, close the search. The
review reuses the face review template; post/redirect/get as for faces."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from leds.api.routes import MAX_UPLOAD
from leds.api.routes_fingerprint import read_print
from leds.web.pages import Purposeful, add_review_routes, render

router = APIRouter(include_in_schema=False)


@router.get("/fingerprints", response_class=HTMLResponse)
def fingerprint_form(request: Request, s: Purposeful) -> HTMLResponse:
    from leds.biometrics.fingerprint import SEARCH_ALGORITHM

    return render(
        request,
        "fingerprint_search.html",
        s,
        max_mb=MAX_UPLOAD // (1024 * 1024),
        algorithm=SEARCH_ALGORITHM,
    )


add_review_routes(router, "/fingerprints", "Fingerprint search", "fingerprint_search", read_print)
