"""Rules every customer signal shares: links, one row per source id, what a caller sees."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic

import pytest
from sqlalchemy.orm import Session

from tests.factories.feedback import make_customer, make_feedback_item, make_touchpoint
from tests.factories.operations import make_event
from tests.factories.orgs import make_org_unit, make_workspace
from touchpoints.auth.permissions import Principal, Role
from touchpoints.errors import Conflict, InvalidInput
from touchpoints.feedback.models import FeedbackItem
from touchpoints.operations.models import OperationalEvent
from touchpoints.orgs.models import OrgUnit
from touchpoints.signals.service import Signal, check_links, ensure_new_source_ref, visible


@dataclass(frozen=True)
class SignalKind(Generic[Signal]):
    """One kind of customer signal: its table, a factory and the noun its messages use."""

    model: type[Signal]
    make: Callable[..., Signal]
    noun: str


KINDS = [
    pytest.param(SignalKind(FeedbackItem, make_feedback_item, "feedback"), id="feedback"),
    pytest.param(SignalKind(OperationalEvent, make_event, "an event"), id="events"),
]


def whole_workspace(workspace_id: str) -> Principal:
    """Return an analyst who sees the whole workspace."""
    return Principal(workspace_id=workspace_id, user_id="u1", role=Role.ANALYST)


def scoped(unit: OrgUnit) -> Principal:
    """Return an analyst limited to the unit's subtree."""
    return Principal(
        workspace_id=unit.workspace_id, user_id="u1", role=Role.ANALYST, org_unit_path=unit.path
    )


@pytest.fixture
def stores(db_session: Session) -> tuple[OrgUnit, OrgUnit, OrgUnit]:
    """A region with two stores: (region, store A, store B)."""
    workspace = make_workspace(db_session)
    region = make_org_unit(db_session, workspace_id=workspace.id, kind="region")
    store_a = make_org_unit(db_session, workspace_id=workspace.id, parent_id=region.id)
    store_b = make_org_unit(db_session, workspace_id=workspace.id, parent_id=region.id)
    return region, store_a, store_b


def test_check_links_names_the_field_of_an_unknown_touchpoint_or_customer(
    db_session: Session,
) -> None:
    workspace = make_workspace(db_session)
    other = make_workspace(db_session)
    foreign_touchpoint = make_touchpoint(db_session, workspace_id=other.id)
    foreign_customer = make_customer(db_session, workspace_id=other.id)
    actor = whole_workspace(workspace.id)

    with pytest.raises(InvalidInput) as touchpoint:
        check_links(db_session, actor, {"touchpoint_id": foreign_touchpoint.id})
    with pytest.raises(InvalidInput) as customer:
        check_links(db_session, actor, {"customer_id": "missing"})
    with pytest.raises(InvalidInput) as other_customer:
        check_links(db_session, actor, {"customer_id": foreign_customer.id})

    assert touchpoint.value.field == "touchpoint_id"
    assert touchpoint.value.reason == f"no touchpoint {foreign_touchpoint.id} in this workspace"
    assert customer.value.field == "customer_id"
    assert customer.value.reason == "no customer missing in this workspace"
    assert other_customer.value.field == "customer_id"


def test_check_links_accepts_links_of_the_callers_workspace(db_session: Session) -> None:
    workspace = make_workspace(db_session)
    touchpoint = make_touchpoint(db_session, workspace_id=workspace.id)
    customer = make_customer(db_session, workspace_id=workspace.id)
    unit = make_org_unit(db_session, workspace_id=workspace.id)

    check_links(
        db_session,
        whole_workspace(workspace.id),
        {"touchpoint_id": touchpoint.id, "customer_id": customer.id, "org_unit_id": unit.id},
    )


def test_check_links_refuses_a_unit_outside_the_scope_like_a_missing_one(
    db_session: Session, stores: tuple[OrgUnit, OrgUnit, OrgUnit]
) -> None:
    region, store_a, store_b = stores

    check_links(db_session, scoped(region), {"org_unit_id": store_a.id})
    with pytest.raises(InvalidInput) as outside:
        check_links(db_session, scoped(store_a), {"org_unit_id": store_b.id})
    with pytest.raises(InvalidInput) as missing:
        check_links(db_session, scoped(store_a), {"org_unit_id": "missing"})
    with pytest.raises(InvalidInput) as left_out:
        check_links(db_session, scoped(store_a), {"org_unit_id": None})

    assert outside.value.reason == f"no org unit {store_b.id} in your scope"
    assert missing.value.reason == "no org unit missing in your scope"
    assert left_out.value.field == "org_unit_id"
    assert left_out.value.reason == "required: you may only write data of your org units"


def test_check_links_leaves_the_org_unit_alone_when_not_given(
    db_session: Session, stores: tuple[OrgUnit, OrgUnit, OrgUnit]
) -> None:
    _, store_a, _ = stores

    # An update that does not touch the org unit must not be refused for it.
    check_links(db_session, scoped(store_a), {})


@pytest.mark.parametrize("kind", KINDS)
def test_a_source_ref_is_stored_once_per_workspace_and_source(
    db_session: Session, kind: SignalKind[Any]
) -> None:
    workspace = make_workspace(db_session)
    other = make_workspace(db_session)
    stored = kind.make(db_session, workspace_id=workspace.id, source="shop", source_ref="r-1")
    actor = whole_workspace(workspace.id)

    with pytest.raises(Conflict) as duplicate:
        ensure_new_source_ref(db_session, actor, kind.model, "shop", "r-1", kind.noun)
    ensure_new_source_ref(db_session, actor, kind.model, "crm", "r-1", kind.noun)
    ensure_new_source_ref(db_session, actor, kind.model, "shop", None, kind.noun)
    ensure_new_source_ref(
        db_session, whole_workspace(other.id), kind.model, "shop", "r-1", kind.noun
    )

    assert duplicate.value.detail == (
        f"{kind.noun} from 'shop' with source_ref 'r-1' is already stored as {stored.id}"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_visible_hides_other_workspaces_and_units_outside_the_scope(
    db_session: Session, kind: SignalKind[Any], stores: tuple[OrgUnit, OrgUnit, OrgUnit]
) -> None:
    region, store_a, store_b = stores
    other = make_workspace(db_session)
    fields: dict[str, Any] = {"workspace_id": region.workspace_id}
    in_a = kind.make(db_session, **fields, org_unit_id=store_a.id)
    in_b = kind.make(db_session, **fields, org_unit_id=store_b.id)
    unplaced = kind.make(db_session, **fields)
    kind.make(db_session, workspace_id=other.id)

    def seen(actor: Principal) -> set[str]:
        return {row.id for row in db_session.scalars(visible(actor, kind.model))}

    assert seen(whole_workspace(region.workspace_id)) == {in_a.id, in_b.id, unplaced.id}
    assert seen(scoped(region)) == {in_a.id, in_b.id}
    assert seen(scoped(store_a)) == {in_a.id}
