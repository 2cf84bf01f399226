"""The biometric performance and data quality screens in the REST API (UI.md screens 9 and
10): one service call each, authorised and recorded; aggregates only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response
from fastapi import Path as PathParam

from leds.api.errors import ERROR_RESPONSES
from leds.api.routes import PREFIX, ApiCall
from leds.api.schemas import Item
from leds.api.schemas_quality import (
    BiometricPerformanceOut,
    DataQualityOut,
    EvaluatedOut,
    EvaluateIn,
)

router = APIRouter(prefix=PREFIX, responses=ERROR_RESPONSES)

EvaluationId = Annotated[int, PathParam(ge=1, le=2**62, description="A recorded evaluation")]
PlotName = Annotated[
    str,
    PathParam(
        pattern=r"^[a-z0-9_]{1,40}\.png$",
        description="A plot the evaluation lists (its `plots[].name`)",
    ),
]


@router.get(
    "/biometrics/performance",
    tags=["biometrics"],
    summary="Biometric performance: latest evaluations and threshold history",
)
def biometric_performance(call: ApiCall) -> Item[BiometricPerformanceOut]:
    """Per modality: the operational gallery, the threshold in force, the latest recorded
    evaluation (gallery and probe sets, FNIR at FPIR = 0.003, FNIR at rank 1 and rank R, FNMR
    at fixed FMR, by recorded demographic group, plots) and every threshold version with the
    evaluation its report is. Policy: ``biometric_performance`` (data stewards, auditors,
    facial-search operators, immigration officers)."""
    result = call.service.biometric_performance(call.user, call.purpose())
    return Item.of(result, BiometricPerformanceOut.of(result.value))


@router.get(
    "/biometrics/evaluations/{evaluation_id}/plots/{name}",
    tags=["biometrics"],
    summary="One plot of a recorded evaluation (PNG, recorded)",
    response_class=Response,
    responses={
        200: {
            "description": "The PNG; `X-Leds-Audit-Seq` is the entry that recorded the read",
            "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def biometric_plot(call: ApiCall, evaluation_id: EvaluationId, name: PlotName) -> Response:
    result = call.service.biometric_plot(call.user, call.purpose(), evaluation_id, name)
    return Response(
        result.value.data,
        media_type=result.value.media_type,
        headers={"X-Leds-Audit-Seq": str(result.audit_seq)},
    )


@router.post(
    "/biometrics/evaluations",
    tags=["biometrics"],
    status_code=201,
    summary="Run a face or fingerprint evaluation (report under the data directory; recorded)",
)
def biometric_evaluate(call: ApiCall, body: EvaluateIn) -> Item[EvaluatedOut]:
    """Evaluate face 1:N (synthetic templates, exact search) or fingerprint 1:N (synthetic
    prints, the fingerprint gallery's own search) and record the report and its figures.
    Policy: ``biometric_evaluate`` (data stewards for administration, auditors)."""
    result = call.service.biometric_evaluate(
        call.user, call.purpose(body), modality=body.modality, gallery_persons=body.gallery_persons
    )
    return Item.of(result, EvaluatedOut.of(result.value))


@router.get(
    "/sources/quality",
    tags=["imports"],
    summary="Data quality per source: rejections, conflicts, timeliness, linkage",
)
def data_quality(call: ApiCall) -> Item[DataQualityOut]:
    """Per source the last import, rows, rejected rows by (masked) reason, persons with
    cross-source conflicts and timeliness; the latest linkage runs and the model's m/u
    parameters; the retention queue (not built yet: said so). Policy: ``data_quality``
    (data stewards, auditors, administrators)."""
    result = call.service.data_quality(call.user, call.purpose())
    return Item.of(result, DataQualityOut.of(result.value))
