"""The airline's customers: who they are, how they feel, when they joined and when they left."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from touchpoints.demo.bulk import Batch, Links, Row
from touchpoints.demo.company import SEGMENTS, STATIONS, TIERS, TRAVEL_PURPOSES
from touchpoints.demo.names import (
    EMAIL_DOMAIN_WEIGHTS,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    PHONE_CAPACITY,
    phone_number,
)
from touchpoints.demo.timeline import (
    DAY,
    Floats,
    IdFactory,
    Ints,
    Seconds,
    Timeline,
    pick,
    to_datetime,
)

YEAR = 365 * DAY
TIER_WEIGHTS = {"leisure": (0.62, 0.24, 0.11, 0.03), "business": (0.30, 0.30, 0.26, 0.14)}
BUSINESS_SHARE = 0.3
LOYALTY_SHARE_BLUE = 0.45
PHONE_SHARE = 0.55
EMAIL_SHARE = 0.97
SIGNUP_BEFORE_WINDOW = 0.75
CHURN_GRACE = 45 * DAY
# Yearly bookings by tier and the expected fare by purpose (EUR); promoters fly and spend more.
BOOKINGS_PER_YEAR = np.array([0.9, 1.8, 3.2, 5.5])
MEAN_FARE = np.array([140.0, 380.0])


@dataclass(frozen=True)
class Population:
    """Every customer as columns: index i in each array is customer i."""

    station: Ints
    tier: Ints
    business: NDArray[np.bool_]
    loyalty_member: NDArray[np.bool_]
    mood: Floats  # how the customer tends to feel about the airline (standard normal)
    signup: Seconds
    active_from: Seconds
    active_until: Seconds
    churned: NDArray[np.bool_]
    first_name: Ints
    last_name: Ints

    @property
    def count(self) -> int:
        """Return how many customers there are."""
        return int(self.station.shape[0])

    def booking_rate(self) -> Floats:
        """Return each customer's expected bookings per year."""
        rate = BOOKINGS_PER_YEAR[self.tier] * np.where(self.business, 1.4, 1.0)
        return np.asarray(rate * np.exp(0.3 * self.mood), dtype=np.float64)

    def expected_spend(self) -> Floats:
        """Return each customer's expected yearly spend in EUR."""
        fare = MEAN_FARE[self.business.astype(np.int64)] * np.exp(0.1 * self.mood)
        return np.asarray(self.booking_rate() * fare, dtype=np.float64)


def generate_population(rng: np.random.Generator, count: int, timeline: Timeline) -> Population:
    """Draw the customers: home station, tier, purpose, mood, signup and churn."""
    station = pick(rng, count, tuple(s.share for s in STATIONS))
    business = rng.random(count) < BUSINESS_SHARE
    tier = np.where(
        business,
        pick(rng, count, TIER_WEIGHTS["business"]),
        pick(rng, count, TIER_WEIGHTS["leisure"]),
    )
    mood = rng.standard_normal(count) + 0.1 * tier
    signup = _signup_times(rng, count, timeline)
    active_from = np.maximum(signup, timeline.start)
    churned, active_until = _churn(rng, mood, active_from, timeline)
    return Population(
        station=station,
        tier=tier,
        business=business,
        loyalty_member=(tier > 0) | (rng.random(count) < LOYALTY_SHARE_BLUE),
        mood=mood,
        signup=signup,
        active_from=active_from,
        active_until=active_until,
        churned=churned,
        first_name=rng.integers(0, len(FIRST_NAMES), count),
        last_name=rng.integers(0, len(LAST_NAMES), count),
    )


def _signup_times(rng: np.random.Generator, count: int, timeline: Timeline) -> Seconds:
    before = rng.random(count) < SIGNUP_BEFORE_WINDOW
    earlier = timeline.start - (rng.random(count) * 6 * YEAR).astype(np.int64)
    # Joiners during the window leave at least a month to be seen in.
    span = max(timeline.end - timeline.start - 30 * DAY, DAY)
    during = timeline.start + (rng.random(count) * span).astype(np.int64)
    return np.where(before, earlier, during)


def _churn(
    rng: np.random.Generator, mood: Floats, active_from: Seconds, timeline: Timeline
) -> tuple[NDArray[np.bool_], Seconds]:
    # Unhappy customers leave far more often, and the outage pushes some over the edge.
    probability = 1.0 / (1.0 + np.exp(2.1 + 1.2 * mood))
    earliest = active_from + CHURN_GRACE
    churned = (rng.random(mood.shape[0]) < probability) & (earliest < timeline.end - DAY)
    when = timeline.sample(
        rng, earliest, np.full_like(earliest, timeline.end), _churn_curve(timeline)
    )
    return churned, np.where(churned, when, timeline.end)


def _churn_curve(timeline: Timeline) -> Floats:
    return timeline.curve(incident=1.3, after=2.5)


