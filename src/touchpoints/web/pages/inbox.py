"""The feedback inbox: filters and search over feedback, one item with its customer and history."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from touchpoints.api.deps import SessionDep
from touchpoints.auth.permissions import Permission, require
from touchpoints.customers.models import Customer, Segment
from touchpoints.customers.service import get_customer
from touchpoints.customers.timeline import interactions_around
from touchpoints.errors import InvalidInput, NotFound
from touchpoints.feedback.inbox import (
    SCORE_FILTERS,
    InboxFilters,
    InboxPage,
    inbox_page,
    recent_topics,
)
from touchpoints.feedback.labels import correct_enrichment, labels_of
from touchpoints.feedback.models import FeedbackItem, Sentiment
from touchpoints.feedback.service import get_feedback
from touchpoints.journeys.models import Channel, Touchpoint
from touchpoints.web.deps import WebCallerDep
from touchpoints.web.rendering import render
from touchpoints.web.sessions import WebCaller

router = APIRouter()
RESULTS_TARGET = "inbox-results"


class InboxQuery(BaseModel):
    """The inbox filter form as sent in the query string; empty fields mean 'any'."""

    start: date | None = Field(None, alias="from")
    end: date | None = Field(None, alias="to")
    channel: str | None = None
    touchpoint: str | None = None
    score: str | None = None
    sentiment: str | None = None
    topic: str | None = None
    segment: str | None = None
    org_unit: str | None = None
    q: str | None = None
    before: str | None = None
    after: str | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    def filters(self) -> InboxFilters:
        """Return the service's filters."""
        return InboxFilters(
            start=self.start,
            end=self.end,
            channel=self.channel,
            touchpoint_id=self.touchpoint,
            score=self.score,
            sentiment=self.sentiment,
            topic=self.topic,
            segment_id=self.segment,
            org_unit_id=self.org_unit,
            q=self.q,
        )

    def link(self, **cursor: str) -> str:
        """Return the query string of this search with another page cursor."""
        values = self.model_dump(by_alias=True, exclude={"before", "after"}, exclude_none=True)
        return "?" + urlencode({**{k: str(v) for k, v in values.items()}, **cursor})


def _choices(db_session: Session, caller: WebCaller) -> dict[str, object]:
    workspace_id = caller.workspace.id
    touchpoints = db_session.scalars(
        select(Touchpoint).where(Touchpoint.workspace_id == workspace_id).order_by(Touchpoint.name)
    )
    segments = db_session.scalars(
        select(Segment).where(Segment.workspace_id == workspace_id).order_by(Segment.name)
    )
    return {
        "channels": [channel.value for channel in Channel],
        "touchpoints": list(touchpoints),
        "segments": list(segments),
        "score_filters": SCORE_FILTERS,
        "sentiments": [sentiment.value for sentiment in Sentiment],
        "topics": recent_topics(db_session=db_session, actor=caller.principal),
    }


def _touchpoint_names(db_session: Session, items: list[FeedbackItem]) -> dict[str, str]:
    ids = {item.touchpoint_id for item in items if item.touchpoint_id}
    if not ids:
        return {}
    rows = db_session.execute(select(Touchpoint.id, Touchpoint.name).where(Touchpoint.id.in_(ids)))
    return {str(row_id): str(name) for row_id, name in rows}


def _empty_page() -> InboxPage:
    return InboxPage(items=[], matches=0, capped=False, newer=None, older=None)


@router.get("/inbox")
def inbox(
    request: Request,
    caller: WebCallerDep,
    session: SessionDep,
    query: Annotated[InboxQuery, Query()],
) -> HTMLResponse:
    """Show the feedback the caller may read, newest first, narrowed by the filter form."""
    require(caller.principal, Permission.FEEDBACK_READ)
    error = None
    try:
        page = inbox_page(
            db_session=session,
            actor=caller.principal,
            filters=query.filters(),
            before=query.before,
            after=query.after,
        )
    except InvalidInput as exc:
        page, error = _empty_page(), exc.reason
    only_results = request.headers.get("HX-Target") == RESULTS_TARGET
    template = "pages/inbox_results.html" if only_results else "pages/inbox.html"
    context = {} if only_results else _choices(session, caller)
    return render(
        request,
        session,
        caller,
        template,
        title="Feedback inbox",
        status_code=422 if error else 200,
        query=query,
        page=page,
        error=error,
        touchpoint_names=_touchpoint_names(session, page.items),
        **context,
    )


def _visible_customer(
    session: Session, caller: WebCaller, customer_id: str | None
) -> Customer | None:
    if customer_id is None or not caller.principal.can(Permission.CUSTOMERS_READ):
        return None
    try:
        return get_customer(db_session=session, actor=caller.principal, customer_id=customer_id)
    except NotFound:
        return None  # the customer belongs to another unit than this feedback


def _item_page(
    request: Request,
    session: SessionDep,
    caller: WebCaller,
    item: FeedbackItem,
    *,
    error: str | None = None,
) -> HTMLResponse:
    history = (
        interactions_around(
            db_session=session,
            actor=caller.principal,
            customer_id=item.customer_id,
            moment=item.occurred_at,
        )
        if item.customer_id
        else []
    )
    touchpoint = session.get(Touchpoint, item.touchpoint_id) if item.touchpoint_id else None
    return render(
        request,
        session,
        caller,
        "pages/inbox_item.html",
        title=item.title or "Feedback item",
        status_code=422 if error else 200,
        item=item,
        touchpoint=touchpoint,
        customer=_visible_customer(session, caller, item.customer_id),
        history=history,
        labels=labels_of(db_session=session, actor=caller.principal, feedback_id=item.id),
        sentiments=[sentiment.value for sentiment in Sentiment],
        can_correct=caller.principal.can(Permission.FEEDBACK_WRITE),
        can_see_customers=caller.principal.can(Permission.CUSTOMERS_READ),
        error=error,
    )


@router.get("/inbox/{item_id}")
def inbox_item(
    request: Request, item_id: str, caller: WebCallerDep, session: SessionDep
) -> HTMLResponse:
    """Show one feedback item with its enrichment, its customer and what happened around it."""
    item = get_feedback(db_session=session, actor=caller.principal, feedback_id=item_id)
    return _item_page(request, session, caller, item)


@router.post("/inbox/{item_id}/labels", response_model=None)
def correct_item(
    request: Request,
    item_id: str,
    caller: WebCallerDep,
    session: SessionDep,
    sentiment: Annotated[str, Form()] = "",
    topics: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    """Correct an item's sentiment or topics; the correction is kept as a training label."""
    try:
        correct_enrichment(
            db_session=session,
            actor=caller.principal,
            feedback_id=item_id,
            sentiment=sentiment,
            topics=topics.split(","),
        )
    except InvalidInput as exc:
        # Nothing was changed: the input is checked before the item is touched.
        item = get_feedback(db_session=session, actor=caller.principal, feedback_id=item_id)
        return _item_page(request, session, caller, item, error=exc.reason)
    return RedirectResponse(f"/inbox/{item_id}#enrichment", status_code=303)
