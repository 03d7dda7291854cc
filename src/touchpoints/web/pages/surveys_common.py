"""What the survey pages share: the survey's tabs, places to link it to, error fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from touchpoints.api.deps import client_address
from touchpoints.api.listing import ListParams
from touchpoints.audit.actions import AuditAction
from touchpoints.audit.service import record_change
from touchpoints.auth.permissions import Permission
from touchpoints.errors import InvalidInput
from touchpoints.journeys import service as journeys
from touchpoints.journeys.models import Journey, Touchpoint
from touchpoints.surveys.models import Survey
from touchpoints.web.sessions import WebCaller

ALL_PLACES = 500
# Fields of the builder form that show their own errors; every other problem is the document's.
FORM_FIELDS = ("touchpoint_id", "stage_id", "file")


@dataclass(frozen=True)
class Tab:
    """One page of a survey, in the survey's own navigation."""

    label: str
    href: str


def survey_tabs(survey_id: str) -> list[Tab]:
    """Return the pages of one survey."""
    return [
        Tab("Builder", f"/surveys/{survey_id}/edit"),
        Tab("Distribution", f"/surveys/{survey_id}/distribution"),
        Tab("Response rates", f"/surveys/{survey_id}/responses"),
    ]


def places(session: Session, caller: WebCaller) -> dict[str, Any]:
    """Return the touchpoints and journeys (with stages) a survey can be linked to."""
    if not caller.principal.can(Permission.JOURNEYS_READ):
        return {"touchpoints": [], "journeys": []}
    params = ListParams(limit=ALL_PLACES)
    touchpoints: list[Touchpoint]
    journey_list: list[Journey]
    touchpoints, _ = journeys.list_touchpoints(
        db_session=session, actor=caller.principal, params=params
    )
    journey_list, _ = journeys.list_journeys(
        db_session=session, actor=caller.principal, params=params
    )
    return {"touchpoints": touchpoints, "journeys": journey_list}


def problem_field(problem: InvalidInput, fields: tuple[str, ...] = FORM_FIELDS) -> str:
    """Return the form field a problem is shown next to: its own, else the document's."""
    if problem.field in fields or problem.field.startswith(("question_", "show_if_")):
        return problem.field
    return "document"


def audit_survey(
    session: Session, caller: WebCaller, request: Request, action: AuditAction, survey: Survey
) -> None:
    """Record a survey's creation, publication or closing in the audit log."""
    record_change(
        db_session=session,
        actor=caller.principal,
        action=action,
        object_type="survey",
        object_id=survey.id,
        details={"name": survey.name, "version": survey.latest_version},
        ip_address=client_address(request),
    )


def blank_to_none(value: str) -> str | None:
    """Return a form value, or None for an empty field."""
    return value.strip() or None
