"""The feedback inbox: filters, search, paging, one item with its customer, and corrections."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from tests.factories.customers import make_customer, make_segment
from tests.factories.feedback import make_feedback_item
from tests.factories.journeys import make_touchpoint
from tests.factories.operations import make_event
from tests.factories.orgs import make_org_unit
from tests.web.conftest import Browser, MakeBrowser
from touchpoints.auth.permissions import Role
from touchpoints.customers.segments import add_to_segment
from touchpoints.db.base import new_id, utcnow
from touchpoints.feedback.models import FeedbackItem, FeedbackLabel
from touchpoints.journeys.models import Channel

ITEM_LINK = re.compile(r'href="/inbox/([0-9a-f]{32})"')


def listed(browser: Browser, query: str = "") -> list[str]:
    """Return the ids of the items the inbox lists, in order."""
    response = browser.http.get(f"/inbox{query}")
    assert response.status_code == 200, response.text
    return list(dict.fromkeys(ITEM_LINK.findall(response.text)))


@dataclass
class Inbox:
    """Three items that differ in every filterable way, seen by an admin."""

    admin: Browser
    recent: FeedbackItem
    older: FeedbackItem
    oldest: FeedbackItem
    ids: dict[str, str]


@pytest.fixture
def inbox(make_browser: MakeBrowser, db_session: Session) -> Inbox:
    """Build the three items and the units, touchpoints and segment they point at."""
    admin = make_browser(Role.ADMIN)
    workspace_id = admin.principal.workspace_id
    north = make_org_unit(db_session, workspace_id=workspace_id)
    south = make_org_unit(db_session, workspace_id=workspace_id)
    checkout = make_touchpoint(db_session, workspace_id=workspace_id, name="Checkout")
    support = make_touchpoint(db_session, workspace_id=workspace_id, name="Support chat")
    loyal = make_segment(db_session, workspace_id=workspace_id, name="Frequent flyers")
    fan = make_customer(db_session, workspace_id=workspace_id, display_name="Ada Fan")
    add_to_segment(
        db_session=db_session, actor=admin.principal, segment_id=loyal.id, customer_id=fan.id
    )
    now = utcnow()
    common = {"workspace_id": workspace_id}
    recent = make_feedback_item(
        db_session,
        **common,
        occurred_at=now - timedelta(days=10),
        channel=Channel.WEB.value,
        touchpoint_id=checkout.id,
        customer_id=fan.id,
        org_unit_id=north.id,
        nps=10,
        sentiment="positive",
        topics=["crew"],
        text="The crew was LOVELY and kind.",
    )
    older = make_feedback_item(
        db_session,
        **common,
        occurred_at=now - timedelta(days=40),
        channel=Channel.CHAT.value,
        touchpoint_id=support.id,
        org_unit_id=south.id,
        nps=3,
        sentiment="negative",
        topics=["refund"],
        text="Customer: Where is my refund?\nAgent: Let me check.",
    )
    oldest = make_feedback_item(
        db_session,
        **common,
        occurred_at=now - timedelta(days=100),
        channel=Channel.EMAIL.value,
        org_unit_id=south.id,
        csat=2,
        sentiment="neutral",
        topics=["baggage", "delay"],
        title="Bag late",
        text="My bag arrived a day late.",
    )
    db_session.commit()
    ids = {
        "north": north.id,
        "south": south.id,
        "checkout": checkout.id,
        "support": support.id,
        "loyal": loyal.id,
    }
    return Inbox(admin, recent, older, oldest, ids)


def test_the_inbox_lists_newest_first_with_scores_and_channels(inbox: Inbox) -> None:
    page = inbox.admin.http.get("/inbox").text
    assert listed(inbox.admin) == [inbox.recent.id, inbox.older.id, inbox.oldest.id]
    assert "3 items match" in page
    assert 'class="score promoter"' in page and "NPS 10" in page
    assert "CSAT 2/5" in page and "Checkout" in page
    assert "<time datetime=" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("channel=chat", ["older"]),
        ("touchpoint={checkout}", ["recent"]),
        ("score=nps:detractor", ["older"]),
        ("score=nps:promoter", ["recent"]),
        ("score=csat:2", ["oldest"]),
        ("sentiment=neutral", ["oldest"]),
        ("topic=delay", ["oldest"]),
        ("topic=refund", ["older"]),
        ("segment={loyal}", ["recent"]),
        ("org_unit={south}", ["older", "oldest"]),
        ("from={d60}", ["recent", "older"]),
        ("to={d60}", ["oldest"]),
        ("from={d60}&to={d20}", ["older"]),
        ("channel=chat&sentiment=positive", []),
    ],
)
def test_each_filter_narrows_the_list(inbox: Inbox, query: str, expected: list[str]) -> None:
    today = utcnow().date()
    values = inbox.ids | {
        "d60": (today - timedelta(days=60)).isoformat(),
        "d20": (today - timedelta(days=20)).isoformat(),
    }
    got = listed(inbox.admin, "?" + query.format(**values))
    assert got == [getattr(inbox, name).id for name in expected]


def test_search_finds_a_word_in_the_text_or_title_whatever_its_case(inbox: Inbox) -> None:
    assert listed(inbox.admin, "?q=lovely") == [inbox.recent.id]
    assert listed(inbox.admin, "?q=bag+LATE") == [inbox.oldest.id]
    assert listed(inbox.admin, "?q=50%25") == [], "a % sign is a character, not a wildcard"


def test_htmx_gets_only_the_results_and_bad_input_gets_a_message(inbox: Inbox) -> None:
    fragment = inbox.admin.http.get("/inbox?channel=chat", headers={"HX-Target": "inbox-results"})
    assert fragment.text.lstrip().startswith('<section id="inbox-results"')
    assert "<html" not in fragment.text and "1 item matches" in fragment.text
    broken = inbox.admin.http.get("/inbox?before=not-a-cursor")
    assert broken.status_code == 422
    assert "start from the first page" in broken.text


def test_pages_of_fifty_follow_each_other_without_gaps(
    make_browser: MakeBrowser, db_session: Session
) -> None:
    admin = make_browser(Role.ADMIN)
    start = utcnow() - timedelta(days=1)
    same_moment = start - timedelta(hours=5)
    for number in range(120):
        # Ten items share one moment: the id breaks the tie, so paging neither skips nor repeats.
        moment = same_moment if number < 10 else start - timedelta(minutes=number)
        make_feedback_item(
            db_session, workspace_id=admin.principal.workspace_id, occurred_at=moment
        )
    db_session.commit()
    first = admin.http.get("/inbox").text
    assert "120 items match" in first
    seen = list(dict.fromkeys(ITEM_LINK.findall(first)))
    pages = [seen]
    link = re.search(r'href="(/inbox\?[^"]*before=[^"]+)"', first)
    while link:
        page = admin.http.get(link.group(1).replace("&amp;", "&")).text
        ids = list(dict.fromkeys(ITEM_LINK.findall(page)))
        pages.append(ids)
        link = re.search(r'href="(/inbox\?[^"]*before=[^"]+)"', page)
    assert [len(page) for page in pages] == [50, 50, 20]
    everything = [item for page in pages for item in page]
    assert len(set(everything)) == 120
    newer = re.search(r'href="(/inbox\?[^"]*after=[^"]+)"', page)
    assert newer is not None
    back = admin.http.get(newer.group(1).replace("&amp;", "&")).text
    assert list(dict.fromkeys(ITEM_LINK.findall(back))) == pages[1]


def test_counts_stop_at_a_thousand(make_browser: MakeBrowser, db_session: Session) -> None:
    admin = make_browser(Role.ADMIN)
    moment = utcnow() - timedelta(days=2)
    rows = [
        {
            "id": new_id(),
            "workspace_id": admin.principal.workspace_id,
            "solicited": False,
            "source": "bulk",
            "channel": "web",
            "occurred_at": moment,
            "received_at": moment,
            "metadata": {},
        }
        for _ in range(1_001)
    ]
    db_session.execute(insert(FeedbackItem), rows)
    db_session.commit()
    page = admin.http.get("/inbox").text
    assert "More than 1,000 items match" in page
    assert len(set(ITEM_LINK.findall(page))) == 50


def test_an_item_shows_its_text_customer_and_history(
    make_browser: MakeBrowser, db_session: Session
) -> None:
    admin = make_browser(Role.ADMIN)
    workspace_id = admin.principal.workspace_id
    customer = make_customer(
        db_session,
        workspace_id=workspace_id,
        display_name="Grace Hopper",
        email="grace@navy.example",
    )
    now = utcnow()
    before = make_feedback_item(
        db_session,
        workspace_id=workspace_id,
        customer_id=customer.id,
        occurred_at=now - timedelta(days=3),
        text="Booking was easy.",
        nps=9,
    )
    make_event(
        db_session,
        workspace_id=workspace_id,
        customer_id=customer.id,
        occurred_at=now - timedelta(days=2),
        name="flight_delay",
        type="external",
        value=None,
        currency=None,
        duration_seconds=5400,
    )
    item = make_feedback_item(
        db_session,
        workspace_id=workspace_id,
        customer_id=customer.id,
        channel="chat",
        occurred_at=now - timedelta(days=1),
        sentiment="negative",
        topics=["delay"],
        text="Customer: My flight was late.\nAgent: Sorry about that.",
    )
    db_session.commit()
    page = admin.http.get(f"/inbox/{item.id}").text
    assert "<strong>Customer:</strong> My flight was late." in page
    assert "<strong>Agent:</strong> Sorry about that." in page
    assert f'href="/customers/{customer.id}"' in page and "Grace Hopper" in page
    assert "grace@navy.example" in page
    history = page[page.index("History around this item") :]
    assert history.index("flight delay") < history.index(f'href="/inbox/{before.id}"')
    assert "90 min" in history and 'aria-current="true"' in history
    assert "negative" in page and "delay" in page


def test_viewers_see_the_item_without_who_the_customer_is(
    make_browser: MakeBrowser, db_session: Session
) -> None:
    admin = make_browser(Role.ADMIN)
    workspace_id = admin.principal.workspace_id
    customer = make_customer(
        db_session,
        workspace_id=workspace_id,
        display_name="Secret Person",
        email="secret@example.com",
    )
    item = make_feedback_item(db_session, workspace_id=workspace_id, customer_id=customer.id)
    db_session.commit()
    viewer = make_browser(Role.VIEWER, workspace_id=workspace_id)
    page = viewer.http.get(f"/inbox/{item.id}")
    assert page.status_code == 200
    assert "Secret Person" not in page.text and "secret@example.com" not in page.text
    assert "does not show who customers are" in page.text
    assert "Save correction" not in page.text
    refused = viewer.post_form(f"/inbox/{item.id}/labels", {"sentiment": "positive"})
    assert refused.status_code == 403  # type: ignore[attr-defined]
    db_session.refresh(item)
    assert item.sentiment is None


def test_a_correction_changes_the_item_and_records_training_labels(
    make_browser: MakeBrowser, db_session: Session
) -> None:
    analyst = make_browser(Role.ANALYST)
    item = make_feedback_item(
        db_session,
        workspace_id=analyst.principal.workspace_id,
        sentiment="positive",
        topics=["crew"],
        text="Great, another two hour delay.",
    )
    db_session.commit()
    assert "Save correction" in analyst.http.get(f"/inbox/{item.id}").text
    response = analyst.post_form(
        f"/inbox/{item.id}/labels", {"sentiment": "negative", "topics": "Delay, crew ,delay"}
    )
    assert response.status_code == 303  # type: ignore[attr-defined]
    db_session.refresh(item)
    assert item.sentiment == "negative"
    assert item.topics == ["crew", "delay"]
    labels = db_session.scalars(
        select(FeedbackLabel).where(FeedbackLabel.feedback_item_id == item.id)
    ).all()
    recorded = {(lab.kind, lab.previous_value, lab.value, lab.user_id) for lab in labels}
    assert recorded == {
        ("sentiment", "positive", "negative", analyst.user.id),
        ("topic", "crew", "crew,delay", analyst.user.id),
    }
    page = analyst.http.get(f"/inbox/{item.id}").text
    assert "Corrections of this item" in page
    unknown = analyst.post_form(f"/inbox/{item.id}/labels", {"sentiment": "furious"})
    assert unknown.status_code == 422  # type: ignore[attr-defined]
    assert "unknown sentiment" in unknown.text  # type: ignore[attr-defined]


def test_a_store_manager_never_sees_another_stores_feedback(
    make_browser: MakeBrowser, db_session: Session
) -> None:
    admin = make_browser(Role.ADMIN)
    workspace_id = admin.principal.workspace_id
    store_a = make_org_unit(db_session, workspace_id=workspace_id)
    store_b = make_org_unit(db_session, workspace_id=workspace_id)
    customer_b = make_customer(db_session, workspace_id=workspace_id, org_unit_id=store_b.id)
    mine = make_feedback_item(db_session, workspace_id=workspace_id, org_unit_id=store_a.id)
    theirs = make_feedback_item(
        db_session,
        workspace_id=workspace_id,
        org_unit_id=store_b.id,
        customer_id=customer_b.id,
        text="Store B only.",
    )
    db_session.commit()
    manager = make_browser(Role.MANAGER, workspace_id=workspace_id, org_unit_id=store_a.id)
    assert listed(manager) == [mine.id]
    assert listed(manager, f"?org_unit={store_b.id}") == [], (
        "a unit outside the scope shows nothing"
    )
    assert listed(manager, "?q=store+b") == []
    assert manager.http.get(f"/inbox/{theirs.id}").status_code == 404
    assert manager.http.get(f"/customers/{customer_b.id}").status_code == 404
    assert set(listed(admin)) == {mine.id, theirs.id}
