"""The feedback inbox: filtered, searched and paged feedback, fast at millions of items.

Paging is by keyset on (occurred_at, id), so page 1,000 costs what page 1 costs, and the
number of matches is counted up to COUNT_CAP only ("more than 1,000"), never over the table.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Select, exists, func, select, tuple_, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from touchpoints.auth.permissions import Permission, Principal, require
from touchpoints.customers.models import CustomerSegment
from touchpoints.errors import InvalidInput
from touchpoints.feedback.models import FeedbackItem
from touchpoints.feedback.search import matching_ids_condition
from touchpoints.orgs.models import OrgUnit
from touchpoints.signals.service import visible

PAGE_SIZE = 50
COUNT_CAP = 1_000
RECENT_TOPIC_ROWS = 5_000
SCORE_FILTERS: dict[str, str] = {
    "nps:promoter": "NPS promoters (9\u201310)",
    "nps:passive": "NPS passives (7\u20138)",
    "nps:detractor": "NPS detractors (0\u20136)",
    **{f"csat:{value}": f"CSAT {value}" for value in range(5, 0, -1)},
    "none": "No score",
}


@dataclass(frozen=True)
class InboxFilters:
    """What the inbox is narrowed to; None leaves a criterion open."""

    start: date | None = None
    end: date | None = None
    channel: str | None = None
    touchpoint_id: str | None = None
    score: str | None = None
    sentiment: str | None = None
    topic: str | None = None
    segment_id: str | None = None
    org_unit_id: str | None = None
    q: str | None = None


@dataclass(frozen=True)
class InboxPage:
    """One page of the inbox: the items, how many match (capped) and the neighbour cursors."""

    items: list[FeedbackItem]
    matches: int
    capped: bool
    newer: str | None
    older: str | None


def _score_condition(score: str) -> ColumnElement[bool]:
    nps, csat = FeedbackItem.nps, FeedbackItem.csat
    groups = {
        "nps:promoter": nps >= 9,
        "nps:passive": nps.between(7, 8),
        "nps:detractor": nps <= 6,
        "none": (nps.is_(None) & csat.is_(None) & FeedbackItem.ces.is_(None))
        & FeedbackItem.rating.is_(None),
    }
    if score in groups:
        return groups[score]
    if score in SCORE_FILTERS and score.startswith("csat:"):
        return csat == int(score.removeprefix("csat:"))
    raise InvalidInput("score", f"unknown score filter {score!r}")


def has_topic(dialect: str, topic: str) -> ColumnElement[bool]:
    """Return the condition 'the item's topics include `topic`' for this database."""
    if dialect == "postgresql":
        return type_coerce(FeedbackItem.topics, JSONB).contains([topic])
    each = func.json_each(FeedbackItem.topics).table_valued("value")
    return exists(select(1).select_from(each).where(each.c.value == topic))


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _org_unit_condition(actor: Principal, org_unit_id: str) -> ColumnElement[bool]:
    # The caller's own scope is applied by `visible`; this only narrows further.
    chosen = select(OrgUnit.path).where(
        OrgUnit.id == org_unit_id, OrgUnit.workspace_id == actor.workspace_id
    )
    subtree = select(OrgUnit.id).where(
        OrgUnit.workspace_id == actor.workspace_id,
        OrgUnit.path.startswith(chosen.scalar_subquery()),
    )
    return FeedbackItem.org_unit_id.in_(subtree)


