"""Feedback service rules: who may write where, and what a write stores."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.factories.feedback import make_feedback_item
from tests.factories.orgs import make_org_unit, make_workspace
from touchpoints.api.listing import ListParams
from touchpoints.auth.permissions import Principal, Role
from touchpoints.errors import InvalidInput, NotFound, PermissionDenied
from touchpoints.feedback import service
from touchpoints.feedback.schemas import FeedbackItemCreate, FeedbackItemUpdate
from touchpoints.orgs.models import OrgUnit


def said(**fields: Any) -> FeedbackItemCreate:
    """Return a valid new feedback item."""
    values: dict[str, Any] = {
        "occurred_at": datetime(2024, 5, 1, tzinfo=UTC),
        "text": "Nice store, long queue.",
    }
    return FeedbackItemCreate.model_validate(values | fields)


def scoped(role: Role, unit: OrgUnit) -> Principal:
    """Return a caller of the unit's workspace limited to the unit's subtree."""
    return Principal(
        workspace_id=unit.workspace_id, user_id="u1", role=role, org_unit_path=unit.path
    )


@pytest.fixture
def stores(db_session: Session) -> tuple[OrgUnit, OrgUnit, OrgUnit]:
    """A region with two stores: (region, store A, store B)."""
    workspace = make_workspace(db_session)
    region = make_org_unit(db_session, workspace_id=workspace.id, kind="region")
    store_a = make_org_unit(db_session, workspace_id=workspace.id, parent_id=region.id)
    store_b = make_org_unit(db_session, workspace_id=workspace.id, parent_id=region.id)
    return region, store_a, store_b


def test_scoped_writer_writes_only_inside_their_subtree(
    db_session: Session, stores: tuple[OrgUnit, OrgUnit, OrgUnit]
) -> None:
    region, store_a, store_b = stores
    analyst = scoped(Role.ANALYST, region)

    item = service.create_feedback(
        db_session=db_session, actor=analyst, feedback_in=said(org_unit_id=store_a.id)
    )
    with pytest.raises(InvalidInput) as unscoped:
        service.create_feedback(
            db_session=db_session,
            actor=scoped(Role.ANALYST, store_a),
            feedback_in=said(org_unit_id=store_b.id),
        )
    with pytest.raises(InvalidInput) as missing:
        service.create_feedback(db_session=db_session, actor=analyst, feedback_in=said())

    assert item.org_unit_id == store_a.id
    assert unscoped.value.field == missing.value.field == "org_unit_id"


def test_scoped_writer_cannot_move_an_item_out_of_their_subtree(
    db_session: Session, stores: tuple[OrgUnit, OrgUnit, OrgUnit]
) -> None:
    _, store_a, store_b = stores
    analyst = scoped(Role.ANALYST, store_a)
    item = make_feedback_item(db_session, workspace_id=store_a.workspace_id, org_unit_id=store_a.id)

    for target in (store_b.id, None):
        with pytest.raises(InvalidInput):
            service.update_feedback(
                db_session=db_session,
                actor=analyst,
                feedback_id=item.id,
                feedback_in=FeedbackItemUpdate(org_unit_id=target),
            )
    relabelled = service.update_feedback(
        db_session=db_session,
        actor=analyst,
        feedback_id=item.id,
        feedback_in=FeedbackItemUpdate(title="Queue"),
    )

    assert (relabelled.org_unit_id, relabelled.title) == (store_a.id, "Queue")


def test_scoped_writer_cannot_delete_outside_their_subtree(
    db_session: Session, stores: tuple[OrgUnit, OrgUnit, OrgUnit]
) -> None:
    _, store_a, store_b = stores
    item = make_feedback_item(db_session, workspace_id=store_b.workspace_id, org_unit_id=store_b.id)

    with pytest.raises(NotFound):
        service.delete_feedback(
            db_session=db_session, actor=scoped(Role.ANALYST, store_a), feedback_id=item.id
        )


def test_agents_may_read_but_not_write(
    db_session: Session, stores: tuple[OrgUnit, OrgUnit, OrgUnit]
) -> None:
    _, store_a, _ = stores
    agent = scoped(Role.AGENT, store_a)
    make_feedback_item(db_session, workspace_id=store_a.workspace_id, org_unit_id=store_a.id)

    with pytest.raises(PermissionDenied):
        service.create_feedback(
            db_session=db_session, actor=agent, feedback_in=said(org_unit_id=store_a.id)
        )
    items, total = service.list_feedback(db_session=db_session, actor=agent, params=ListParams())

    assert total == len(items) == 1


def test_scores_are_stored_in_their_columns(db_session: Session) -> None:
    workspace = make_workspace(db_session)
    admin = Principal(workspace_id=workspace.id, user_id="u1", role=Role.ADMIN)

    with_rating = service.create_feedback(
        db_session=db_session,
        actor=admin,
        feedback_in=said(scores={"nps": 9, "rating": 4.5}, metadata={"tags": ["vip"]}),
    )
    text_only = service.create_feedback(db_session=db_session, actor=admin, feedback_in=said())

    assert (with_rating.nps, with_rating.rating, with_rating.rating_scale) == (9, 4.5, 5)
    assert with_rating.metadata_ == {"tags": ["vip"]}
    assert (text_only.nps, text_only.rating, text_only.rating_scale) == (None, None, None)
