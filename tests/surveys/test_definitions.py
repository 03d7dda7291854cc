"""Survey definitions: validation errors name the field; YAML and JSON round trips."""

from __future__ import annotations

from typing import Any

import pytest

from tests.surveys.samples import checkout
from touchpoints.errors import InvalidInput
from touchpoints.surveys.definitions import dump_document, load_document, parse_definition


def _question(definition: dict[str, Any], page: int, index: int) -> dict[str, Any]:
    question: dict[str, Any] = definition["pages"][page]["questions"][index]
    return question


def _refused(definition: dict[str, Any]) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_definition(definition)
    return caught.value


def test_sample_definition_is_valid() -> None:
    definition = parse_definition(checkout())
    assert [q.id for _, q in definition.questions()][:3] == ["nps", "why", "csat"]


def test_duplicate_question_id_is_named() -> None:
    definition = checkout()
    _question(definition, 1, 1)["id"] = "nps"
    error = _refused(definition)
    assert error.field == "pages.1.questions.1.id"
    assert "used twice" in error.reason


def test_show_if_must_refer_to_an_earlier_question() -> None:
    definition = checkout()
    _question(definition, 0, 1)["show_if"]["question"] = "csat"
    error = _refused(definition)
    assert error.field == "pages.0.questions.1.show_if.question"
    assert "earlier question" in error.reason


def test_choice_question_needs_choices() -> None:
    definition = checkout()
    del _question(definition, 1, 3)["choices"]
    error = _refused(definition)
    assert error.field == "pages.1.questions.3.choices"


def test_every_text_needs_the_default_language() -> None:
    definition = checkout(default_language="fr")
    error = _refused(definition)
    assert error.field == "pages.0.questions.1.text"
    assert "'fr'" in error.reason


def test_unknown_question_type_and_unknown_fields_are_named() -> None:
    definition = checkout()
    _question(definition, 0, 0)["type"] = "stars"
    assert _refused(definition).field == "pages.0.questions.0.type"
    definition = checkout()
    _question(definition, 0, 0)["colour"] = "red"
    assert _refused(definition).field == "pages.0.questions.0.colour"


def test_lte_condition_needs_a_number() -> None:
    definition = checkout()
    _question(definition, 0, 1)["show_if"]["value"] = "six"
    assert _refused(definition).field == "pages.0.questions.1.show_if.value"


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_round_trip_keeps_the_definition(fmt: str) -> None:
    original = parse_definition(checkout())
    text = dump_document(original, fmt)
    again = parse_definition(load_document(text, fmt))
    assert again == original


def test_flat_questions_make_one_page() -> None:
    document = load_document(
        "name: Quick\ntitle: {en: Quick}\nquestions:\n"
        "  - {id: score, type: csat, text: {en: Happy}}\n",
        "yaml",
    )
    definition = parse_definition(document)
    assert len(definition.pages) == 1
    assert definition.pages[0].questions[0].scale() == (1, 5)


def test_unreadable_document_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        load_document("name: [unclosed", "yaml")
    assert caught.value.field == "body"
