"""Customer service rules that other domains rely on: lookup by identity, placement, conflicts."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.factories.customers import make_customer
from tests.factories.orgs import make_org_unit, make_workspace
from touchpoints.auth.permissions import Principal, Role
from touchpoints.customers import service
from touchpoints.customers.identities import IdentityKind
from touchpoints.customers.schemas import CustomerCreate, CustomerUpdate, IdentityCreate
from touchpoints.errors import Conflict, InvalidInput, NotFound


def test_find_by_identity_normalizes_what_it_is_given(db_session: Session) -> None:
    workspace = make_workspace(db_session)
    ann = make_customer(
        db_session,
        workspace_id=workspace.id,
        email="ann@example.com",
        phone="+1 415 555 0132",
        external_id="C-42",
        external_id_source="crm",
    )

    def find(kind: str, value: str, source: str = "") -> str | None:
        found = service.find_by_identity(
            db_session=db_session, workspace_id=workspace.id, kind=kind, value=value, source=source
        )
        return found.id if found else None

    assert find("email", "  ANN@Example.com ") == ann.id
    assert find(IdentityKind.PHONE, "(415) 555-0132") == ann.id
    assert find("external_id", " C-42", source="crm") == ann.id
    assert find("external_id", "C-42", source="shop") is None
    assert find("email", "bob@example.com") is None


def test_find_by_identity_stays_in_its_workspace(db_session: Session) -> None:
    mine, theirs = make_workspace(db_session), make_workspace(db_session)
    make_customer(db_session, workspace_id=theirs.id, email="ann@example.com")
    found = service.find_by_identity(
        db_session=db_session, workspace_id=mine.id, kind="email", value="ann@example.com"
    )
    assert found is None


def test_find_by_identity_uses_the_workspace_phone_region(db_session: Session) -> None:
    workspace = make_workspace(db_session)
    workspace.settings = {"default_phone_region": "GB"}
    customer = make_customer(db_session, workspace_id=workspace.id, phone="020 7946 0958")
    assert customer.identities[0].value == "+442079460958"
    found = service.find_by_identity(
        db_session=db_session, workspace_id=workspace.id, kind="phone", value="+44 20 7946 0958"
    )
    assert found is not None and found.id == customer.id


def test_find_by_identity_refuses_unknown_kinds_and_bad_values(db_session: Session) -> None:
    workspace = make_workspace(db_session)
    with pytest.raises(InvalidInput) as unknown:
        service.find_by_identity(
            db_session=db_session, workspace_id=workspace.id, kind="fax", value="1"
        )
    assert unknown.value.field == "kind"
    with pytest.raises(InvalidInput) as bad:
        service.find_by_identity(
            db_session=db_session, workspace_id=workspace.id, kind="email", value="nope"
        )
    assert bad.value.field == "email"


def test_the_same_identity_in_two_workspaces_is_two_customers(db_session: Session) -> None:
    first, second = make_workspace(db_session), make_workspace(db_session)
    a = make_customer(db_session, workspace_id=first.id, email="ann@example.com")
    b = make_customer(db_session, workspace_id=second.id, email="ANN@example.com")
    assert a.id != b.id


def test_identities_given_twice_in_one_request_are_stored_once(db_session: Session) -> None:
    workspace = make_workspace(db_session)
    customer = service.build_customer(
        db_session=db_session,
        workspace_id=workspace.id,
        customer_in=CustomerCreate(
            email="Ann@Example.com",
            identities=[IdentityCreate(kind=IdentityKind.EMAIL, value="ann@example.com")],
        ),
    )
    assert [(i.kind, i.value) for i in customer.identities] == [("email", "ann@example.com")]


def test_adding_an_identity_of_another_customer_names_that_customer(db_session: Session) -> None:
    workspace = make_workspace(db_session)
    actor = Principal(workspace_id=workspace.id, user_id="u", role=Role.ANALYST)
    ann = make_customer(db_session, workspace_id=workspace.id, email="ann@example.com")
    bob = make_customer(db_session, workspace_id=workspace.id, email="bob@example.com")
    with pytest.raises(Conflict) as caught:
        service.add_identity(
            db_session=db_session,
            actor=actor,
            customer_id=bob.id,
            identity_in=IdentityCreate(kind=IdentityKind.EMAIL, value="ANN@example.com"),
        )
    assert f"email ann@example.com already belongs to customer {ann.id}" in caught.value.detail


def test_adding_an_identity_the_customer_has_keeps_one(db_session: Session) -> None:
    workspace = make_workspace(db_session)
    actor = Principal(workspace_id=workspace.id, user_id="u", role=Role.ANALYST)
    ann = make_customer(db_session, workspace_id=workspace.id, email="ann@example.com")
    again = service.add_identity(
        db_session=db_session,
        actor=actor,
        customer_id=ann.id,
        identity_in=IdentityCreate(kind=IdentityKind.EMAIL, value="Ann@Example.com"),
    )
    assert again.id == ann.identities[0].id
    assert len(ann.identities) == 1


def test_a_scoped_writer_places_customers_only_in_their_subtree(db_session: Session) -> None:
    workspace = make_workspace(db_session)
    region = make_org_unit(db_session, workspace_id=workspace.id, kind="region")
    store_a = make_org_unit(db_session, workspace_id=workspace.id, parent_id=region.id)
    store_b = make_org_unit(db_session, workspace_id=workspace.id)
    writer = Principal(
        workspace_id=workspace.id, user_id="u", role=Role.ANALYST, org_unit_path=region.path
    )
    placed = service.create_customer(
        db_session=db_session, actor=writer, customer_in=CustomerCreate(org_unit_id=store_a.id)
    )
    assert placed.org_unit_id == store_a.id
    with pytest.raises(NotFound):
        service.create_customer(
            db_session=db_session, actor=writer, customer_in=CustomerCreate(org_unit_id=store_b.id)
        )
    with pytest.raises(InvalidInput) as unplaced:
        service.create_customer(db_session=db_session, actor=writer, customer_in=CustomerCreate())
    assert unplaced.value.field == "org_unit_id"
    with pytest.raises(NotFound):
        service.update_customer(
            db_session=db_session,
            actor=writer,
            customer_id=placed.id,
            customer_in=CustomerUpdate(org_unit_id=store_b.id),
        )


def test_org_units_of_another_workspace_are_refused(db_session: Session) -> None:
    workspace, other = make_workspace(db_session), make_workspace(db_session)
    foreign_store = make_org_unit(db_session, workspace_id=other.id)
    actor = Principal(workspace_id=workspace.id, user_id="u", role=Role.ADMIN)
    with pytest.raises(InvalidInput) as caught:
        service.create_customer(
            db_session=db_session,
            actor=actor,
            customer_in=CustomerCreate(org_unit_id=foreign_store.id),
        )
    assert caught.value.field == "org_unit_id"
