"""Routes for survey invitations (email, SMS), response rates and QR codes of survey links."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from touchpoints.api.deps import ActorDep, ListParamsDep, SessionDep, SettingsDep
from touchpoints.api.listing import Page
from touchpoints.api.writes import WriteRequestDep, respond
from touchpoints.distribution import qr, service
from touchpoints.distribution.schemas import (
    InvitationBatch,
    InvitationCreate,
    InvitationRead,
    ResponseRates,
    SkippedCustomer,
)

router = APIRouter(prefix="/surveys", tags=["distribution"])


@router.post(
    "/{survey_id}/invitations",
    response_model=InvitationBatch,
    status_code=201,
    summary="Invite customers to a survey",
)
def create_invitations(
    survey_id: str,
    body: InvitationCreate,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    write: WriteRequestDep,
) -> JSONResponse:
    """Queue personal email or SMS invitations; unsubscribed or recently invited are skipped.

    The answer lists each skipped customer with the reason, like
    "invited 12 days ago; limit 30 days", "unsubscribed" or "no phone number".
    """

    def create() -> InvitationBatch:
        invited, skipped = service.create_invitations(
            db_session=session,
            actor=actor,
            survey_id=survey_id,
            invitation_in=body,
            settings=settings,
        )
        return InvitationBatch(
            invited=[InvitationRead.model_validate(i) for i in invited],
            skipped=[SkippedCustomer(customer_id=s.customer_id, reason=s.reason) for s in skipped],
        )

    return respond(write, db_session=session, actor=actor, status_code=201, write=create)


@router.get(
    "/{survey_id}/invitations", response_model=Page[InvitationRead], summary="List invitations"
)
def list_invitations(
    survey_id: str, session: SessionDep, actor: ActorDep, params: ListParamsDep
) -> Page[InvitationRead]:
    """List a survey's invitations; filter by status, e.g. `filter=status:eq:completed`."""
    items, total = service.list_invitations(
        db_session=session, actor=actor, survey_id=survey_id, params=params
    )
    return Page(
        items=[InvitationRead.model_validate(i) for i in items],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


@router.get(
    "/{survey_id}/response-rates", response_model=ResponseRates, summary="Read response rates"
)
def read_response_rates(survey_id: str, session: SessionDep, actor: ActorDep) -> ResponseRates:
    """Count invitations sent, delivered, bounced, started and completed per channel.

    `response_rate` is completed / sent; `delivered` counts those known to have reached the
    customer (a provider delivery report, or the link opened).
    """
    return service.response_rates(db_session=session, actor=actor, survey_id=survey_id)


Scale = Annotated[
    int,
    Query(ge=qr.MIN_SCALE, le=qr.MAX_SCALE, description="Pixels (SVG units) per QR module."),
]
Border = Annotated[
    int,
    Query(ge=qr.MIN_BORDER, le=qr.MAX_BORDER, description="Quiet zone around it, in modules."),
]


def _qr_response(found: qr.LinkQr, kind: str) -> Response:
    return Response(
        found.image,
        media_type=found.media_type,
        headers={
            "Content-Disposition": f'inline; filename="survey-{found.link.id}.{kind}"',
            "Cache-Control": "private, max-age=300",
        },
    )


@router.get(
    "/{survey_id}/links/{link_id}/qr.png",
    summary="QR code of a survey link (PNG)",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "The QR code image."}},
)
def link_qr_png(
    survey_id: str,
    link_id: str,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    scale: Scale = qr.DEFAULT_SCALE,
    border: Border = qr.DEFAULT_BORDER,
) -> Response:
    """Return a PNG QR code of the link's public address `{TOUCHPOINTS_PUBLIC_URL}/s/{token}`."""
    found = qr.link_qr(
        db_session=session,
        actor=actor,
        settings=settings,
        survey_id=survey_id,
        link_id=link_id,
        kind="png",
        scale=scale,
        border=border,
    )
    return _qr_response(found, "png")


@router.get(
    "/{survey_id}/links/{link_id}/qr.svg",
    summary="QR code of a survey link (SVG)",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}, "description": "The QR code image."}},
)
def link_qr_svg(
    survey_id: str,
    link_id: str,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    scale: Scale = qr.DEFAULT_SCALE,
    border: Border = qr.DEFAULT_BORDER,
) -> Response:
    """Return an SVG QR code of the link's public address, for print at any size."""
    found = qr.link_qr(
        db_session=session,
        actor=actor,
        settings=settings,
        survey_id=survey_id,
        link_id=link_id,
        kind="svg",
        scale=scale,
        border=border,
    )
    return _qr_response(found, "svg")
