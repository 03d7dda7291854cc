"""Operational data: bookings, flight delays, support contacts, app sessions, churn, renewals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from touchpoints.demo.company import (
    DESTINATIONS,
    FLIGHT_PREFIX,
    STATIONS,
    TIER_FEES,
    TIERS,
    TOUCHPOINT_INDEX,
)
from touchpoints.demo.events import EventSet, fill, iso_dates
from touchpoints.demo.population import MEAN_FARE, YEAR, Population
from touchpoints.demo.timeline import DAY, HOUR, Floats, Ints, Seconds, Timeline, pick
from touchpoints.operations.models import EventType

BOOKING_SCALE = 1.0
SUPPORT_PER_YEAR = 0.8
SESSIONS_PER_YEAR = 1.2
DIGITAL_SHARE = 0.75
DELAY_CAUSES = ("technical", "weather", "air_traffic_control", "crew", "late_inbound")
DELAY_CAUSE_WEIGHTS = (0.3, 0.25, 0.25, 0.1, 0.1)
SUPPORT_REASONS = ("baggage", "refund", "app_website", "loyalty_points", "customer_service")
SUPPORT_REASON_WEIGHTS = (0.26, 0.24, 0.18, 0.12, 0.2)
SUPPORT_CHANNELS = ("phone", "chat", "email")
SUPPORT_CHANNEL_WEIGHTS = (0.5, 0.35, 0.15)
SUPPORT_TOUCHPOINTS = ("contact_centre", "chat", "support_email")
MEDIAN_WAIT = np.array([300.0, 90.0, 6 * HOUR])  # phone, chat, email
TASKS = ("online_check_in", "manage_booking", "search_and_book", "check_points")
TASK_WEIGHTS = (0.35, 0.25, 0.25, 0.15)
TASK_TOUCHPOINTS = ("online_check_in", "manage", "website", "loyalty")
TASK_SUCCESS = np.array([0.93, 0.82, 0.9, 0.96])
PLATFORMS = ("ios", "android", "web")
CHURN_REASONS = ("switched_airline", "price", "service_failure", "moved_away", "fewer_trips")


@dataclass(frozen=True)
class OperationalData:
    """Every kind of event, plus the per-booking facts feedback refers back to."""

    bookings: EventSet
    departure: Seconds  # per booking
    delay_minutes: Floats  # per booking; 0 when the flight left on time or has not left
    delays: EventSet
    support: EventSet
    digital: EventSet
    churn: EventSet
    renewals: EventSet

    def all(self) -> list[EventSet]:
        """Return every event set in insertion order."""
        sets = [self.bookings, self.delays, self.support, self.digital, self.churn]
        return [*sets, self.renewals]


def generate_operational_data(
    rng: np.random.Generator, people: Population, timeline: Timeline
) -> OperationalData:
    """Draw every event from the customers and the calendar."""
    bookings, departure = _bookings(rng, people, timeline)
    delay_minutes, delays = _delays(rng, bookings, departure, timeline)
    return OperationalData(
        bookings=bookings,
        departure=departure,
        delay_minutes=delay_minutes,
        delays=delays,
        support=_support(rng, people, timeline, delays),
        digital=_digital(rng, people, timeline),
        churn=_churn(rng, people),
        renewals=_renewals(people, timeline),
    )


def _per_customer(
    rng: np.random.Generator,
    people: Population,
    per_year: Floats,
    timeline: Timeline,
    curve: Floats,
) -> tuple[Ints, Seconds]:
    years = (people.active_until - people.active_from) / YEAR
    counts = rng.poisson(per_year * years)
    customer = np.repeat(np.arange(people.count), counts)
    times = timeline.sample(rng, people.active_from[customer], people.active_until[customer], curve)
    order = np.argsort(times, kind="stable")
    return customer[order], times[order]


def _bookings(
    rng: np.random.Generator, people: Population, timeline: Timeline
) -> tuple[EventSet, Seconds]:
    rate = people.booking_rate() * BOOKING_SCALE
    customer, time = _per_customer(rng, people, rate, timeline, timeline.curve(season=0.25))
    count = int(customer.shape[0])
    business = people.business[customer]
    lead = np.clip(rng.lognormal(np.log(21 * DAY), 0.8, count), DAY, 300 * DAY).astype(np.int64)
    departure = time + lead
    home = rng.random(count) < 0.85
    origin = np.where(home, people.station[customer], pick(rng, count, _station_shares()))
    premium = business & (rng.random(count) < 0.25)
    passengers = np.where(business, 1, rng.choice([1, 2, 2, 3, 4], count))
    fare = MEAN_FARE[business.astype(np.int64)] * np.exp(0.1 * people.mood[customer])
    value = fare * rng.lognormal(0.0, 0.35, count) * np.where(premium, 2.5, 1.0) * passengers
    destination = np.asarray(DESTINATIONS, dtype=object)[rng.integers(0, len(DESTINATIONS), count)]
    codes = np.asarray([station.code for station in STATIONS], dtype=object)
    flight = rng.integers(100, 2000, size=count)
    channel = np.where(rng.random(count) < 0.55, "website", "app")
    bookings = EventSet(
        kind="bookings",
        type=EventType.ORDER,
        source="reservations",
        prefix="BK-",
        time=time,
        customer=customer,
        station=origin,
        touchpoint=np.asarray([TOUCHPOINT_INDEX[key] for key in channel.tolist()]),
        names=fill(count, "booking"),
        value=value,
        details={
            "route": codes[origin] + "-" + destination,
            "flight": np.asarray([f"{FLIGHT_PREFIX} {n}" for n in flight.tolist()], dtype=object),
            "departure": iso_dates(departure),
            "cabin": np.where(premium, "business", "economy").astype(object),
            "passengers": passengers,
        },
    )
    return bookings, departure


def _station_shares() -> tuple[float, ...]:
    return tuple(station.share for station in STATIONS)


def _delays(
    rng: np.random.Generator, bookings: EventSet, departure: Seconds, timeline: Timeline
) -> tuple[Floats, EventSet]:
    departed = departure < timeline.end
    in_outage = timeline.in_incident(departure)
    probability = np.where(in_outage, 0.45, 0.12)
    delayed = np.flatnonzero(departed & (rng.random(bookings.count) < probability))
    outage = in_outage[delayed]
    median = np.where(outage, 160.0, 50.0)
    minutes = np.clip(np.round(rng.lognormal(np.log(median), 0.7)), 15, 900)
    causes = np.asarray(DELAY_CAUSES, dtype=object)[
        pick(rng, delayed.shape[0], DELAY_CAUSE_WEIGHTS)
    ]
    causes[outage] = "it_outage"
    outside = (causes == "weather") | (causes == "air_traffic_control")
    delay_minutes = np.zeros(bookings.count)
    delay_minutes[delayed] = minutes
    delays = EventSet(
        kind="delays",
        type=EventType.EXTERNAL,
        source="ops_control",
        prefix="DL-",
        time=departure[delayed],
        customer=bookings.customer[delayed],
        station=bookings.station[delayed],
        touchpoint=np.where(outside, TOUCHPOINT_INDEX["weather"], TOUCHPOINT_INDEX["punctuality"]),
        names=fill(delayed.shape[0], "flight_delay"),
        duration=minutes * 60.0,
        details={
            "flight": bookings.details["flight"][delayed],
            "cause": causes,
            "delay_minutes": minutes.astype(np.int64),
            "booking_ref": np.asarray([bookings.ref(int(i)) for i in delayed], dtype=object),
        },
    )
    return delay_minutes, delays


def _support(
    rng: np.random.Generator, people: Population, timeline: Timeline, delays: EventSet
) -> EventSet:
    per_year = SUPPORT_PER_YEAR * np.where(people.mood < -0.5, 1.4, 1.0)
    customer, time = _per_customer(rng, people, per_year, timeline, timeline.curve(incident=1.6))
    reason = np.asarray(SUPPORT_REASONS, dtype=object)[
        pick(rng, customer.shape[0], SUPPORT_REASON_WEIGHTS)
    ]
    called, called_at, called_about = _calls_about_delays(rng, people, timeline, delays)
    customer = np.concatenate([customer, called])
    time = np.concatenate([time, called_at])
    reason = np.concatenate([reason, called_about])
    count = int(customer.shape[0])
    channel = pick(rng, count, SUPPORT_CHANNEL_WEIGHTS)
    load = np.where(timeline.in_incident(time), 2.5, 1.0) * np.where(
        people.tier[customer] == 3, 0.6, 1.0
    )
    wait = np.maximum(5.0, np.round(MEDIAN_WAIT[channel] * load * rng.lognormal(0.0, 0.8, count)))
    handle = np.round(rng.lognormal(np.log(420.0), 0.5, count)).astype(np.int64)
    return EventSet(
        kind="support",
        type=EventType.SUPPORT_CONTACT,
        source="contact_centre",
        prefix="SC-",
        time=time,
        customer=customer,
        station=people.station[customer],
        touchpoint=np.asarray([TOUCHPOINT_INDEX[SUPPORT_TOUCHPOINTS[c]] for c in channel.tolist()]),
        names=fill(count, "support_contact"),
        duration=wait,
        details={
            "channel": np.asarray(SUPPORT_CHANNELS, dtype=object)[channel],
            "reason": reason,
            "handle_seconds": handle,
            "resolved_first_contact": rng.random(count) < 0.72,
        },
    )


def _calls_about_delays(
    rng: np.random.Generator, people: Population, timeline: Timeline, delays: EventSet
) -> tuple[Ints, Seconds, NDArray[np.object_]]:
    # A share of delayed passengers call about the delay or a refund within three days.
    calls = rng.random(delays.count) < np.where(timeline.in_incident(delays.time), 0.5, 0.3)
    customer = delays.customer[calls]
    count = int(customer.shape[0])
    time = delays.time[calls] + rng.integers(HOUR, 72 * HOUR, count)
    reason = np.where(rng.random(count) < 0.5, "delay", "refund").astype(object)
    keep = time < people.active_until[customer]
    return customer[keep], time[keep], reason[keep]


def _digital(rng: np.random.Generator, people: Population, timeline: Timeline) -> EventSet:
    online = rng.random(people.count) < DIGITAL_SHARE
    per_year = np.where(online, SESSIONS_PER_YEAR, 0.0)
    customer, time = _per_customer(rng, people, per_year, timeline, timeline.curve(season=0.2))
    count = int(customer.shape[0])
    task = pick(rng, count, TASK_WEIGHTS)
    outage = timeline.in_incident(time)
    success = np.where(outage, 0.55, TASK_SUCCESS[task])
    platform = np.asarray(PLATFORMS, dtype=object)[rng.integers(0, len(PLATFORMS), count)]
    page_load = np.round(rng.lognormal(np.log(1100.0), 0.45, count) * np.where(outage, 2.8, 1.0))
    return EventSet(
        kind="digital",
        type=EventType.DIGITAL,
        source="analytics",
        prefix="DS-",
        time=time,
        customer=customer,
        station=people.station[customer],
        touchpoint=np.asarray([TOUCHPOINT_INDEX[TASK_TOUCHPOINTS[t]] for t in task.tolist()]),
        names=np.where(platform == "web", "web_session", "app_session").astype(object),
        duration=np.round(rng.lognormal(np.log(180.0), 0.7, count)),
        details={
            "task": np.asarray(TASKS, dtype=object)[task],
            "platform": platform,
            "page_load_ms": page_load.astype(np.int64),
            "completed": rng.random(size=count) < success,
        },
    )


def _churn(rng: np.random.Generator, people: Population) -> EventSet:
    customer = np.flatnonzero(people.churned)
    count = int(customer.shape[0])
    unhappy = people.mood[customer] < -0.5
    reason = np.asarray(CHURN_REASONS, dtype=object)[rng.integers(0, len(CHURN_REASONS), count)]
    reason[unhappy & (rng.random(count) < 0.6)] = "service_failure"
    return EventSet(
        kind="churn",
        type=EventType.CHURN,
        source="crm",
        prefix="CH-",
        time=people.active_until[customer],
        customer=customer,
        station=people.station[customer],
        touchpoint=np.full(count, TOUCHPOINT_INDEX["loyalty"]),
        names=fill(count, "churn"),
        value=people.expected_spend()[customer],
        details={"reason": reason},
    )


def _renewals(people: Population, timeline: Timeline) -> EventSet:
    members = np.flatnonzero(people.tier > 0)
    customers: list[Ints] = []
    times: list[Seconds] = []
    years = int((timeline.end - people.signup.min()) // YEAR) + 1
    for year in range(1, years + 1):
        anniversary = people.signup[members] + year * YEAR
        due = (anniversary >= people.active_from[members]) & (
            anniversary < people.active_until[members]
        )
        customers.append(members[due])
        times.append(anniversary[due])
    customer = np.concatenate(customers)
    time = np.concatenate(times)
    tier = people.tier[customer]
    count = int(customer.shape[0])
    return EventSet(
        kind="renewals",
        type=EventType.SUBSCRIPTION,
        source="loyalty",
        prefix="RN-",
        time=time,
        customer=customer,
        station=people.station[customer],
        touchpoint=np.full(count, TOUCHPOINT_INDEX["loyalty"]),
        names=fill(count, "club_renewal"),
        value=np.asarray(TIER_FEES)[tier],
        details={"tier": np.asarray(TIERS, dtype=object)[tier]},
    )
