"""X-data with O-data: spend, churn, the survivorship view and revenue at risk, by hand."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.analytics.conftest import WORKSPACE, at, feedback, write_dataset
from touchpoints.analytics.layout import EVENTS, FEEDBACK
from touchpoints.analytics.xo import OutcomeQuery


def event(
    number: int, customer: str, kind: str, value: float | None = None, day: str = "2024-05-15"
) -> dict[str, Any]:
    return {
        "event_id": f"e-{number}",
        "type": kind,
        "name": kind,
        "customer_id": customer,
        "occurred_at": at(day),
        "value": value,
        "currency": "EUR" if value else None,
    }


@pytest.fixture
def xo_store(analytics_root: Path) -> Path:
    write_dataset(
        analytics_root,
        FEEDBACK,
        [
            feedback(at("2024-05-02"), nps=10, customer_id="c1"),
            feedback(at("2024-05-02"), nps=0, customer_id="c2"),
            feedback(at("2024-05-03"), nps=3, customer_id="c3"),
            feedback(at("2024-05-04"), nps=9, customer_id="c3"),
            feedback(at("2024-05-05"), nps=9, customer_id="c4"),
            feedback(at("2024-05-05"), nps=0),  # no customer: not part of the X/O view
        ],
    )
    write_dataset(
        analytics_root,
        EVENTS,
        [
            event(1, "c1", "order", 100.0),
            event(2, "c2", "order", 50.0),
            event(3, "c2", "churn"),
            event(4, "c3", "order", 30.0),
            event(5, "c4", "order", 20.0),
            event(6, "c4", "churn", day="2024-07-01"),  # after the window
            event(7, "c1", "order", 1000.0, day="2024-04-01"),  # before the window
        ],
    )
    return analytics_root


def test_spend_churn_survivorship_and_revenue_at_risk(xo_store: Path) -> None:
    query = OutcomeQuery(date_from=date(2024, 5, 1), date_to=date(2024, 6, 30), minimum_n=1)
    row = query.run(root=xo_store, workspace_id=WORKSPACE).rows[0]
    assert row.customers == 4
    # All answers: promoters 10, 9, 9; detractors 0, 3 -> (3 - 2) / 5.
    assert (row.nps_all.value, row.nps_all.n) == (pytest.approx(20.0), 5)
    # Still active (c2 churned): 10, 3, 9, 9 -> (3 - 1) / 4.
    assert (row.nps_active.value, row.nps_active.n) == (pytest.approx(50.0), 4)
    assert row.survivorship_gap == pytest.approx(30.0)
    assert row.spend == pytest.approx(200.0) and row.spend_per_customer == pytest.approx(50.0)
    assert row.churn_rate.value == pytest.approx(0.25)
    # Detractors by mean answer: c2 (0) and c3 (mean 6); promoters c1 and c4.
    assert row.detractor_churn_rate.value == pytest.approx(0.5)
    assert row.promoter_churn_rate.value == pytest.approx(0.0)
    assert row.detractor_spend == pytest.approx(80.0)
    assert row.revenue_at_risk == pytest.approx(80.0 * 0.5)


def test_small_groups_are_suppressed_and_no_data_is_empty(
    xo_store: Path, analytics_root: Path
) -> None:
    row = OutcomeQuery().run(root=xo_store, workspace_id=WORKSPACE).rows[0]
    assert row.suppressed and row.customers == 4 and row.nps_all.value is None
    assert row.revenue_at_risk is None
    nothing = OutcomeQuery(date_from=date(2030, 1, 1)).run(root=xo_store, workspace_id=WORKSPACE)
    assert nothing.empty and nothing.to_pandas().empty


def test_without_events_spend_is_zero_and_nobody_churned(analytics_root: Path) -> None:
    write_dataset(analytics_root, FEEDBACK, [feedback(at("2024-05-02"), nps=10, customer_id="c1")])
    row = OutcomeQuery(minimum_n=1).run(root=analytics_root, workspace_id=WORKSPACE).rows[0]
    assert row.spend == 0.0 and row.churn_rate.value == 0.0
    assert row.nps_active.value == row.nps_all.value == 100.0
