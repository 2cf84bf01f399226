"""The REST API of fingerprint 1:N search (the review, decisions and closure of its candidate
list are the shared ``/biometrics/searches/{id}`` routes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from leds.api.errors import ERROR_RESPONSES, PayloadTooLarge
from leds.api.routes import MAX_UPLOAD, PREFIX, ApiCall
from leds.api.schemas import Item
from leds.api.schemas_search import CandidateListOut
from leds.errors import LedsError

router = APIRouter(prefix=PREFIX, responses=ERROR_RESPONSES)


def read_print(upload: UploadFile) -> bytes:
    """The uploaded print's bytes, refused past ``MAX_UPLOAD`` (read in 1 MB chunks)."""
    chunks: list[bytes] = []
    size = 0
    while chunk := upload.file.read(1024 * 1024):
        size += len(chunk)
        if size > MAX_UPLOAD:
            raise PayloadTooLarge(
                f"the print image is larger than {MAX_UPLOAD // (1024 * 1024)} MB",
                hint="send a PNG or JPEG under 10 MB",
            )
        chunks.append(chunk)
    if not size:
        raise LedsError("the print image is empty", hint="choose a PNG or JPEG of a fingerprint")
    return b"".join(chunks)


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
