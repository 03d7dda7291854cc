"""Build the demo workspace: a fictional airline with customers, feedback and operational data."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from touchpoints.demo.bulk import Links, Progress, insert_batches
from touchpoints.demo.company import JOURNEYS
from touchpoints.demo.feedback import ItemSampler
from touchpoints.demo.feedback_rows import FeedbackRows, score_items
from touchpoints.demo.odata import OperationalData, generate_operational_data
from touchpoints.demo.population import Population, customer_batches, generate_population
from touchpoints.demo.timeline import IdFactory, Timeline, content_rng, to_datetime
from touchpoints.demo.workspace import Company, Staff, set_up_company
from touchpoints.errors import Conflict, InvalidInput
from touchpoints.orgs.models import Workspace

SIMULATING = "Simulating the airline"
COMPANY = "Company & users"
CUSTOMERS = "Customers"
FEEDBACK = "Feedback"
EVENTS = "Operational data"
SQLITE_BUILD_CACHE_KIB = 256 * 1024
MAX_MONTHS = 60


@dataclass(frozen=True)
class DemoSpec:
    """What to build: the workspace slug, the seed and the size of the fictional airline."""

    slug: str = "demo"
    seed: int = 7
    customers: int = 20_000
    feedback: int = 100_000
    months: int = 18
    end: date | None = None  # first day after the window; None: this month's first day (UTC)
    admin_email: str = "admin@brightwing.example"
    admin_password: str = "touchpoints-demo"

    def window_end(self) -> date:
        """Return the first day after the demo's window."""
        return self.end or datetime.now(UTC).date().replace(day=1)


@dataclass(frozen=True)
class DemoSummary:
    """What build_demo created and how long it took."""

    workspace_id: str
    slug: str
    admin_email: str
    customers: int
    feedback_items: int
    events: int
    journeys: int
    touchpoints: int
    org_units: int
    seconds: float


@dataclass(frozen=True)
class _Simulation:
    timeline: Timeline
    people: Population
    odata: OperationalData
    feedback: FeedbackRows


def demo_exists(*, session_factory: sessionmaker[Session], slug: str = "demo") -> bool:
    """Tell whether a workspace with the demo's slug already exists."""
    with session_factory() as session:
        return session.scalar(select(Workspace.id).where(Workspace.slug == slug)) is not None


def build_demo(
    *,
    session_factory: sessionmaker[Session],
    spec: DemoSpec,
    progress: Progress | None = None,
) -> DemoSummary:
    """Generate the demo airline and store it in one transaction (all of it or nothing)."""
    started = time.perf_counter()
    _check(spec)
    if demo_exists(session_factory=session_factory, slug=spec.slug):
        raise Conflict(f"a workspace with slug {spec.slug!r} already exists; pick another slug")
    _report(progress, SIMULATING, 0, 1)
    simulation = _simulate(spec)
    _report(progress, SIMULATING, 1, 1)
    with session_factory() as session, session.begin(), _large_cache(session):
        company, events = _store(session, spec, simulation, progress)
    return DemoSummary(
        workspace_id=company.workspace_id,
        slug=spec.slug,
        admin_email=spec.admin_email.strip().lower(),
        customers=spec.customers,
        feedback_items=spec.feedback,
        events=events,
        journeys=len(JOURNEYS),
        touchpoints=len(company.touchpoint_ids),
        org_units=company.org_units,
        seconds=round(time.perf_counter() - started, 2),
    )


def _store(
    session: Session, spec: DemoSpec, simulation: _Simulation, progress: Progress | None
) -> tuple[Company, int]:
    ids = IdFactory(spec.seed, spec.slug)
    company = _company(session, spec, ids, simulation.timeline, progress)
    links = Links(
        workspace_id=company.workspace_id,
        station_ids=company.station_ids,
        touchpoint_ids=company.touchpoint_ids,
        segment_ids=company.segment_ids,
        customer_ids=ids.ids("customers", spec.customers),
    )
    customer_rng = content_rng(spec.seed, "customer rows")
    people_rows = customer_batches(simulation.people, customer_rng, ids, links)
    insert_batches(session, CUSTOMERS, people_rows, progress)
    insert_batches(session, FEEDBACK, [simulation.feedback.batch(ids, links)], progress)
    event_batches = [events.batch(ids, links) for events in simulation.odata.all()]
    return company, insert_batches(session, EVENTS, event_batches, progress)


def _check(spec: DemoSpec) -> None:
    if spec.customers < 10:
        raise InvalidInput("customers", "build at least 10 customers")
    if spec.feedback < 0:
        raise InvalidInput("feedback", "the number of feedback items cannot be negative")
    if not 3 <= spec.months <= MAX_MONTHS:
        raise InvalidInput("months", f"pick between 3 and {MAX_MONTHS} months")


def _simulate(spec: DemoSpec) -> _Simulation:
    timeline = Timeline.ending(spec.window_end(), spec.months)
    people = generate_population(content_rng(spec.seed, "customers"), spec.customers, timeline)
    odata = generate_operational_data(content_rng(spec.seed, "events"), people, timeline)
    items = ItemSampler(content_rng(spec.seed, "feedback"), people, odata, timeline).sample(
        spec.feedback
    )
    score_rng = content_rng(spec.seed, "scores")
    scored = score_items(score_rng, items, people, timeline)
    words = FeedbackRows(content_rng(spec.seed, "words"), items, scored, people, timeline)
    return _Simulation(timeline=timeline, people=people, odata=odata, feedback=words)


def _company(
    session: Session, spec: DemoSpec, ids: IdFactory, timeline: Timeline, progress: Progress | None
) -> Company:
    _report(progress, COMPANY, 0, 1)
    incident = to_datetime(timeline.incident_start).strftime("%Y-%m")
    about = {
        "fictional": True,
        "seed": spec.seed,
        "months": spec.months,
        "end": spec.window_end().isoformat(),
        "incident_month": incident,
    }
    company = set_up_company(
        session,
        slug=spec.slug,
        staff=Staff(admin_email=spec.admin_email, password=spec.admin_password),
        ids=ids,
        since=timeline.start,
        about=about,
    )
    _report(progress, COMPANY, 1, 1)
    return company


@contextmanager
def _large_cache(session: Session) -> Iterator[None]:
    # SQLite's default 2 MB page cache thrashes once the indexes outgrow it; a bigger cache
    # for this one transaction makes the bulk insert several times faster.
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    previous = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_BUILD_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={int(previous or -2000)}")


def _report(progress: Progress | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)
