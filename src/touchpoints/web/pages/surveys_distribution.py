"""A survey's distribution (links, invitations, frequency rule) and its response rates."""

from __future__ import annotations

from typing import Annotated, Any, get_args
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from touchpoints.api.deps import SessionDep
from touchpoints.api.listing import ListParams
from touchpoints.auth.permissions import Permission, require
from touchpoints.customers.models import Segment
from touchpoints.customers.segments import list_segments
from touchpoints.distribution.models import InvitationChannel, InvitationStatus
from touchpoints.distribution.schemas import InvitationCreate
from touchpoints.distribution.service import create_invitations
from touchpoints.distribution.survey_frequency import (
    frequency_rule,
    set_survey_frequency,
)
from touchpoints.distribution.tracking import channel_funnels, invitation_page, link_responses
from touchpoints.errors import Conflict, InvalidInput
from touchpoints.journeys.models import Channel
from touchpoints.surveys.links import create_link, list_links
from touchpoints.surveys.models import Survey
from touchpoints.surveys.schemas import SurveyLinkCreate
from touchpoints.surveys.service import get_survey
from touchpoints.web.deps import WebCallerDep
from touchpoints.web.pages.surveys_charts import funnel_spec
from touchpoints.web.pages.surveys_common import survey_tabs
from touchpoints.web.rendering import render
from touchpoints.web.sessions import WebCaller

router = APIRouter()
PAGE_SIZE = 50
ALL_SEGMENTS = 500
FormField = Annotated[str, Form()]
NOTICES = {
    "link": "The link is created; share its address in its channel.",
    "frequency": "The contact-frequency rule of this survey is saved.",
}