def filtered(db_session: Session, actor: Principal, filters: InboxFilters) -> Select[FeedbackItem]:
    """Return a select of the feedback the caller may read, narrowed by the filters."""
    require(actor, Permission.FEEDBACK_READ)
    statement = visible(actor, FeedbackItem)
    conditions: list[ColumnElement[bool]] = []
    if filters.start is not None:
        conditions.append(FeedbackItem.occurred_at >= _day_start(filters.start))
    if filters.end is not None:
        conditions.append(FeedbackItem.occurred_at < _day_start(filters.end + timedelta(days=1)))
    if filters.channel:
        conditions.append(FeedbackItem.channel == filters.channel)
    if filters.touchpoint_id:
        conditions.append(FeedbackItem.touchpoint_id == filters.touchpoint_id)
    if filters.score:
        conditions.append(_score_condition(filters.score))
    if filters.sentiment:
        conditions.append(FeedbackItem.sentiment == filters.sentiment)
    if filters.topic:
        dialect = db_session.get_bind().dialect.name
        conditions.append(has_topic(dialect, filters.topic.strip()))
    if filters.segment_id:
        members = select(CustomerSegment.customer_id).where(
            CustomerSegment.segment_id == filters.segment_id
        )
        conditions.append(FeedbackItem.customer_id.in_(members))
    if filters.org_unit_id:
        conditions.append(_org_unit_condition(actor, filters.org_unit_id))
    if filters.q and filters.q.strip():
        dialect = db_session.get_bind().dialect.name
        conditions.append(matching_ids_condition(dialect, filters.q.strip()))
    return statement.where(*conditions)


def encode_cursor(item: FeedbackItem) -> str:
    """Return an opaque cursor pointing at an item's place in the newest-first order."""
    raw = f"{item.occurred_at.astimezone(UTC).isoformat()}|{item.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Return the (occurred_at, id) a cursor points at."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, item_id = raw.split("|", 1)
        return datetime.fromisoformat(moment), item_id
    except ValueError as exc:
        raise InvalidInput(
            "cursor", "this page link is damaged; start from the first page"
        ) from exc


def _count_capped(db_session: Session, statement: Select[FeedbackItem]) -> int:
    limited = statement.with_only_columns(FeedbackItem.id).limit(COUNT_CAP + 1).subquery()
    return int(db_session.scalar(select(func.count()).select_from(limited)) or 0)


def inbox_page(
    *,
    db_session: Session,
    actor: Principal,
    filters: InboxFilters,
    before: str | None = None,
    after: str | None = None,
) -> InboxPage:
    """Return the page of matching feedback just older than `before` (or newer than `after`)."""
    statement = filtered(db_session, actor, filters)
    key = tuple_(FeedbackItem.occurred_at, FeedbackItem.id)
    newest_first = (FeedbackItem.occurred_at.desc(), FeedbackItem.id.desc())
    if after:
        page = statement.where(key > tuple_(*decode_cursor(after)))
        page = page.order_by(FeedbackItem.occurred_at, FeedbackItem.id)
        rows = list(db_session.scalars(page.limit(PAGE_SIZE + 1)))
        more_newer, items = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE][::-1]
        more_older = bool(items)
    else:
        page = statement.where(key < tuple_(*decode_cursor(before))) if before else statement
        rows = list(db_session.scalars(page.order_by(*newest_first).limit(PAGE_SIZE + 1)))
        more_older, items = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
        more_newer = before is not None and bool(items)
    # A first page that is not full holds every match: no second pass over the table.
    first_and_last = not before and not after and len(rows) <= PAGE_SIZE
    matches = len(items) if first_and_last else _count_capped(db_session, statement)
    return InboxPage(
        items=items,
        matches=min(matches, COUNT_CAP),
        capped=matches > COUNT_CAP,
        newer=encode_cursor(items[0]) if more_newer else None,
        older=encode_cursor(items[-1]) if more_older else None,
    )


def recent_topics(*, db_session: Session, actor: Principal) -> list[str]:
    """Return the topics of the most recent feedback, to suggest in the topic filter."""
    require(actor, Permission.FEEDBACK_READ)
    recent = (
        visible(actor, FeedbackItem)
        .with_only_columns(FeedbackItem.topics)
        .where(FeedbackItem.topics.is_not(None))
        .order_by(FeedbackItem.occurred_at.desc())
        .limit(RECENT_TOPIC_ROWS)
    )
    found: set[str] = set()
    for topics in db_session.scalars(recent):
        found.update(topic for topic in topics or () if isinstance(topic, str))
    return sorted(found)
