"""Feedback items as columns: who said it, where, when, how they felt and what they scored."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from touchpoints.demo.company import (
    FLIGHT_TOUCHPOINT_WEIGHTS,
    FLIGHT_TOUCHPOINTS,
    STATIONS,
    TOUCHPOINT_INDEX,
)
from touchpoints.demo.odata import MEDIAN_WAIT, SUPPORT_CHANNELS, OperationalData
from touchpoints.demo.population import Population
from touchpoints.demo.timeline import HOUR, Floats, Ints, Seconds, Timeline, pick, split_counts
from touchpoints.journeys.models import Channel


@dataclass(frozen=True)
class Kind:
    """A kind of feedback: where it comes from, what it scores and how it usually sounds."""

    key: str
    share: float
    source: str
    metric: str | None
    survey: str | None
    offset: float  # unsolicited feedback skews negative: happy customers rarely post
    comment_share: float


KINDS = (
    Kind("relationship_nps", 0.24, "survey", "nps", "Relationship NPS", 0.15, 0.5),
    Kind("post_flight", 0.25, "survey", "csat", "Post-flight survey", 0.1, 0.45),
    Kind("support_csat", 0.08, "survey", "csat", "Support satisfaction", 0.0, 0.4),
    Kind("support_ces", 0.04, "survey", "ces", "Support effort", 0.0, 0.35),
    Kind("self_service", 0.07, "survey", "ces", "Self-service effort", 0.1, 0.3),
    Kind("app_store", 0.08, "app_store", "rating", None, -0.2, 0.8),
    Kind("review_site", 0.05, "review_site", "rating", None, -0.35, 0.95),
    Kind("social", 0.09, "social", None, None, -0.6, 1.0),
    Kind("chat", 0.04, "chat", None, None, -0.3, 1.0),
    Kind("email", 0.06, "email", None, None, -0.7, 1.0),
)
KIND_INDEX = {kind.key: index for index, kind in enumerate(KINDS)}
# Where each kind is said when no linked event decides it.
PUBLIC_CHANNELS = {
    "app_store": Channel.REVIEW_SITE.value,
    "review_site": Channel.REVIEW_SITE.value,
    "social": Channel.SOCIAL.value,
    "email": Channel.EMAIL.value,
    "chat": Channel.CHAT.value,
    "self_service": Channel.APP.value,
}
NO_LINK = ""


@dataclass(frozen=True)
class Items:
    """Feedback items as columns; index i of every column is item i."""

    kind: Ints
    customer: Ints  # -1: anonymous
    time: Seconds
    station: Ints
    touchpoint: Ints  # -1: about the relationship, not one touchpoint
    channel: NDArray[np.object_]
    effect: Floats  # what the linked event did to the customer's mood
    link: NDArray[np.object_]  # "booking_ref:BK-..." or NO_LINK
    topic: NDArray[np.object_]  # "" lets the touchpoint decide
    minutes: Ints  # minutes of delay or wait the comment can mention

    @property
    def count(self) -> int:
        """Return how many items there are."""
        return int(self.time.shape[0])

    @classmethod
    def join(cls, parts: list[Items]) -> Items:
        """Concatenate item sets and sort them by time."""
        columns = {f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)}
        order = np.argsort(columns["time"], kind="stable")
        return cls(**{name: column[order] for name, column in columns.items()})


class ItemSampler:
    """Draws the items of each kind from customers, events and the calendar."""

    def __init__(
        self,
        rng: np.random.Generator,
        people: Population,
        odata: OperationalData,
        timeline: Timeline,
    ) -> None:
        self.rng = rng
        self.people = people
        self.odata = odata
        self.timeline = timeline
        self.complaints = timeline.curve(season=0.15, incident=2.6, after=1.4)

    def sample(self, total: int) -> Items:
        """Return `total` items split over the kinds by their shares."""
        counts = split_counts(total, {kind.key: kind.share for kind in KINDS})
        support = self._support_contacts(counts["support_csat"] + counts["support_ces"])
        parts = [
            self._relationship(counts["relationship_nps"]),
            self._post_flight(counts["post_flight"]),
            self._after_support("support_csat", support[: counts["support_csat"]]),
            self._after_support("support_ces", support[counts["support_csat"] :]),
            self._self_service(counts["self_service"]),
            self._public("app_store", counts["app_store"], 0.9, ("app", "online_check_in")),
            self._public("review_site", counts["review_site"], 0.8, ("review_site",)),
            self._public("social", counts["social"], 0.6, ("social_care",)),
            self._chats(counts["chat"]),
            self._public("email", counts["email"], 0.0, ("support_email", "refunds")),
        ]
        return Items.join(parts)

    def _items(
        self,
        kind: str,
        customer: Ints,
        time: Seconds,
        station: Ints,
        touchpoint: Ints,
        channel: str | NDArray[np.generic],
        *,
        effect: Floats | None = None,
        link: NDArray[np.object_] | None = None,
        topic: NDArray[np.object_] | None = None,
        minutes: Ints | None = None,
    ) -> Items:
        count = int(customer.shape[0])
        channels = _strings(count, channel) if isinstance(channel, str) else channel.astype(object)
        return Items(
            kind=np.full(count, KIND_INDEX[kind]),
            customer=customer,
            time=np.minimum(time, self.timeline.end - 1),
            station=station,
            touchpoint=touchpoint,
            channel=channels,
            effect=np.zeros(count) if effect is None else effect,
            link=_strings(count, NO_LINK) if link is None else link,
            topic=_strings(count, "") if topic is None else topic,
            minutes=np.zeros(count, dtype=np.int64) if minutes is None else minutes,
        )

    def _customers(self, count: int, curve: Floats) -> tuple[Ints, Seconds]:
        people = self.people
        customer = self.rng.integers(0, people.count, count)
        low, high = people.active_from[customer], people.active_until[customer]
        return customer, self.timeline.sample(self.rng, low, high, curve)

    def _relationship(self, count: int) -> Items:
        customer, time = self._customers(count, self.timeline.curve())
        channel = np.where(self.rng.random(count) < 0.8, Channel.EMAIL.value, Channel.SMS.value)
        station = self.people.station[customer]
        return self._items("relationship_nps", customer, time, station, np.full(count, -1), channel)

    def _post_flight(self, count: int) -> Items:
        odata, rng = self.odata, self.rng
        flown = np.flatnonzero(odata.departure < self.timeline.end - 2 * HOUR)
        if flown.shape[0] == 0:
            return self._flightless(count)
        chosen = flown[_distinct(rng, flown.shape[0], count)]
        delay = odata.delay_minutes[chosen]
        rated = np.asarray([TOUCHPOINT_INDEX[k] for k in FLIGHT_TOUCHPOINTS])[
            pick(rng, count, FLIGHT_TOUCHPOINT_WEIGHTS)
        ]
        about_delay = (delay > 0) & (rng.random(count) < 0.7)
        touchpoint = np.where(about_delay, TOUCHPOINT_INDEX["punctuality"], rated)
        effect = np.where(delay > 0, -0.3 - 0.25 * np.log2(1 + delay / 30), 0.0)
        bookings = odata.bookings
        return self._items(
            "post_flight",
            bookings.customer[chosen],
            odata.departure[chosen] + rng.integers(3 * HOUR, 48 * HOUR, count),
            bookings.station[chosen],
            touchpoint,
            Channel.EMAIL.value,
            effect=effect,
            link=np.asarray([f"booking_ref:{bookings.ref(int(i))}" for i in chosen], dtype=object),
            topic=np.where(about_delay, "delay", "").astype(object),
            minutes=delay.astype(np.int64),
        )

    def _flightless(self, count: int) -> Items:
        customer, time = self._customers(count, self.timeline.curve())
        touchpoint = np.full(count, TOUCHPOINT_INDEX["crew"])
        station = self.people.station[customer]
        return self._items("post_flight", customer, time, station, touchpoint, Channel.EMAIL.value)

    def _support_contacts(self, count: int) -> Ints:
        contacts = self.odata.support.count
        if contacts == 0:
            return np.zeros(0, dtype=np.int64)
        return _distinct(self.rng, contacts, count)

    def _after_support(self, kind: str, chosen: Ints) -> Items:
        support, rng = self.odata.support, self.rng
        count = int(chosen.shape[0])
        if count == 0:
            empty = np.zeros(0, dtype=np.int64)
            return self._items(kind, empty, empty, empty, empty, Channel.EMAIL.value)
        assert support.duration is not None
        wait = support.duration[chosen]
        channel = support.details["channel"][chosen]
        median = MEDIAN_WAIT[[SUPPORT_CHANNELS.index(c) for c in channel.tolist()]]
        # Long waits sour the follow-up survey: about half a CSAT point per doubling.
        effect = -0.5 * np.clip(np.log2(wait / median), -1.5, 3.0)
        by_sms = (channel == "phone") & (rng.random(count) < 0.5)
        refs = [f"support_contact_ref:{support.ref(int(i))}" for i in chosen]
        return self._items(
            kind,
            support.customer[chosen],
            support.time[chosen] + rng.integers(HOUR // 2, 20 * HOUR, count),
            support.station[chosen],
            support.touchpoint[chosen],
            np.where(by_sms, Channel.SMS.value, Channel.EMAIL.value),
            effect=effect,
            link=np.asarray(refs, dtype=object),
            topic=support.details["reason"][chosen],
            minutes=np.round(wait / 60).astype(np.int64),
        )

    def _self_service(self, count: int) -> Items:
        digital, rng = self.odata.digital, self.rng
        if digital.count == 0:
            return self._public("self_service", count, 0.0, ("online_check_in",))
        chosen = _distinct(rng, digital.count, count)
        failed = ~digital.details["completed"][chosen].astype(bool)
        page_load = digital.details["page_load_ms"][chosen].astype(np.float64)
        effect = np.where(failed, -1.3, 0.0) - 0.35 * np.log2(page_load / 1100.0)
        web = digital.details["platform"][chosen] == "web"
        return self._items(
            "self_service",
            digital.customer[chosen],
            digital.time[chosen] + rng.integers(60, 2 * HOUR, count),
            digital.station[chosen],
            digital.touchpoint[chosen],
            np.where(web, Channel.WEB.value, Channel.APP.value),
            effect=effect,
            link=np.asarray([f"session_ref:{digital.ref(int(i))}" for i in chosen], dtype=object),
            topic=_strings(count, "app_website"),
        )

    def _public(
        self, kind: str, count: int, anonymous: float, touchpoints: tuple[str, ...]
    ) -> Items:
        rng = self.rng
        customer, time = self._customers(count, self.complaints)
        station = self.people.station[customer]
        unknown = rng.random(count) < anonymous
        customer = np.where(unknown, -1, customer)
        station = np.where(unknown, pick(rng, count, tuple(s.share for s in STATIONS)), station)
        choices = np.asarray([TOUCHPOINT_INDEX[key] for key in touchpoints])
        touchpoint = choices[rng.integers(0, len(touchpoints), count)]
        return self._items(kind, customer, time, station, touchpoint, PUBLIC_CHANNELS[kind])

    def _chats(self, count: int) -> Items:
        support, rng = self.odata.support, self.rng
        chats = np.flatnonzero(support.details["channel"] == "chat")
        if chats.shape[0] == 0:
            return self._public("chat", count, 0.0, ("chat",))
        chosen = chats[_distinct(rng, chats.shape[0], count)]
        assert support.duration is not None
        wait = support.duration[chosen]
        refs = [f"support_contact_ref:{support.ref(int(i))}" for i in chosen]
        return self._items(
            "chat",
            support.customer[chosen],
            support.time[chosen] + np.round(wait).astype(np.int64),
            support.station[chosen],
            support.touchpoint[chosen],
            Channel.CHAT.value,
            effect=-0.5 * np.clip(np.log2(wait / MEDIAN_WAIT[1]), -1.5, 3.0),
            link=np.asarray(refs, dtype=object),
            topic=support.details["reason"][chosen],
            minutes=np.round(wait / 60).astype(np.int64),
        )


def _strings(count: int, value: str) -> NDArray[np.object_]:
    column = np.empty(count, dtype=object)
    column[:] = value
    return column


def _distinct(rng: np.random.Generator, pool: int, count: int) -> Ints:
    """Pick `count` of `pool` events, each at most once until every one has been picked."""
    picked = [rng.permutation(pool)[:count]]
    if count > pool:
        picked.append(rng.integers(0, pool, count - pool))
    return np.concatenate(picked)
