"""Routes for survey invitations: send by email, list, and response rates."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from touchpoints.api.deps import ActorDep, ListParamsDep, SessionDep
from touchpoints.api.listing import Page
from touchpoints.api.writes import WriteRequestDep, respond
from touchpoints.distribution import service
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
    write: WriteRequestDep,
) -> JSONResponse:
    """Queue personal email invitations; unsubscribed or recently invited customers are skipped.

    The answer lists each skipped customer with the reason, like
    "invited 12 days ago; limit 30 days" or "unsubscribed".
    """

    def create() -> InvitationBatch:
        invited, skipped = service.create_invitations(
            db_session=session, actor=actor, survey_id=survey_id, invitation_in=body
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
    """Count invitations sent, started and completed per channel, and completed / sent."""
    return service.response_rates(db_session=session, actor=actor, survey_id=survey_id)
