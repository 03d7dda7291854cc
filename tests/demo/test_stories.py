"""The stories an analyst should find in the demo data: X-data and O-data move together."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from statistics import mean

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.demo.conftest import SMALL, Build
from touchpoints.feedback.models import FeedbackItem
from touchpoints.operations.models import EventType, OperationalEvent
from touchpoints.orgs.models import Workspace

# Big enough for the effects to stand well clear of noise, small enough to build in seconds.
MEDIUM = replace(SMALL, customers=1_500, feedback=6_000)


def _nps(scores: list[int]) -> float:
    return 100.0 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) / len(scores)


def _group(score: float) -> str:
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"


@pytest.fixture
def airline(build: Build, committed_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A medium demo airline, opened for reading."""
    build(MEDIUM)
    with committed_factory() as session:
        yield session


def _nps_by_customer(session: Session) -> dict[str, float]:
    scores: dict[str, list[int]] = defaultdict(list)
    rows = session.execute(
        select(FeedbackItem.customer_id, FeedbackItem.nps).where(
            FeedbackItem.nps.is_not(None), FeedbackItem.customer_id.is_not(None)
        )
    )
    for customer_id, nps in rows:
        assert customer_id is not None and nps is not None
        scores[customer_id].append(nps)
    return {customer: mean(values) for customer, values in scores.items()}


def _events(session: Session, kind: EventType) -> list[OperationalEvent]:
    return list(session.scalars(select(OperationalEvent).where(OperationalEvent.type == kind)))


def test_detractors_churn_more_than_promoters(airline: Session) -> None:
    churned = {event.customer_id for event in _events(airline, EventType.CHURN)}
    by_group: dict[str, list[bool]] = defaultdict(list)
    for customer, score in _nps_by_customer(airline).items():
        by_group[_group(score)].append(customer in churned)
    detractors, promoters = mean(by_group["detractor"]), mean(by_group["promoter"])
    assert detractors > 2 * promoters


def test_promoters_spend_more(airline: Session) -> None:
    spend: dict[str | None, float] = defaultdict(float)
    for order in _events(airline, EventType.ORDER):
        assert order.currency == "EUR" and order.value is not None and order.value > 0
        spend[order.customer_id] += order.value
    by_group: dict[str, list[float]] = defaultdict(list)
    for customer, score in _nps_by_customer(airline).items():
        by_group[_group(score)].append(spend[customer])
    assert mean(by_group["promoter"]) > 1.3 * mean(by_group["detractor"])


def test_long_support_waits_sour_the_follow_up_survey(airline: Session) -> None:
    contacts = {
        event.source_ref: event
        for event in _events(airline, EventType.SUPPORT_CONTACT)
        if event.metadata_["channel"] in ("phone", "chat")
    }
    surveys = airline.scalars(select(FeedbackItem).where(FeedbackItem.csat.is_not(None)))
    short, long = [], []
    for survey in surveys:
        contact = contacts.get(survey.metadata_.get("support_contact_ref"))
        if contact is None:
            continue
        assert contact.customer_id == survey.customer_id
        assert 0 < (survey.occurred_at - contact.occurred_at).total_seconds() < 86_400
        assert contact.duration_seconds is not None and survey.csat is not None
        minutes = contact.duration_seconds / 60
        if minutes < 3:
            short.append(survey.csat)
        elif minutes > 10:
            long.append(survey.csat)
    assert len(short) >= 30 and len(long) >= 30
    assert mean(long) < mean(short) - 0.5


def test_the_outage_month_dips_and_fills_with_delay_and_refund_complaints(
    airline: Session,
) -> None:
    workspace = airline.scalars(select(Workspace)).one()
    incident = workspace.settings["demo"]["incident_month"]
    assert incident == "2026-03"
    nps: dict[str, list[int]] = defaultdict(list)
    complaints: dict[str, int] = defaultdict(int)
    for item in airline.scalars(select(FeedbackItem)):
        month = item.occurred_at.strftime("%Y-%m")
        if item.nps is not None:
            nps[month].append(item.nps)
        topics = item.metadata_.get("demo_topics", [])
        if not item.solicited and topics and topics[0] in ("delay", "refund"):
            complaints[month] += 1
    around = ["2026-01", "2026-02", "2026-04", "2026-05"]
    assert _nps(nps[incident]) < mean(_nps(nps[month]) for month in around) - 10
    assert complaints[incident] > 2 * mean(complaints[month] for month in around)


def test_delays_cluster_in_the_outage_month(airline: Session) -> None:
    delays = [e for e in _events(airline, EventType.EXTERNAL) if e.name == "flight_delay"]
    assert all(e.duration_seconds and e.duration_seconds >= 15 * 60 for e in delays)
    per_month: dict[str, int] = defaultdict(int)
    for delay in delays:
        per_month[delay.occurred_at.strftime("%Y-%m")] += 1
    assert per_month["2026-03"] > 2 * mean(per_month[m] for m in ("2026-01", "2026-02"))
