"""A sample survey definition and a helper publishing it through the API."""

from __future__ import annotations

import copy
from typing import Any

from tests.conftest import Caller

SURVEYS = "/api/v1/surveys"


def _choices(*ids: str) -> list[dict[str, Any]]:
    return [{"id": i, "text": {"en": i.title()}} for i in ids]


CHECKOUT: dict[str, Any] = {
    "name": "Checkout survey",
    "default_language": "en",
    "languages": ["en", "fr"],
    "title": {"en": "How was your checkout?", "fr": "Comment s'est passé votre paiement ?"},
    "thank_you": {"en": "Thanks a lot!", "fr": "Merci beaucoup !"},
    "pages": [
        {
            "questions": [
                {
                    "id": "nps",
                    "type": "nps",
                    "required": True,
                    "text": {
                        "en": "How likely are you to recommend us?",
                        "fr": "Quelle est la probabilité que vous nous recommandiez ?",
                    },
                },
                {
                    "id": "why",
                    "type": "open_text",
                    "required": True,
                    "text": {"en": "What should we fix?"},
                    "show_if": {"question": "nps", "op": "lte", "value": 6},
                },
            ]
        },
        {
            "title": {"en": "About your order"},
            "questions": [
                {"id": "csat", "type": "csat", "required": True, "text": {"en": "Satisfied?"}},
                {"id": "effort", "type": "ces", "text": {"en": "It was easy to pay."}},
                {"id": "speed", "type": "rating", "scale_max": 10, "text": {"en": "Speed"}},
                {
                    "id": "paid_with",
                    "type": "single_choice",
                    "text": {"en": "How did you pay?"},
                    "choices": _choices("card", "cash"),
                },
                {
                    "id": "liked",
                    "type": "multiple_choice",
                    "text": {"en": "What did you like?"},
                    "choices": _choices("price", "choice", "staff"),
                },
                {
                    "id": "aspects",
                    "type": "matrix",
                    "text": {"en": "Rate these"},
                    "rows": _choices("price", "range"),
                },
                {"id": "comment", "type": "open_text", "text": {"en": "Anything else?"}},
            ],
        },
        {
            "questions": [
                {
                    "id": "love",
                    "type": "open_text",
                    "text": {"en": "What do you love about us?"},
                    "show_if": {"question": "nps", "op": "gte", "value": 9},
                }
            ]
        },
    ],
}


def checkout(**changes: Any) -> dict[str, Any]:
    """Return a fresh copy of the sample definition with top-level changes."""
    return copy.deepcopy(CHECKOUT) | changes


def publish(caller: Caller, definition: dict[str, Any] | None = None) -> tuple[str, str]:
    """Create and publish a survey with a web link; return its id and the link token."""
    created = caller.http.post(SURVEYS, json={"definition": definition or checkout()})
    assert created.status_code == 201, created.text
    survey_id = created.json()["id"]
    assert caller.http.post(f"{SURVEYS}/{survey_id}/publish").status_code == 201
    link = caller.http.post(f"{SURVEYS}/{survey_id}/links", json={"channel": "web"})
    assert link.status_code == 201, link.text
    return survey_id, link.json()["token"]
