"""A small committed estate to export, and readers of what the exporter wrote."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.factories.customers import make_customer, make_segment
from tests.factories.feedback import make_feedback_item
from tests.factories.journeys import make_journey, make_touchpoint
from tests.factories.operations import make_event
from tests.factories.orgs import make_org_unit, make_workspace
from tests.factories.surveys import make_survey
from touchpoints.analytics.files import PART_NAME
from touchpoints.analytics.layout import DATASETS, Dataset, dataset_glob
from touchpoints.analytics.segment_sets import segment_set_id
from touchpoints.customers.models import Customer
from touchpoints.feedback.models import FeedbackItem
from touchpoints.journeys.models import JourneyStage, Touchpoint
from touchpoints.operations.models import OperationalEvent
from touchpoints.orgs.models import OrgUnit
from touchpoints.surveys.models import SurveyResponse

MONTHS = ("2025-01", "2025-02", "2025-03")
# Topic names that need a real JSON parser (escapes), and an enriched item with no topics.
UNUSUAL_TOPICS = (["délai", 'a "quoted" word'], ["back\\slash"], [])


@dataclass
class Estate:
    """Ids of a workspace with feedback in three months and everything it links to."""

    workspace_id: str
    items: dict[str, list[str]] = field(default_factory=dict)
    touchpoint_id: str = ""
    second_stage_id: str = ""
    region_id: str = ""
    store_id: str = ""
    customer_id: str = ""
    segment_id: str = ""
    survey_id: str = ""
    version_id: str = ""


def at(month: str, day: int = 5, hour: int = 12) -> datetime:
    """Return a UTC time in `month` ('YYYY-MM')."""
    year, number = (int(part) for part in month.split("-"))
    return datetime(year, number, day, hour, 30, 15, 123456, tzinfo=UTC)


def build_estate(factory: sessionmaker[Session]) -> Estate:
    """Commit a workspace with org units, a journey, customers, feedback, a response, events."""
    with factory() as session:
        workspace_id = make_workspace(session).id
        estate = Estate(workspace_id=workspace_id)
        region = make_org_unit(session, workspace_id=workspace_id, kind="region")
        store = make_org_unit(session, workspace_id=workspace_id, parent_id=region.id)
        journey = make_journey(session, workspace_id=workspace_id)
        touchpoint = make_touchpoint(session, workspace_id=workspace_id, stage=journey.stages[1])
        segment = make_segment(session, workspace_id=workspace_id, name="Frequent flyers")
        customer = make_customer(
            session, workspace_id=workspace_id, org_unit_id=store.id, attributes={"tier": "gold"}
        )
        customer.segments = [segment]
        make_customer(session, workspace_id=workspace_id)
        for index, month in enumerate(MONTHS):
            estate.items[month] = [
                make_feedback_item(
                    session,
                    workspace_id=workspace_id,
                    occurred_at=at(month, day=3 + n),
                    solicited=n == 0,
                    nps=(index * 3 + n) % 11,
                    csat=1 + n % 5,
                    ces=None if n else 6,
                    rating=4.5 if n == 1 else None,
                    rating_scale=5 if n == 1 else None,
                    language="en",
                    touchpoint_id=touchpoint.id,
                    org_unit_id=store.id,
                    customer_id=customer.id if n < 2 else None,
                    sentiment="positive" if n else None,
                    topics=[["delay", "crew"], [], None][n] if index < 2 else UNUSUAL_TOPICS[n],
                ).id
                for n in range(3)
            ]
            make_event(session, workspace_id=workspace_id, occurred_at=at(month, day=9))
        survey = make_survey(session, workspace_id=workspace_id)
        estate.survey_id = survey.id
        estate.version_id = survey_version_id(session, survey.id)
        add_response(session, estate, estate.items[MONTHS[0]][0])
        session.commit()
        estate.touchpoint_id = touchpoint.id
        estate.second_stage_id = journey.stages[2].id
        estate.region_id, estate.store_id = region.id, store.id
        estate.customer_id, estate.segment_id = customer.id, segment.id
    return estate


def survey_version_id(session: Session, survey_id: str) -> str:
    """Return the id of a survey's first version."""
    from touchpoints.surveys.models import SurveyVersion

    return session.scalars(
        select(SurveyVersion.id).where(SurveyVersion.survey_id == survey_id)
    ).one()


