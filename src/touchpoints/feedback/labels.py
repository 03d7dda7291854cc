"""People's corrections of enrichment (sentiment, topics): they change the item and teach.

Each correction is kept as a FeedbackLabel, the training example text analytics learns from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from touchpoints.auth.permissions import Permission, Principal, require
from touchpoints.errors import InvalidInput
from touchpoints.feedback.models import FeedbackItem, FeedbackLabel, LabelKind, Sentiment
from touchpoints.feedback.service import get_feedback

MAX_TOPICS = 20
MAX_TOPIC_CHARS = 80
_SPACES = re.compile(r"\s+")


def normalize_topics(topics: Iterable[str]) -> list[str]:
    """Return topic names trimmed, lower-cased, de-duplicated and sorted."""
    cleaned = {_SPACES.sub(" ", topic).strip().lower() for topic in topics}
    result = sorted(topic for topic in cleaned if topic)
    if len(result) > MAX_TOPICS:
        raise InvalidInput("topics", f"give at most {MAX_TOPICS} topics")
    for topic in result:
        if len(topic) > MAX_TOPIC_CHARS:
            raise InvalidInput("topics", f"topic {topic[:20]!r}... is over {MAX_TOPIC_CHARS} chars")
    return result


def _check_sentiment(sentiment: str | None) -> str | None:
    if sentiment is None or sentiment == "":
        return None
    if sentiment not in {s.value for s in Sentiment}:
        choices = ", ".join(s.value for s in Sentiment)
        raise InvalidInput("sentiment", f"unknown sentiment {sentiment!r}; use one of {choices}")
    return sentiment


def _label(
    item: FeedbackItem, actor: Principal, kind: LabelKind, value: str, previous: str | None
) -> FeedbackLabel:
    return FeedbackLabel(
        workspace_id=item.workspace_id,
        feedback_item_id=item.id,
        kind=kind.value,
        value=value,
        previous_value=previous,
        user_id=actor.user_id,
    )


def correct_enrichment(
    *,
    db_session: Session,
    actor: Principal,
    feedback_id: str,
    sentiment: str | None,
    topics: Iterable[str],
) -> list[FeedbackLabel]:
    """Set an item's sentiment and topics as a person judged them; record what changed."""
    require(actor, Permission.FEEDBACK_WRITE)
    item = get_feedback(db_session=db_session, actor=actor, feedback_id=feedback_id)
    new_sentiment = _check_sentiment(sentiment)
    new_topics = normalize_topics(topics)
    labels: list[FeedbackLabel] = []
    if new_sentiment is not None and new_sentiment != item.sentiment:
        labels.append(_label(item, actor, LabelKind.SENTIMENT, new_sentiment, item.sentiment))
        item.sentiment = new_sentiment
    old_topics = sorted(item.topics or [])
    if new_topics != old_topics:
        previous = ",".join(old_topics) if item.topics is not None else None
        labels.append(_label(item, actor, LabelKind.TOPIC, ",".join(new_topics), previous))
        item.topics = new_topics
    db_session.add_all(labels)
    db_session.flush()
    return labels


def labels_of(*, db_session: Session, actor: Principal, feedback_id: str) -> list[FeedbackLabel]:
    """Return the corrections made to an item, newest first."""
    item = get_feedback(db_session=db_session, actor=actor, feedback_id=feedback_id)
    statement = (
        select(FeedbackLabel)
        .where(FeedbackLabel.feedback_item_id == item.id)
        .order_by(FeedbackLabel.created_at.desc())
    )
    return list(db_session.scalars(statement))