def _distribution(
    request: Request,
    session: Session,
    caller: WebCaller,
    survey: Survey,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    outcome: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    actor = caller.principal
    query = request.query_params
    status = query.get("status") or None
    channel = query.get("channel") or None
    offset = int(query["offset"]) if query.get("offset", "").isdigit() else 0
    try:
        invitations = invitation_page(
            db_session=session,
            actor=actor,
            survey_id=survey.id,
            status=status,
            channel=channel,
            offset=offset,
            limit=PAGE_SIZE,
        )
    except InvalidInput as problem:
        errors = (errors or {}) | {"status": problem.reason}
        invitations = invitation_page(
            db_session=session, actor=actor, survey_id=survey.id, limit=PAGE_SIZE
        )
        status_code = 422
    segments: list[Segment] = []
    if actor.can(Permission.CUSTOMERS_READ):
        segments, _ = list_segments(
            db_session=session, actor=actor, params=ListParams(limit=ALL_SEGMENTS, sort="name")
        )
    base = str(request.base_url).rstrip("/")
    filters = {k: v for k, v in (("status", status), ("channel", channel)) if v}
    return render(
        request,
        session,
        caller,
        "surveys/distribution.html",
        title=f"Distribution of {survey.name}",
        status_code=status_code,
        survey=survey,
        tabs=survey_tabs(survey.id),
        links=[
            (link, f"{base}/s/{link.token}")
            for link in list_links(db_session=session, actor=actor, survey_id=survey.id)
        ],
        invitations=invitations,
        statuses=[s.value for s in InvitationStatus],
        channels=[c.value for c in Channel],
        status=status or "",
        channel=channel or "",
        invitation_channels=[c.value for c in InvitationChannel],
        invite_channels=list(get_args(InvitationCreate.model_fields["channel"].annotation)),
        query_prefix=urlencode(filters) + "&" if filters else "",
        rule=frequency_rule(db_session=session, actor=actor, survey_id=survey.id),
        segments=segments,
        can_write=actor.can(Permission.SURVEYS_WRITE),
        can_see_customers=actor.can(Permission.CUSTOMERS_READ),
        errors=errors or {},
        form=form or {},
        outcome=outcome,
        notice=NOTICES.get(query.get("done", "")),
    )


@router.get("/surveys/{survey_id}/distribution")
def distribution(
    request: Request, survey_id: str, caller: WebCallerDep, session: SessionDep
) -> HTMLResponse:
    """Show a survey's public links, its invitations with their status, and its frequency rule."""
    survey = get_survey(db_session=session, actor=caller.principal, survey_id=survey_id)
    return _distribution(request, session, caller, survey)


@router.post("/surveys/{survey_id}/links", response_model=None)
def add_link(
    request: Request,
    survey_id: str,
    caller: WebCallerDep,
    session: SessionDep,
    channel: FormField = "",
) -> Response:
    """Create an anonymous public link tagged with its channel (admins and analysts)."""
    require(caller.principal, Permission.SURVEYS_WRITE)
    survey = get_survey(db_session=session, actor=caller.principal, survey_id=survey_id)
    try:
        link_in = SurveyLinkCreate.model_validate({"channel": channel})
    except ValidationError:
        errors = {"link_channel": "choose the channel the link will be shared in"}
        return _distribution(request, session, caller, survey, errors=errors, status_code=422)
    create_link(db_session=session, actor=caller.principal, survey_id=survey.id, link_in=link_in)
    return RedirectResponse(f"/surveys/{survey.id}/distribution?done=link#links", status_code=303)


def _invitation_request(form: dict[str, str]) -> InvitationCreate:
    """Read the invite form into the service's request; raise InvalidInput naming the field."""
    try:
        reminders = [int(day) for day in form["reminders"].replace(",", " ").split()]
    except ValueError:
        raise InvalidInput("reminders", "write days as numbers, like 3, 7") from None
    days = form["contact_frequency_days"].strip()
    document: dict[str, Any] = {
        "channel": form["channel"] or "email",
        "reminders": reminders,
        "expires_in_days": form["expires_in_days"].strip() or 30,
        "contact_frequency_days": days or None,
    }
    if form["audience"] == "segment":
        document["segment_id"] = form["segment_id"] or None
        if document["segment_id"] is None:
            raise InvalidInput("segment_id", "choose a segment")
    else:
        ids = form["customer_ids"].replace(",", " ").split()
        if not ids:
            raise InvalidInput("customer_ids", "list at least one customer id")
        document["customer_ids"] = ids
    try:
        return InvitationCreate.model_validate(document)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "audience"
        raise InvalidInput(field, error["msg"].removeprefix("Value error, ")) from None


@router.post("/surveys/{survey_id}/invitations", response_model=None)
def invite(
    request: Request,
    survey_id: str,
    caller: WebCallerDep,
    session: SessionDep,
    audience: FormField = "segment",
    channel: FormField = "email",
    segment_id: FormField = "",
    customer_ids: FormField = "",
    reminders: FormField = "",
    expires_in_days: FormField = "30",
    contact_frequency_days: FormField = "",
) -> Response:
    """Invite a segment or a list of customers by email, with reminders (admins and analysts)."""
    require(caller.principal, Permission.SURVEYS_WRITE)
    survey = get_survey(db_session=session, actor=caller.principal, survey_id=survey_id)
    form = {
        "audience": audience,
        "channel": channel,
        "segment_id": segment_id,
        "customer_ids": customer_ids,
        "reminders": reminders,
        "expires_in_days": expires_in_days,
        "contact_frequency_days": contact_frequency_days,
    }
    try:
        invited, skipped = create_invitations(
            db_session=session,
            actor=caller.principal,
            survey_id=survey.id,
            invitation_in=_invitation_request(form),
            settings=request.app.state.settings,
        )
    except InvalidInput as problem:
        errors = {problem.field: problem.reason}
        return _distribution(
            request, session, caller, survey, errors=errors, form=form, status_code=422
        )
    except Conflict as problem:
        errors = {"audience": problem.detail}
        return _distribution(
            request, session, caller, survey, errors=errors, form=form, status_code=409
        )
    outcome = {"invited": len(invited), "skipped": skipped}
    return _distribution(request, session, caller, survey, outcome=outcome, status_code=201)


@router.post("/surveys/{survey_id}/frequency", response_model=None)
def change_frequency(
    request: Request,
    survey_id: str,
    caller: WebCallerDep,
    session: SessionDep,
    days: FormField = "",
) -> Response:
    """Give the survey its own minimum days between invitations, or follow the workspace's."""
    require(caller.principal, Permission.SURVEYS_WRITE)
    survey = get_survey(db_session=session, actor=caller.principal, survey_id=survey_id)
    try:
        if days.strip() and not days.strip().isdigit():
            raise InvalidInput(
                "contact_frequency_days", "give a whole number of days, or leave it empty"
            )
        set_survey_frequency(
            db_session=session,
            actor=caller.principal,
            survey_id=survey.id,
            days=int(days) if days.strip() else None,
        )
    except InvalidInput as problem:
        errors = {"frequency": problem.reason}
        return _distribution(
            request, session, caller, survey, errors=errors, form={"days": days}, status_code=422
        )
    return RedirectResponse(
        f"/surveys/{survey.id}/distribution?done=frequency#frequency", status_code=303
    )


@router.get("/surveys/{survey_id}/responses")
def response_rates(
    request: Request, survey_id: str, caller: WebCallerDep, session: SessionDep
) -> HTMLResponse:
    """Show the response rate per channel with counts and 95% Wilson intervals, chart and table."""
    survey = get_survey(db_session=session, actor=caller.principal, survey_id=survey_id)
    funnels = channel_funnels(db_session=session, actor=caller.principal, survey_id=survey.id)
    anonymous = link_responses(db_session=session, actor=caller.principal, survey_id=survey.id)
    return render(
        request,
        session,
        caller,
        "surveys/responses.html",
        title=f"Response rates of {survey.name}",
        survey=survey,
        tabs=survey_tabs(survey.id),
        funnels=funnels,
        anonymous=anonymous,
        chart=funnel_spec(funnels),
    )