def add_response(session: Session, estate: Estate, feedback_item_id: str | None) -> SurveyResponse:
    """Add a completed survey response linked to a feedback item."""
    response = SurveyResponse(
        workspace_id=estate.workspace_id,
        survey_id=estate.survey_id,
        version_id=estate.version_id,
        resume_token=secrets.token_hex(16),
        status="completed",
        language="en",
        feedback_item_id=feedback_item_id,
    )
    session.add(response)
    session.flush()
    return response


def read_rows(root: Path, dataset: Dataset, workspace_id: str) -> list[dict[str, Any]]:
    """Return a workspace's rows of a dataset as written, sorted by key."""
    files = sorted(Path(root).glob(dataset_glob(Path(""), dataset, workspace_id)))
    if not files:
        return []
    table = pa.concat_tables([pq.read_table(file) for file in files])
    assert table.schema.equals(dataset.schema), f"{dataset.name} files differ from the layout"
    return sorted(table.to_pylist(), key=lambda row: row[dataset.key])


def part_files(root: Path, workspace_id: str) -> dict[str, tuple[int, int]]:
    """Return (inode, mtime) of every partition file of a workspace, by relative path."""
    found = {}
    for dataset in DATASETS.values():
        for path in (root / dataset.name / workspace_id).glob(f"*/{PART_NAME}"):
            stat = path.stat()
            found[str(path.relative_to(root))] = (stat.st_ino, stat.st_mtime_ns)
    return found


def expected_feedback(session: Session, workspace_id: str) -> list[dict[str, Any]]:
    """Build the feedback rows the export must hold, from the ORM (not the exporter's SQL)."""
    rows = []
    items = session.scalars(select(FeedbackItem).where(FeedbackItem.workspace_id == workspace_id))
    for item in items:
        touchpoint = session.get(Touchpoint, item.touchpoint_id) if item.touchpoint_id else None
        stage = (
            session.get(JourneyStage, touchpoint.stage_id)
            if touchpoint and touchpoint.stage_id
            else None
        )
        unit = session.get(OrgUnit, item.org_unit_id) if item.org_unit_id else None
        survey_id = session.scalar(
            select(SurveyResponse.survey_id).where(SurveyResponse.feedback_item_id == item.id)
        )
        customer = session.get(Customer, item.customer_id) if item.customer_id else None
        rows.append(
            {
                "feedback_item_id": item.id,
                "workspace_id": item.workspace_id,
                "month": f"{item.occurred_at:%Y-%m}",
                "occurred_at": item.occurred_at,
                "solicited": item.solicited,
                "source": item.source,
                "channel": item.channel,
                "touchpoint_id": item.touchpoint_id,
                "stage_id": touchpoint.stage_id if touchpoint else None,
                "journey_id": stage.journey_id if stage else None,
                "org_unit_id": item.org_unit_id,
                "org_unit_path": unit.path if unit else None,
                "customer_id": item.customer_id,
                "segment_set": segment_set_id(s.id for s in customer.segments)
                if customer
                else None,
                "survey_id": survey_id,
                "language": item.language,
                "nps": item.nps,
                "csat": item.csat,
                "ces": item.ces,
                "rating": item.rating,
                "rating_scale": item.rating_scale,
                "sentiment": item.sentiment,
                "topics": item.topics,
            }
        )
    return sorted(rows, key=lambda row: row["feedback_item_id"])


def expected_customers(session: Session, workspace_id: str) -> list[dict[str, Any]]:
    """Build the customer rows the export must hold (attributes compared as parsed JSON)."""
    rows = []
    for customer in session.scalars(select(Customer).where(Customer.workspace_id == workspace_id)):
        unit = session.get(OrgUnit, customer.org_unit_id) if customer.org_unit_id else None
        rows.append(
            {
                "customer_id": customer.id,
                "workspace_id": customer.workspace_id,
                "org_unit_id": customer.org_unit_id,
                "org_unit_path": unit.path if unit else None,
                "first_seen_at": customer.first_seen_at,
                "created_at": customer.created_at,
                "segments": sorted(segment.name for segment in customer.segments),
                "segment_set": segment_set_id(segment.id for segment in customer.segments),
                "attributes": customer.attributes,
            }
        )
    return sorted(rows, key=lambda row: row["customer_id"])


def expected_event_ids(session: Session, workspace_id: str) -> list[str]:
    """Return the ids of a workspace's operational events, sorted."""
    statement = select(OperationalEvent.id).where(OperationalEvent.workspace_id == workspace_id)
    return sorted(session.scalars(statement))


def parsed_customers(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return exported customer rows with their attributes parsed from JSON text."""
    return [row | {"attributes": json.loads(row["attributes"])} for row in rows]
