"""Full-text search of feedback: words in any case, AND-ed, a prefix, safe on any input."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from tests.factories.feedback import make_feedback_item
from tests.factories.orgs import make_org_unit, make_workspace
from touchpoints.api.listing import ListParams
from touchpoints.auth.permissions import Principal, Role
from touchpoints.errors import InvalidInput
from touchpoints.feedback import service
from touchpoints.feedback.inbox import InboxFilters, inbox_page
from touchpoints.feedback.models import FeedbackItem
from touchpoints.feedback.schemas import FeedbackItemUpdate


@dataclass
class Said:
    """A workspace with a few feedback items and an admin to search them."""

    admin: Principal
    late: FeedbackItem
    friendly: FeedbackItem
    cafe: FeedbackItem


def found(db_session: Session, actor: Principal, q: str) -> set[str]:
    """Return the ids the API list finds for `q`, after checking the inbox finds the same."""
    items, total = service.list_feedback(
        db_session=db_session, actor=actor, params=ListParams(limit=500), q=q
    )
    page = inbox_page(db_session=db_session, actor=actor, filters=InboxFilters(q=q))
    assert {item.id for item in page.items} == {item.id for item in items}
    assert total == len(items) == page.matches
    return {item.id for item in items}


@pytest.fixture
def said(db_session: Session) -> Said:
    """Three items in a fresh workspace: a late delivery, friendly staff, a café."""
    workspace = make_workspace(db_session)
    admin = Principal(workspace_id=workspace.id, user_id="u1", role=Role.ADMIN)
    late = make_feedback_item(
        db_session,
        workspace_id=workspace.id,
        title="Parcel problems",
        text="The DELIVERY was late, again.",
    )
    friendly = make_feedback_item(
        db_session, workspace_id=workspace.id, title=None, text="Friendly staff, quick delivery"
    )
    cafe = make_feedback_item(
        db_session, workspace_id=workspace.id, title="Café", text="Coffee was cold."
    )
    return Said(admin=admin, late=late, friendly=friendly, cafe=cafe)


def test_a_word_is_found_in_text_or_title_whatever_its_case(
    db_session: Session, said: Said
) -> None:
    assert found(db_session, said.admin, "delivery") == {said.late.id, said.friendly.id}
    assert found(db_session, said.admin, "PARCEL") == {said.late.id}
    assert found(db_session, said.admin, "coffee") == {said.cafe.id}


def test_every_word_must_be_there(db_session: Session, said: Said) -> None:
    assert found(db_session, said.admin, "delivery late") == {said.late.id}
    assert found(db_session, said.admin, "late, delivery!") == {said.late.id}
    assert found(db_session, said.admin, "delivery cold") == set()


def test_the_last_word_may_be_the_start_of_a_word(db_session: Session, said: Said) -> None:
    assert found(db_session, said.admin, "friend") == {said.friendly.id}
    assert found(db_session, said.admin, "deliv") == {said.late.id, said.friendly.id}
    assert found(db_session, said.admin, "deliv late") == set(), "only the last word is a prefix"


def test_a_part_of_a_word_in_its_middle_is_not_a_match(db_session: Session, said: Said) -> None:
    assert found(db_session, said.admin, "elivery") == set()


@pytest.mark.sqlite
def test_accents_are_ignored_on_sqlite(db_session: Session, said: Said) -> None:
    assert found(db_session, said.admin, "cafe") == {said.cafe.id}
    assert found(db_session, said.admin, "CAFÉ") == {said.cafe.id}


def test_accented_words_match_as_typed_on_every_store(db_session: Session, said: Said) -> None:
    assert found(db_session, said.admin, "Café") == {said.cafe.id}


@pytest.mark.parametrize(
    "q", ['"unbalanced', "OR NOT", "*", "%", "50%", "a AND b", "title:late", "(late", "'; --", "_"]
)
def test_search_syntax_typed_by_a_user_is_taken_as_words(
    db_session: Session, said: Said, q: str
) -> None:
    found(db_session, said.admin, q)  # answers, whatever it finds


def test_operators_are_words_not_syntax(db_session: Session, said: Said) -> None:
    assert found(db_session, said.admin, "late OR coffee") == set()
    assert found(db_session, said.admin, '"late') == {said.late.id}
    assert found(db_session, said.admin, "%") == set(), "punctuation alone matches no word"


def test_a_search_longer_than_the_limit_is_refused(db_session: Session, said: Said) -> None:
    with pytest.raises(InvalidInput) as refused:
        found(db_session, said.admin, "late " * 50)
    assert refused.value.field == "q"


def test_changes_and_deletions_are_searched_at_once(db_session: Session, said: Said) -> None:
    service.update_feedback(
        db_session=db_session,
        actor=said.admin,
        feedback_id=said.late.id,
        feedback_in=FeedbackItemUpdate(title="Courier complaint"),
    )
    assert found(db_session, said.admin, "courier") == {said.late.id}
    assert found(db_session, said.admin, "parcel") == set()

    db_session.execute(
        update(FeedbackItem).where(FeedbackItem.id == said.cafe.id).values(text="Tea was fine")
    )
    assert found(db_session, said.admin, "coffee") == set()
    assert found(db_session, said.admin, "tea") == {said.cafe.id}

    service.delete_feedback(db_session=db_session, actor=said.admin, feedback_id=said.late.id)
    assert found(db_session, said.admin, "delivery") == {said.friendly.id}


def test_search_stays_within_the_workspace_and_scope(db_session: Session) -> None:
    workspace = make_workspace(db_session)
    store_a = make_org_unit(db_session, workspace_id=workspace.id)
    store_b = make_org_unit(db_session, workspace_id=workspace.id)
    mine = make_feedback_item(
        db_session, workspace_id=workspace.id, org_unit_id=store_a.id, text="Rude cashier"
    )
    make_feedback_item(
        db_session, workspace_id=workspace.id, org_unit_id=store_b.id, text="Rude cashier"
    )
    elsewhere = make_workspace(db_session)
    make_feedback_item(db_session, workspace_id=elsewhere.id, text="Rude cashier")
    manager = Principal(
        workspace_id=workspace.id, user_id="u2", role=Role.MANAGER, org_unit_path=store_a.path
    )
    assert found(db_session, manager, "rude cashier") == {mine.id}
