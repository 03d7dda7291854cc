"""The demo workspace: its size, its company, its users, and that a seed repeats it exactly."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import phonenumbers
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import Store, empty_store
from tests.demo.conftest import SMALL, Build
from touchpoints.auth.models import Membership, User
from touchpoints.auth.passwords import verify_password
from touchpoints.customers.models import Customer, CustomerIdentity
from touchpoints.demo import DemoSpec, demo_exists
from touchpoints.errors import Conflict, InvalidInput
from touchpoints.feedback.models import FeedbackItem
from touchpoints.journeys.models import Channel, Journey, Touchpoint
from touchpoints.operations.models import EventType, OperationalEvent
from touchpoints.orgs.models import OrgUnit, Workspace

TINY = replace(SMALL, customers=10, feedback=10)


def _count(session: Session, model: type[object]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_builds_an_airline_of_the_requested_size(
    build: Build, committed_factory: sessionmaker[Session]
) -> None:
    seen: dict[str, tuple[int, int]] = {}
    summary = build(progress=lambda stage, done, total: seen.__setitem__(stage, (done, total)))
    with committed_factory() as session:
        workspace = session.scalars(select(Workspace)).one()
        assert (workspace.slug, workspace.id) == ("demo", summary.workspace_id)
        assert "Brightwing Air" in workspace.name
        assert workspace.settings["demo"]["fictional"] is True
        assert _count(session, Customer) == summary.customers == SMALL.customers
        assert _count(session, FeedbackItem) == summary.feedback_items == SMALL.feedback
        assert _count(session, OperationalEvent) == summary.events > 0
        assert _count(session, Journey) == summary.journeys == 3
        types = set(session.scalars(select(OperationalEvent.type).distinct()))
    assert types == {kind.value for kind in EventType}
    assert all(done == total for done, total in seen.values())
    assert {"Customers", "Feedback", "Operational data"} <= set(seen)


def test_touchpoints_span_departments_channels_and_uncontrollable_ones(
    build: Build, committed_factory: sessionmaker[Session]
) -> None:
    summary = build(TINY)
    with committed_factory() as session:
        touchpoints = list(session.scalars(select(Touchpoint)))
    assert len(touchpoints) == summary.touchpoints >= 18
    departments = {tp.owner_department for tp in touchpoints}
    assert {"digital", "operations", "ground services", "inflight"} <= departments
    assert {"customer service", "billing", "loyalty", "marketing"} <= departments
    assert {tp.channel for tp in touchpoints} <= {channel.value for channel in Channel}
    assert len({tp.channel for tp in touchpoints}) >= 7
    outside = {tp.name for tp in touchpoints if not tp.controllable}
    assert "Airport security queue" in outside
    assert "Third-party review site" in outside
    assert all(tp.stage_id is not None for tp in touchpoints)


def test_stations_sit_under_regions_and_staff_are_scoped_to_them(
    build: Build, committed_factory: sessionmaker[Session]
) -> None:
    summary = build(TINY)
    with committed_factory() as session:
        units = {unit.id: unit for unit in session.scalars(select(OrgUnit))}
        members = session.execute(select(User, Membership).join(Membership)).all()
    assert len(units) == summary.org_units
    regions = [unit for unit in units.values() if unit.kind == "region"]
    stations = [unit for unit in units.values() if unit.kind == "station"]
    assert len(regions) == 3
    assert len(stations) >= 9
    assert all(units[s.parent_id].kind == "region" for s in stations if s.parent_id)
    scope = {user.email: membership for user, membership in members}
    admin = scope["admin@brightwing.example"]
    assert (admin.role, admin.org_unit_id) == ("admin", None)
    expected = {
        "regional.manager": ("manager", "uk-ie"),
        "station.manager": ("manager", "MAN"),
        "agent": ("agent", "LGW"),
        "analyst": ("analyst", None),
        "viewer": ("viewer", None),
    }
    for local_part, (role, code) in expected.items():
        membership = scope[f"{local_part}@brightwing.example"]
        unit_code = units[membership.org_unit_id].code if membership.org_unit_id else None
        assert (membership.role, unit_code) == (role, code)
    admin_user = next(user for user, _ in members if user.email == summary.admin_email)
    assert admin_user.display_name == "Demo Admin"
    assert admin_user.password_hash is not None
    assert verify_password(admin_user.password_hash, SMALL.admin_password)


def test_building_an_existing_slug_is_a_conflict(
    build: Build, committed_factory: sessionmaker[Session]
) -> None:
    assert not demo_exists(session_factory=committed_factory)
    build(TINY)
    assert demo_exists(session_factory=committed_factory)
    with pytest.raises(Conflict, match="demo"):
        build(TINY)
    with committed_factory() as session:
        assert _count(session, Workspace) == 1
        assert _count(session, Customer) == TINY.customers


def test_a_second_slug_gets_its_own_ids(
    build: Build, committed_factory: sessionmaker[Session]
) -> None:
    build(TINY)
    other = build(replace(TINY, slug="demo-two"))
    with committed_factory() as session:
        assert _count(session, Customer) == 2 * TINY.customers
        assert _count(session, Membership) == 12
        mine = session.scalar(
            select(func.count()).where(FeedbackItem.workspace_id == other.workspace_id)
        )
    assert mine == TINY.feedback


def test_refuses_a_spec_it_cannot_build(build: Build) -> None:
    with pytest.raises(InvalidInput, match="customers"):
        build(replace(TINY, customers=3))
    with pytest.raises(InvalidInput, match="months"):
        build(replace(TINY, months=1))


def test_scores_sit_in_the_columns_of_their_survey(
    build: Build, committed_factory: sessionmaker[Session]
) -> None:
    build()
    with committed_factory() as session:
        items = list(session.scalars(select(FeedbackItem)))
    metrics = {"Relationship NPS": "nps", "Post-flight survey": "csat"}
    metrics |= {"Support satisfaction": "csat", "Support effort": "ces"}
    metrics |= {"Self-service effort": "ces"}
    ranges = {"nps": range(11), "csat": range(1, 6), "ces": range(1, 8)}
    columns = ("nps", "csat", "ces", "rating")
    for item in items:
        given = {name for name in columns if getattr(item, name) is not None}
        if item.source == "survey":
            metric = metrics[item.metadata_["survey"]]
            assert given == {metric}, item.metadata_
            assert getattr(item, metric) in ranges[metric]
            assert item.rating_scale is None
        elif item.source in ("app_store", "review_site"):
            assert given == {"rating"}
            assert item.rating_scale == 5
            assert item.rating in {1.0, 2.0, 3.0, 4.0, 5.0}
        else:
            assert given == set()
            assert item.text
        assert item.solicited == (item.source == "survey")
        assert item.org_unit_id is not None
    assert len({(item.source, item.source_ref) for item in items}) == len(items)
    assert sum(item.customer_id is None for item in items) > 0
    assert 0 < sum(item.text is None for item in items) < len(items) // 2
    languages = [item.language for item in items if item.text is not None]
    assert languages.count("en") > 0.8 * len(languages)
    assert {"fr", "de"} <= set(languages)


def test_chats_have_speaker_turns_and_emails_a_subject(
    build: Build, committed_factory: sessionmaker[Session]
) -> None:
    build()
    with committed_factory() as session:
        chats = list(session.scalars(select(FeedbackItem).where(FeedbackItem.source == "chat")))
        emails = list(session.scalars(select(FeedbackItem).where(FeedbackItem.source == "email")))
    assert chats
    assert emails
    for chat in chats:
        assert chat.text is not None
        lines = chat.text.splitlines()
        assert lines[0].startswith("Customer: ")
        assert lines[1].startswith("Agent: ")
    assert all(email.title and email.channel == "email" for email in emails)


def test_identities_are_normalized_and_unique(
    build: Build, committed_factory: sessionmaker[Session]
) -> None:
    build()
    with committed_factory() as session:
        identities = list(session.scalars(select(CustomerIdentity)))
    by_kind: dict[str, list[CustomerIdentity]] = {}
    for identity in identities:
        by_kind.setdefault(identity.kind, []).append(identity)
    assert set(by_kind) == {"email", "phone", "external_id"}
    assert all(i.value == i.value.lower() and "@" in i.value for i in by_kind["email"])
    for phone in by_kind["phone"]:
        number = phonenumbers.parse(phone.value)
        assert phonenumbers.is_valid_number(number)
        assert phone.value.startswith("+44")
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        assert e164 == phone.value
    assert {i.source for i in by_kind["external_id"]} == {"loyalty"}
    assert len({(i.kind, i.value) for i in identities}) == len(identities)


def _fingerprint(factory: sessionmaker[Session]) -> str:
    digest = hashlib.sha256()
    with factory() as session:
        codes = dict(session.execute(select(OrgUnit.id, OrgUnit.code)).all())
        feedback = session.execute(
            select(
                FeedbackItem.id, FeedbackItem.occurred_at, FeedbackItem.nps, FeedbackItem.csat,
                FeedbackItem.ces, FeedbackItem.rating, FeedbackItem.text,
                FeedbackItem.customer_id, FeedbackItem.touchpoint_id, FeedbackItem.org_unit_id,
            ).order_by(FeedbackItem.id)
        )  # fmt: skip
        for *values, unit in feedback:
            digest.update(repr((*values, codes.get(unit))).encode())
        customers = select(Customer.id, Customer.display_name, Customer.attributes)
        for row in session.execute(customers.order_by(Customer.id)):
            digest.update(repr(tuple(row)).encode())
        events = select(
            OperationalEvent.id, OperationalEvent.occurred_at, OperationalEvent.value,
            OperationalEvent.duration_seconds, OperationalEvent.customer_id,
        ).order_by(OperationalEvent.id)  # fmt: skip
        for row in session.execute(events):
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def test_the_same_seed_rebuilds_the_same_data_and_ids(
    build: Build, committed_factory: sessionmaker[Session], store: Store
) -> None:
    build()
    first = _fingerprint(committed_factory)
    empty_store(store)
    build()
    assert _fingerprint(committed_factory) == first
    empty_store(store)
    build(DemoSpec(customers=SMALL.customers, feedback=SMALL.feedback, end=SMALL.end, seed=8))
    assert _fingerprint(committed_factory) != first
