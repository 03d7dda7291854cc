"""Customer pages: the searchable list and the profile with its timeline."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy.orm import Session

from tests.factories.customers import make_customer, make_segment
from tests.factories.feedback import make_feedback_item
from tests.factories.operations import make_event
from tests.factories.orgs import make_org_unit
from tests.web.conftest import MakeBrowser
from touchpoints.auth.permissions import Role
from touchpoints.customers.segments import add_to_segment
from touchpoints.db.base import utcnow

CUSTOMER_LINK = re.compile(r'href="/customers/([0-9a-f]{32})"')


def test_the_list_finds_customers_by_name_email_or_phone(
    make_browser: MakeBrowser, db_session: Session
) -> None:
    admin = make_browser(Role.ADMIN)
    workspace_id = admin.principal.workspace_id
    ada = make_customer(
        db_session,
        workspace_id=workspace_id,
        display_name="Ada Lovelace",
        email="ada@engine.example",
    )
    alan = make_customer(
        db_session, workspace_id=workspace_id, display_name="Alan Turing", phone="+44 20 7946 0018"
    )
    db_session.commit()

    def found(q: str) -> list[str]:
        page = admin.http.get("/customers", params={"q": q})
        assert page.status_code == 200
        return list(dict.fromkeys(CUSTOMER_LINK.findall(page.text)))

    assert found("") == [ada.id, alan.id]
    assert found("lovelace") == [ada.id]
    assert found("ENGINE.example") == [ada.id]
    assert found("020 7946 0018") == [alan.id], "a national number finds the E.164 phone"
    assert found("nobody") == []
    assert "ada@engine.example" in admin.http.get("/customers").text


def test_viewers_may_not_open_customers(make_browser: MakeBrowser, db_session: Session) -> None:
    admin = make_browser(Role.ADMIN)
    customer = make_customer(db_session, workspace_id=admin.principal.workspace_id)
    db_session.commit()
    viewer = make_browser(Role.VIEWER, workspace_id=admin.principal.workspace_id)
    assert viewer.http.get("/customers").status_code == 403
    assert viewer.http.get(f"/customers/{customer.id}").status_code == 403


def test_the_profile_shows_identities_consent_segments_and_attributes(
    make_browser: MakeBrowser, db_session: Session
) -> None:
    admin = make_browser(Role.ADMIN)
    workspace_id = admin.principal.workspace_id
    customer = make_customer(
        db_session,
        workspace_id=workspace_id,
        display_name="Mary Jackson",
        email="mary@nasa.example",
        consent_email=True,
        consent_sms=False,
        attributes={"tier": "gold"},
    )
    segment = make_segment(db_session, workspace_id=workspace_id, name="High value")
    add_to_segment(
        db_session=db_session,
        actor=admin.principal,
        segment_id=segment.id,
        customer_id=customer.id,
    )
    db_session.commit()
    page = admin.http.get(f"/customers/{customer.id}").text
    assert "<h1>Mary Jackson</h1>" in page
    assert "mary@nasa.example" in page and "High value" in page and "gold" in page
    consent = page[page.index("Consent") :]
    assert consent.index("Given") < consent.index("Refused") < consent.index("Not asked")
    assert admin.http.get("/customers/" + "0" * 32).status_code == 404


def test_the_timeline_lists_every_interaction_newest_first_with_feelings(
    make_browser: MakeBrowser, db_session: Session
) -> None:
    admin = make_browser(Role.ADMIN)
    workspace_id = admin.principal.workspace_id
    customer = make_customer(db_session, workspace_id=workspace_id)
    someone_else = make_customer(db_session, workspace_id=workspace_id)
    now = utcnow()
    survey = make_feedback_item(
        db_session,
        workspace_id=workspace_id,
        customer_id=customer.id,
        occurred_at=now - timedelta(days=30),
        nps=2,
        text="Never again.",
    )
    make_event(
        db_session,
        workspace_id=workspace_id,
        customer_id=customer.id,
        occurred_at=now - timedelta(days=20),
        type="churn",
        name="cancelled",
        value=None,
        currency=None,
    )
    review = make_feedback_item(
        db_session,
        workspace_id=workspace_id,
        customer_id=customer.id,
        occurred_at=now - timedelta(days=10),
        sentiment="positive",
        text="Came back, much better.",
    )
    make_event(
        db_session,
        workspace_id=workspace_id,
        customer_id=customer.id,
        occurred_at=now - timedelta(days=5),
        name="booking",
        value=1234.5,
    )
    make_feedback_item(
        db_session,
        workspace_id=workspace_id,
        customer_id=someone_else.id,
        text="Not this customer.",
    )
    db_session.commit()
    page = admin.http.get(f"/customers/{customer.id}").text
    timeline = page[page.index('<ol class="timeline">') :]
    positions = [
        timeline.index("Order: booking · 1,234.50 EUR"),
        timeline.index(f'href="/inbox/{review.id}"'),
        timeline.index("Churn: cancelled"),
        timeline.index(f'href="/inbox/{survey.id}"'),
    ]
    assert positions == sorted(positions), "newest first"
    assert '<span class="score detractor" title="NPS answer 2 of 10">NPS 2</span>' in timeline
    assert '<span class="score promoter">positive</span>' in timeline
    assert "Not this customer." not in page


def test_the_timeline_pages_by_fifty(make_browser: MakeBrowser, db_session: Session) -> None:
    admin = make_browser(Role.ADMIN)
    workspace_id = admin.principal.workspace_id
    customer = make_customer(db_session, workspace_id=workspace_id)
    start = utcnow() - timedelta(days=1)
    for number in range(60):
        make_event(
            db_session,
            workspace_id=workspace_id,
            customer_id=customer.id,
            occurred_at=start - timedelta(hours=number),
            name=f"order_{number:02d}",
        )
    db_session.commit()
    first = admin.http.get(f"/customers/{customer.id}").text
    assert first.count('class="interaction ') == 50 and "order 00" in first
    assert "Older →" in first
    second = admin.http.get(f"/customers/{customer.id}?offset=50").text
    assert second.count('class="interaction ') == 10 and "order 59" in second
    assert "order 00" not in second and "Older →" not in second


def test_a_store_manager_sees_only_their_customers_and_their_stores_interactions(
    make_browser: MakeBrowser, db_session: Session
) -> None:
    admin = make_browser(Role.ADMIN)
    workspace_id = admin.principal.workspace_id
    store_a = make_org_unit(db_session, workspace_id=workspace_id)
    store_b = make_org_unit(db_session, workspace_id=workspace_id)
    mine = make_customer(db_session, workspace_id=workspace_id, org_unit_id=store_a.id)
    theirs = make_customer(db_session, workspace_id=workspace_id, org_unit_id=store_b.id)
    make_feedback_item(
        db_session,
        workspace_id=workspace_id,
        customer_id=mine.id,
        org_unit_id=store_a.id,
        text="Said in store A.",
    )
    make_feedback_item(
        db_session,
        workspace_id=workspace_id,
        customer_id=mine.id,
        org_unit_id=store_b.id,
        text="Said in store B.",
    )
    db_session.commit()
    manager = make_browser(Role.MANAGER, workspace_id=workspace_id, org_unit_id=store_a.id)
    listed = CUSTOMER_LINK.findall(manager.http.get("/customers").text)
    assert set(listed) == {mine.id}
    profile = manager.http.get(f"/customers/{mine.id}").text
    assert "Said in store A." in profile and "Said in store B." not in profile
    assert manager.http.get(f"/customers/{theirs.id}").status_code == 404
