"""The person page's panels in the REST API: linkage evidence, intelligence and disposals,
biometric templates. One service call each (authorised, minimised, recorded)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from leds.api.errors import ERROR_RESPONSES
from leds.api.routes import PREFIX, ApiCall, PersonKey
from leds.api.schemas import THREE_WORDS, Item
from leds.api.schemas_panels import PersonBiometricsOut, PersonIntelligenceOut, PersonLinksOut

router = APIRouter(prefix=PREFIX, responses=ERROR_RESPONSES)


@router.get("/persons/{key}/links", tags=["search"], summary="Linkage evidence of a person")
def person_links(call: ApiCall, key: PersonKey) -> Item[PersonLinksOut]:
    """The stored links joining the person's records (at most 10; those holding the person
    together first), each with its match weight and the path of its waterfall. Policy:
    ``link_explain`` (data stewards, investigators, analysts)."""
    result = call.service.person_links(call.user, call.purpose(), key)
    return Item[PersonLinksOut](data=PersonLinksOut.of(result.value), audit_seq=result.audit_seq)


@router.get(
    "/persons/{key}/intelligence", tags=["search"], summary="Intelligence and disposals of a person"
)
def person_intelligence(
    call: ApiCall,
    key: PersonKey,
    sensitive: Annotated[
        str | None,
        Query(
            max_length=2000,
            pattern=THREE_WORDS,
            description="Justification of the sensitive-data step (at least 3 words); "
            "reveals grading and handling codes where the policy allows",
        ),
    ] = None,
) -> Item[PersonIntelligenceOut]:
    result = call.service.person_intelligence(call.user, call.purpose(), key, sensitive=sensitive)
    return Item[PersonIntelligenceOut](
        data=PersonIntelligenceOut.of(result.value), audit_seq=result.audit_seq
    )


@router.get(
    "/persons/{key}/biometrics", tags=["search"], summary="Enrolled biometric templates of a person"
)
def person_biometrics(call: ApiCall, key: PersonKey) -> Item[PersonBiometricsOut]:
    result = call.service.person_biometrics(call.user, call.purpose(), key)
    return Item[PersonBiometricsOut](
        data=PersonBiometricsOut.of(result.value), audit_seq=result.audit_seq
    )
