"""Routes for feedback items (X-data)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from touchpoints.api.deps import ActorDep, ApiTokenDep, ListParamsDep, SessionDep, bearer_token
from touchpoints.api.listing import Page
from touchpoints.api.problems import domain_error, validation_error
from touchpoints.api.validation import parse_body
from touchpoints.api.writes import WriteRequestDep, write_request_of
from touchpoints.errors import TouchpointsError
from touchpoints.feedback import service
from touchpoints.feedback.intake import FeedbackSubmission, intake_of
from touchpoints.feedback.schemas import FeedbackItemCreate, FeedbackItemRead, FeedbackItemUpdate

router = APIRouter(tags=["feedback"])

SearchQuery = Annotated[
    str | None,
    Query(
        max_length=service.MAX_QUERY_CHARS,
        description="Case-insensitive words to find in the title or text.",
    ),
]


@router.get("/feedback", response_model=Page[FeedbackItemRead], summary="List feedback")
def list_feedback(
    session: SessionDep, actor: ActorDep, params: ListParamsDep, q: SearchQuery = None
) -> Page[FeedbackItemRead]:
    """List feedback items, newest first; members limited to an org unit see only theirs.

    Filter and sort by solicited, source, source_ref, channel, touchpoint_id, customer_id,
    org_unit_id, occurred_at, received_at, language, title, nps, csat, ces and rating, for
    example `filter=occurred_at:gte:2024-01-01T00:00:00Z&filter=nps:lte:6`.
    """
    items, total = service.list_feedback(db_session=session, actor=actor, params=params, q=q)
    return Page(
        items=[FeedbackItemRead.model_validate(item) for item in items],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


@router.post(
    "/feedback", response_model=FeedbackItemRead, status_code=201, summary="Add a feedback item"
)
async def create_feedback(
    body: FeedbackItemCreate, request: Request, token: ApiTokenDep, write: WriteRequestDep
) -> Response:
    """Store a survey answer, review, post, transcript or email a customer sent.

    It needs text, at least one score, or both. A second item with the same `source` and
    `source_ref` is refused (409); retry with an `Idempotency-Key` to be safe. The answer comes
    once the item is committed; concurrent requests share transactions (group commit).
    """
    outcome = await intake_of(request.app).submit(FeedbackSubmission(token, body, write))
    if isinstance(outcome, TouchpointsError):
        raise outcome
    return _created(outcome)


async def receive_feedback(request: Request) -> Response:
    """Answer `POST /api/v1/feedback` as `create_feedback` does, without the framework's routing.

    The busiest ingestion route, run as a shortcut (touchpoints.api.shortcuts): the token, the
    Idempotency-Key and the body are read here the way the declared route's dependencies read
    them, and every error answers with the same problem+json.
    """
    try:
        token = bearer_token(request.headers.get("authorization"))
        raw = await request.body()
        feedback_in = parse_body(FeedbackItemCreate, raw, request.headers.get("content-type"))
        write = write_request_of(request, raw, request.headers.get("idempotency-key"))
        outcome = await intake_of(request.app).submit(FeedbackSubmission(token, feedback_in, write))
    except RequestValidationError as exc:
        return await validation_error(request, exc)
    except TouchpointsError as exc:
        return await domain_error(request, exc)
    if isinstance(outcome, TouchpointsError):
        return await domain_error(request, outcome)
    return _created(outcome)


def _created(outcome: tuple[int, dict[str, Any] | bytes, bool]) -> Response:
    status, payload, replayed = outcome
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    if isinstance(payload, bytes):  # rendered already
        return Response(payload, status_code=status, headers=headers, media_type=JSON)
    return JSONResponse(payload, status_code=status, headers=headers)


JSON = "application/json"


@router.get(
    "/feedback/{feedback_id}", response_model=FeedbackItemRead, summary="Read a feedback item"
)
def read_feedback(feedback_id: str, session: SessionDep, actor: ActorDep) -> FeedbackItemRead:
    """Return one feedback item with its scores."""
    item = service.get_feedback(db_session=session, actor=actor, feedback_id=feedback_id)
    return FeedbackItemRead.model_validate(item)


@router.patch(
    "/feedback/{feedback_id}", response_model=FeedbackItemRead, summary="Update a feedback item"
)
def update_feedback(
    feedback_id: str, body: FeedbackItemUpdate, session: SessionDep, actor: ActorDep
) -> FeedbackItemRead:
    """Relink a feedback item or change its title, language or metadata.

    Text and scores are what the customer said and cannot be changed.
    """
    item = service.update_feedback(
        db_session=session, actor=actor, feedback_id=feedback_id, feedback_in=body
    )
    return FeedbackItemRead.model_validate(item)


@router.delete("/feedback/{feedback_id}", status_code=204, summary="Delete a feedback item")
def delete_feedback(feedback_id: str, session: SessionDep, actor: ActorDep) -> Response:
    """Delete a feedback item for good."""
    service.delete_feedback(db_session=session, actor=actor, feedback_id=feedback_id)
    return Response(status_code=204)
