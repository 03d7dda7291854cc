"""What an operational event must carry before it reaches the store."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from touchpoints.operations.schemas import OperationalEventCreate


def event(**fields: Any) -> dict[str, Any]:
    """Return a valid support-contact event."""
    body: dict[str, Any] = {
        "type": "support_contact",
        "name": "call",
        "occurred_at": "2024-05-01T09:30:00Z",
    }
    return body | fields


def fields_in_error(**fields: Any) -> list[str]:
    """Return the fields a new event is refused for."""
    with pytest.raises(ValidationError) as refused:
        OperationalEventCreate.model_validate(event(**fields))
    return [".".join(str(part) for part in error["loc"]) for error in refused.value.errors()]


@pytest.mark.parametrize("event_type", ["order", "subscription"])
def test_priced_types_need_a_currency_with_a_value(event_type: str) -> None:
    assert fields_in_error(type=event_type, value=10) == ["currency"]
    assert OperationalEventCreate.model_validate(event(type=event_type)).value is None


def test_other_types_may_carry_a_value_without_currency() -> None:
    churn = OperationalEventCreate.model_validate(event(type="churn", value=1200))

    assert (churn.value, churn.currency) == (1200, None)


def test_currency_is_iso_4217_and_needs_a_value() -> None:
    assert OperationalEventCreate.model_validate(event(value=5, currency=" usd ")).currency == "USD"
    assert fields_in_error(value=5, currency="US") == ["currency"]
    assert fields_in_error(value=5, currency="12€") == ["currency"]
    assert fields_in_error(currency="EUR") == ["currency"]


def test_an_invalid_value_is_reported_once() -> None:
    assert fields_in_error(type="order", value="lots", currency="EUR") == ["value"]


def test_names_types_and_amounts_are_checked() -> None:
    assert fields_in_error(name="Flight Delay") == ["name"]
    assert fields_in_error(type="refund") == ["type"]
    assert fields_in_error(duration_seconds=-1) == ["duration_seconds"]
    assert fields_in_error(value=float("inf")) == ["value"]
    assert fields_in_error(occurred_at="2024-05-01 09:30") == ["occurred_at"]
