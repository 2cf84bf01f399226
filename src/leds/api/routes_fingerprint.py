"""The REST API of fingerprint 1:N search (the review, decisions and closure of its candidate
list are the shared ``/biometrics/searches/{id}`` routes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from leds.api.errors import ERROR_RESPONSES
from leds.api.routes import PREFIX, ApiCall, read_upload
from leds.api.schemas import Item
from leds.api.schemas_search import CandidateListOut

router = APIRouter(prefix=PREFIX, responses=ERROR_RESPONSES)


def read_print(upload: UploadFile) -> bytes:
    """The uploaded print's bytes (the same limits as a face photo's)."""
    return read_upload(upload, "print image", "a PNG or JPEG of a fingerprint")


@router.post(
    "/biometrics/fingerprint/searches",
    tags=["biometrics"],
    status_code=201,
    summary="Search the fingerprint gallery with a print image (investigative lead only)",
)
def fingerprint_search(
    call: ApiCall,
    image: Annotated[
        UploadFile, File(description="The probe print (PNG or JPEG, 500 ppi, up to 10 MB)")
    ],
    list_length: Annotated[int, Form(ge=2, le=50, description="Candidates (2-50)")] = 20,
) -> Item[CandidateListOut]:
    result = call.service.fingerprint_search(
        call.user, call.purpose(), read_print(image), list_length=list_length
    )
    return Item.of(result, CandidateListOut.of(result.value))
