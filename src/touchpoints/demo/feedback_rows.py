"""Scores, topics and words for each feedback item, and its table rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from touchpoints.demo import feedback_texts as texts
from touchpoints.demo.bulk import Batch, Links, Row
from touchpoints.demo.company import FLIGHT_PREFIX, STATIONS, TOUCHPOINTS
from touchpoints.demo.feedback import KIND_INDEX, KINDS, NO_LINK, Items
from touchpoints.demo.names import FIRST_NAMES, SOCIAL_WORDS
from touchpoints.demo.population import Population
from touchpoints.demo.timeline import Floats, IdFactory, Ints, Timeline, to_datetime

RECEIVE_DELAY = 120
# What a relationship survey comment is about when no touchpoint narrows it down.
RELATIONSHIP_TOPICS = (
    ("delay", "price", "crew", "seat_comfort", "baggage", "customer_service", "app_website"),
    (0.22, 0.17, 0.15, 0.12, 0.12, 0.12, 0.10),
)
OUTAGE_TOPICS = (("delay", "refund", "app_website"), (0.5, 0.3, 0.2))
LOCAL_KINDS = frozenset({"relationship_nps", "post_flight", "review_site", "social"})
# Score = centre + spread * feeling, rounded and kept between the lowest and highest score.
SCALES = {
    "nps": (7.7, 2.0, 0, 10),
    "csat": (3.9, 1.05, 1, 5),
    "ces": (5.1, 1.35, 1, 7),
    "rating": (3.5, 1.3, 1, 5),
}
# Scores at or below the first bound read negative; at or above the second, positive.
FEELING_BOUNDS = {"nps": (6, 9), "csat": (2, 4), "ces": (3, 5), "rating": (2, 4)}
# A comment's sentiment is the feeling it was written from (0 bad, 1 so-so, 2 good).
SENTIMENTS = ("negative", "neutral", "positive")
# Marks enrichment that is the generator's ground truth, not the output of text analytics.
ENRICHMENT_SOURCE = "demo_generator"


@dataclass(frozen=True)
class Scored:
    """Each item's score on its kind's metric (-1: none) and its feeling (0 bad .. 2 good)."""

    score: Ints
    feeling: Ints


def score_items(
    rng: np.random.Generator, items: Items, people: Population, timeline: Timeline
) -> Scored:
    """Turn mood, touchpoint, station, month and linked events into scores and feelings."""
    known = items.customer >= 0
    mood = np.where(
        known, people.mood[np.maximum(items.customer, 0)], rng.standard_normal(items.count)
    )
    touchpoint_effect = np.asarray([tp.effect for tp in TOUCHPOINTS] + [0.0])[items.touchpoint]
    station_effect = np.asarray([station.quality for station in STATIONS])[items.station]
    offsets = np.asarray([kind.offset for kind in KINDS])[items.kind]
    feeling = (
        0.8 * mood
        + touchpoint_effect
        + station_effect
        + timeline.month_effect(items.time)
        + offsets
        + items.effect
        + 0.6 * rng.standard_normal(items.count)
    )
    return _to_scores(items, feeling)


def _to_scores(items: Items, latent: Floats) -> Scored:
    score = np.full(items.count, -1, dtype=np.int64)
    feeling = np.where(latent < -0.45, 0, np.where(latent > 0.45, 2, 1))
    for index, kind in enumerate(KINDS):
        if kind.metric is None:
            continue
        mine = items.kind == index
        centre, spread, lowest, highest = SCALES[kind.metric]
        score[mine] = np.clip(np.round(centre + spread * latent[mine]), lowest, highest)
        low, high = FEELING_BOUNDS[kind.metric]
        feeling[mine] = np.where(score[mine] <= low, 0, np.where(score[mine] >= high, 2, 1))
    return Scored(score=score, feeling=feeling.astype(np.int64))


class FeedbackRows:
    """Builds feedback_items rows: words chosen to match the score, ids drawn from the seed."""

    def __init__(
        self,
        rng: np.random.Generator,
        items: Items,
        scored: Scored,
        people: Population,
        timeline: Timeline,
    ) -> None:
        count = items.count
        self.items, self.scored, self.people = items, scored, people
        self.draws = rng.integers(0, 2**31, (count, 6)).tolist()
        self.chances = rng.random((count, 4)).tolist()
        self.topic = self._topics(rng, items, scored, timeline)
        self.flights = rng.integers(100, 2000, count).tolist()
        self.refs = _source_refs(items)

    def _topics(
        self, rng: np.random.Generator, items: Items, scored: Scored, timeline: Timeline
    ) -> list[str]:
        count = items.count
        topics = items.topic.copy()
        general = np.asarray(RELATIONSHIP_TOPICS[0], dtype=object)
        weights = np.asarray(RELATIONSHIP_TOPICS[1])
        general_pick = general[rng.choice(len(general), count, p=weights / weights.sum())]
        by_touchpoint = [TOUCHPOINTS[t].topics if t >= 0 else () for t in items.touchpoint.tolist()]
        draws = rng.integers(0, 1000, count).tolist()
        for index in np.flatnonzero(topics == "").tolist():
            options = by_touchpoint[index]
            topics[index] = options[draws[index] % len(options)] if options else general_pick[index]
        # During the outage, unhappy customers talk about delays, refunds and the broken app.
        outage = np.asarray(OUTAGE_TOPICS[0], dtype=object)
        outage_pick = outage[rng.choice(len(outage), count, p=np.asarray(OUTAGE_TOPICS[1]))]
        about_the_app = np.isin(items.kind, [KIND_INDEX["app_store"], KIND_INDEX["self_service"]])
        unhappy = timeline.in_incident(items.time) & (scored.feeling == 0) & ~about_the_app
        switch = unhappy & (rng.random(count) < 0.6)
        topics[switch] = outage_pick[switch]
        return [str(topic) for topic in topics.tolist()]

    def batch(self, ids: IdFactory, links: Links) -> Batch:
        """Return the rows of every item for the feedback_items table."""
        item_ids = ids.ids("feedback_items", self.items.count)

        def build(low: int, high: int) -> list[Row]:
            """Return the rows of items low..high."""
            return [self._row(index, item_ids[index], links) for index in range(low, high)]

        return Batch("feedback_items", self.items.count, build)

    def _row(self, index: int, item_id: str, links: Links) -> Row:
        items = self.items
        kind = KINDS[items.kind[index]]
        seconds = int(items.time[index])
        title, text, language, topics = self._words(index, kind.key)
        score = int(self.scored.score[index])
        scores: dict[str, Any] = {"nps": None, "csat": None, "ces": None, "rating": None}
        if kind.metric is not None:
            scores[kind.metric] = float(score) if kind.metric == "rating" else score
        return {
            "id": item_id,
            "workspace_id": links.workspace_id,
            "solicited": kind.survey is not None,
            "source": kind.source,
            "source_ref": self.refs[index],
            "channel": items.channel[index],
            "touchpoint_id": links.touchpoint(int(items.touchpoint[index])),
            "customer_id": links.customer(int(items.customer[index])),
            "org_unit_id": links.station_ids[items.station[index]],
            "occurred_at": to_datetime(seconds),
            "received_at": to_datetime(seconds + RECEIVE_DELAY),
            "title": title,
            "text": text,
            "language": language if text is not None else None,
            **scores,
            "rating_scale": 5 if kind.metric == "rating" else None,
            "metadata": self._metadata(index, kind.key, kind.survey, topics),
            **self._enrichment(index, text, topics),
        }

    def _enrichment(self, index: int, text: str | None, topics: list[str]) -> dict[str, Any]:
        if text is None:
            return {"sentiment": None, "topics": None}
        return {"sentiment": SENTIMENTS[int(self.scored.feeling[index])], "topics": topics}

    def _words(self, index: int, kind: str) -> tuple[str | None, str | None, str, list[str]]:
        feeling = int(self.scored.feeling[index])
        chance = self.chances[index]
        draws = self.draws[index]
        share = KINDS[self.items.kind[index]].comment_share + (0.2 if feeling == 0 else 0.0)
        if chance[0] >= share:
            return None, None, "en", []
        station = STATIONS[self.items.station[index]]
        if kind in LOCAL_KINDS and chance[1] < station.local_share:
            text, topic = texts.local_comment(station.language, feeling, draws[0])
            if kind == "social":
                text = texts.social_post(text, draws[4])
            return None, text, station.language, [topic]
        topics, feelings = [self.topic[index]], [feeling]
        if chance[2] < 0.3:
            topics.append(texts.second_topic(draws[1]))
            feelings.append(feeling if chance[3] < 0.65 else draws[2] % 3)
        context = self._context(index)
        body = texts.comment(topics, feelings, draws[3:], context)
        title, text = self._shape(index, kind, body, topics[0], context)
        return title, text, "en", topics

    def _shape(
        self, index: int, kind: str, body: str, topic: str, context: dict[str, str]
    ) -> tuple[str | None, str]:
        feeling, draw = int(self.scored.feeling[index]), self.draws[index][4]
        if kind == "chat":
            return None, texts.chat_transcript(body, topic, feeling, draw, context)
        if kind == "email":
            customer = max(int(self.items.customer[index]), 0)
            name = FIRST_NAMES[self.people.first_name[customer]]
            return texts.email_message(body, topic, name, context)
        if kind == "social":
            return None, texts.social_post(body, draw)
        if kind == "app_store":
            return texts.title(texts.APP_TITLES, feeling, draw), body
        if kind == "review_site":
            return texts.title(texts.REVIEW_TITLES, feeling, draw), body
        return None, body

    def _context(self, index: int) -> dict[str, str]:
        draw = self.draws[index][5]
        # Linked minutes are the flight's delay after a flight, the time on hold after a contact.
        linked = int(self.items.minutes[index])
        after_flight = KINDS[self.items.kind[index]].key == "post_flight"
        delay = linked if after_flight and linked else 40 + draw % 200
        wait = max(linked, 1) if linked and not after_flight else 15 + draw % 45
        return {
            "airport": STATIONS[self.items.station[index]].name,
            "flight": f"{FLIGHT_PREFIX} {self.flights[index]}",
            "delay": str(delay),
            "wait": str(wait),
            "minutes": str(20 + draw % 70),
            "hours": str(2 + draw % 3),
        }

    def _metadata(
        self, index: int, kind: str, survey: str | None, topics: list[str]
    ) -> dict[str, Any]:
        metadata: dict[str, Any] = {}
        if survey is not None:
            metadata["survey"] = survey
        link = str(self.items.link[index])
        if link != NO_LINK:
            name, ref = link.split(":", 1)
            metadata[name] = ref
        if kind == "social":
            word = SOCIAL_WORDS[self.draws[index][1] % len(SOCIAL_WORDS)]
            metadata["handle"] = f"@{word}{self.draws[index][2] % 10_000}"
        elif kind == "app_store":
            metadata["store"] = ("App Store", "Google Play")[self.draws[index][1] % 2]
        if topics:
            metadata["demo_topics"] = topics
            metadata["enrichment_source"] = ENRICHMENT_SOURCE
        return metadata


def _source_refs(items: Items) -> list[str]:
    refs: list[str] = [""] * items.count
    sources = np.asarray([kind.source for kind in KINDS], dtype=object)[items.kind]
    for source in sorted(set(sources.tolist())):
        for number, index in enumerate(np.flatnonzero(sources == source).tolist(), start=1):
            refs[index] = f"{source}-{number:08d}"
    return refs