def customer_batches(
    population: Population, rng: np.random.Generator, ids: IdFactory, links: Links
) -> list[Batch]:
    """Return the customer, identity and segment-membership rows."""
    customers = _CustomerRows(population, rng, links)
    identities = customers.identities(ids)
    memberships = customers.segment_memberships()
    return [
        Batch("customers", population.count, customers.rows),
        Batch("customer_identities", len(identities), lambda lo, hi: identities[lo:hi]),
        Batch("customer_segments", len(memberships), lambda lo, hi: memberships[lo:hi]),
    ]


def _ascii(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


class _CustomerRows:
    """Builds the rows of customers and what hangs off them."""

    def __init__(self, population: Population, rng: np.random.Generator, links: Links) -> None:
        count = population.count
        self.population = population
        self.links = links
        self.email_number = rng.permutation(count) + 10
        self.email_style = rng.integers(0, 3, count)
        self.email_domain = pick(rng, count, EMAIL_DOMAIN_WEIGHTS)
        self.has_email = rng.random(count) < EMAIL_SHARE
        phones = min(round(count * PHONE_SHARE), PHONE_CAPACITY)
        self.phone_holders = np.sort(rng.choice(count, size=phones, replace=False))
        self.phone_slots = rng.choice(PHONE_CAPACITY, size=phones, replace=False)
        self.loyalty_numbers = rng.choice(90_000_000, size=count, replace=False) + 10_000_000
        self.consent = rng.random((count, 3))
        spend = population.expected_spend()
        self.high_value = spend >= np.quantile(spend, 0.9)

    def rows(self, low: int, high: int) -> list[Row]:
        """Return customers low..high as table rows."""
        return [self._row(index) for index in range(low, high)]

    def _row(self, index: int) -> Row:
        people = self.population
        signup = to_datetime(int(people.signup[index]))
        attributes = {
            "tier": TIERS[people.tier[index]],
            "home_airport": STATIONS[people.station[index]].code,
            "segment": TRAVEL_PURPOSES[int(people.business[index])],
            "signup_date": signup.date().isoformat(),
        }
        consent = self.consent[index]
        return {
            "id": self.links.customer_ids[index],
            "workspace_id": self.links.workspace_id,
            "display_name": self._name(index),
            "org_unit_id": self.links.station_ids[people.station[index]],
            "attributes": attributes,
            "consent_email": _consent(consent[0], 0.72, 0.08),
            "consent_sms": _consent(consent[1], 0.40, 0.15),
            "consent_research": _consent(consent[2], 0.55, 0.10),
            "first_seen_at": signup,
            "created_at": signup,
            "updated_at": signup,
        }

    def _name(self, index: int) -> str:
        people = self.population
        return f"{FIRST_NAMES[people.first_name[index]]} {LAST_NAMES[people.last_name[index]]}"

    def _email(self, index: int) -> str:
        people = self.population
        first = _ascii(FIRST_NAMES[people.first_name[index]])
        last = _ascii(LAST_NAMES[people.last_name[index]])
        local = (f"{first}.{last}", f"{first[0]}{last}", f"{first}_{last[0]}")[
            self.email_style[index]
        ]
        return f"{local}{self.email_number[index]}@{EMAIL_DOMAINS[self.email_domain[index]]}"

    def identities(self, ids: IdFactory) -> list[Row]:
        """Return email, phone and loyalty-number identities (all normalized, all unique)."""
        people = self.population
        found: list[tuple[int, str, str, str]] = []
        found += [(i, "email", "", self._email(i)) for i in np.flatnonzero(self.has_email).tolist()]
        found += [
            (int(i), "phone", "", phone_number(int(slot)))
            for i, slot in zip(self.phone_holders, self.phone_slots, strict=True)
        ]
        found += [
            (i, "external_id", "loyalty", f"BWC{self.loyalty_numbers[i]}")
            for i in np.flatnonzero(people.loyalty_member).tolist()
        ]
        found.sort(key=lambda identity: identity[0])
        identity_ids = ids.ids("customer_identities", len(found))
        return [
            {
                "id": identity_id,
                "workspace_id": self.links.workspace_id,
                "customer_id": self.links.customer_ids[index],
                "kind": kind,
                "source": source,
                "value": value,
            }
            for identity_id, (index, kind, source, value) in zip(identity_ids, found, strict=True)
        ]

    def segment_memberships(self) -> list[Row]:
        """Return which customers belong to which segment."""
        people = self.population
        members = {
            "silver": people.tier == 1,
            "gold": people.tier == 2,
            "platinum": people.tier == 3,
            "business": people.business,
            "leisure": ~people.business,
            "high_value": self.high_value,
        }
        rows: list[Row] = []
        for segment in SEGMENTS:
            segment_id = self.links.segment_ids[segment.key]
            rows += [
                {"customer_id": self.links.customer_ids[i], "segment_id": segment_id}
                for i in np.flatnonzero(members[segment.key])
            ]
        return rows


def _consent(draw: float, yes: float, no: float) -> bool | None:
    if draw < yes:
        return True
    return False if draw < yes + no else None
