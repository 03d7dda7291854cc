"""What a feedback item must carry before it reaches the store."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from touchpoints.feedback.schemas import FeedbackItemCreate, Scores


def fields_in_error(**body: Any) -> list[str]:
    """Return the dotted fields a new feedback item is refused for."""
    values: dict[str, Any] = {"occurred_at": "2024-05-01T09:30:00Z", "text": "ok"}
    with pytest.raises(ValidationError) as refused:
        FeedbackItemCreate.model_validate(values | body)
    return [".".join(str(part) for part in error["loc"]) for error in refused.value.errors()]


@pytest.mark.parametrize(("score", "low", "high"), [("nps", 0, 10), ("csat", 1, 5), ("ces", 1, 7)])
def test_scores_accept_their_scale_and_refuse_beyond_it(score: str, low: int, high: int) -> None:
    assert getattr(Scores.model_validate({score: low}), score) == low
    assert getattr(Scores.model_validate({score: high}), score) == high
    assert fields_in_error(scores={score: low - 1}) == [f"scores.{score}"]
    assert fields_in_error(scores={score: high + 1}) == [f"scores.{score}"]


def test_rating_lies_between_zero_and_its_scale() -> None:
    assert Scores.model_validate({"rating": 10, "rating_scale": 10}).rating == 10
    assert fields_in_error(scores={"rating": -0.5}) == ["scores.rating"]
    assert fields_in_error(scores={"rating": 5.5}) == ["scores.rating"]


def test_a_score_alone_is_enough_to_say_something() -> None:
    item = FeedbackItemCreate.model_validate(
        {"occurred_at": "2024-05-01T09:30:00Z", "scores": {"ces": 2}}
    )

    assert item.text is None
    assert fields_in_error(text=None) == [""]


@pytest.mark.parametrize("language", ["en", "de-CH", "pt-BR", "zh-Hant-TW"])
def test_language_tags_are_accepted(language: str) -> None:
    item = FeedbackItemCreate.model_validate(
        {"occurred_at": "2024-05-01T09:30:00Z", "text": "ok", "language": language}
    )

    assert item.language == language


@pytest.mark.parametrize("language", ["english", "e", "en_GB", "en-", ""])
def test_malformed_language_tags_are_refused(language: str) -> None:
    assert fields_in_error(language=language) == ["language"]


def test_unknown_fields_and_oversized_parts_are_refused() -> None:
    assert fields_in_error(nps=9) == ["nps"]
    assert fields_in_error(channel="fax") == ["channel"]
    assert fields_in_error(text="x" * 100_001) == ["text"]
    assert fields_in_error(metadata={"blob": "x" * 70_000}) == ["metadata"]
