"""A survey's own contact-frequency rule, overriding the workspace's, and sends that honour it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from touchpoints.auth.permissions import Permission, Principal, require
from touchpoints.distribution.frequency import (
    SURVEY_SETTING,
    contact_frequency_days,
    survey_overrides,
)
from touchpoints.errors import InvalidInput
from touchpoints.orgs.models import Workspace
from touchpoints.surveys.service import get_survey

MAX_DAYS = 3650


@dataclass(frozen=True)
class FrequencyRule:
    """The minimum days between two invitations to one customer, for one survey."""

    workspace_days: int
    survey_days: int | None

    @property
    def days(self) -> int:
        """Return the days that apply: the survey's override, else the workspace's."""
        return self.workspace_days if self.survey_days is None else self.survey_days


def _workspace(db_session: Session, actor: Principal) -> Workspace:
    workspace = db_session.get(Workspace, actor.workspace_id)
    assert workspace is not None, "a principal always belongs to an existing workspace"
    return workspace


def frequency_rule(*, db_session: Session, actor: Principal, survey_id: str) -> FrequencyRule:
    """Return the workspace's rule and the survey's override, if it has one."""
    survey = get_survey(db_session=db_session, actor=actor, survey_id=survey_id)
    workspace = _workspace(db_session, actor)
    return FrequencyRule(
        contact_frequency_days(workspace), survey_overrides(workspace).get(survey.id)
    )


def set_survey_frequency(
    *, db_session: Session, actor: Principal, survey_id: str, days: int | None
) -> FrequencyRule:
    """Give a survey its own minimum days between invitations, or (None) follow the workspace."""
    require(actor, Permission.SURVEYS_WRITE)
    survey = get_survey(db_session=db_session, actor=actor, survey_id=survey_id)
    if days is not None and not 0 <= days <= MAX_DAYS:
        raise InvalidInput("contact_frequency_days", f"give a number of days from 0 to {MAX_DAYS}")
    workspace = _workspace(db_session, actor)
    overrides = survey_overrides(workspace)
    if days is None:
        overrides.pop(survey.id, None)
    else:
        overrides[survey.id] = days
    # A new dict, so the JSON column sees the change.
    workspace.settings = {**(workspace.settings or {}), SURVEY_SETTING: overrides}
    db_session.flush()
    return FrequencyRule(contact_frequency_days(workspace), overrides.get(survey.id))
