"""Identity normalization: the forms people type become one stored form."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.factories.orgs import make_workspace
from touchpoints.customers.identities import (
    IdentityKind,
    NormalizedIdentity,
    normalize_email,
    normalize_external_id,
    normalize_identity,
    normalize_phone,
    phone_region,
)
from touchpoints.errors import InvalidInput


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ann@example.com", "ann@example.com"),
        ("  Ann.Smith@Example.COM \n", "ann.smith@example.com"),
        ("BOB+newsletter@Mail.Example.org", "bob+newsletter@mail.example.org"),
        ("o'connor@example.ie", "o'connor@example.ie"),
        ("jürgen@bücher.de", "jürgen@bücher.de"),
    ],
)
def test_emails_are_stripped_and_lowercased(typed: str, stored: str) -> None:
    assert normalize_email(typed) == stored


@pytest.mark.parametrize(
    "typed", ["not-an-email", "ann@", "@example.com", "ann@localhost", "ann smith@example.com", ""]
)
def test_invalid_emails_are_refused_naming_the_field(typed: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalize_email(typed, field="identities.0.value")
    assert caught.value.field == "identities.0.value"
    assert "not a valid email" in caught.value.reason


@pytest.mark.parametrize(
    ("typed", "region", "stored"),
    [
        ("(415) 555-0132", "US", "+14155550132"),
        ("415.555.2671", "US", "+14155552671"),
        ("+1 (202) 456-1111", "US", "+12024561111"),
        ("1-212-736-5000", "US", "+12127365000"),
        ("tel:+1-650-253-0000", "US", "+16502530000"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("0044 20 7946 0958", "GB", "+442079460958"),
        ("030 901820", "DE", "+4930901820"),
        ("+33 1 42 68 53 00", "DE", "+33142685300"),
    ],
)
def test_phones_become_e164(typed: str, region: str, stored: str) -> None:
    assert normalize_phone(typed, region=region) == stored


@pytest.mark.parametrize("typed", ["12345", "+1 555", "call me maybe", "+44 7700 900123", ""])
def test_invalid_phones_are_refused_naming_the_field(typed: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalize_phone(typed, field="phone")
    assert caught.value.field == "phone"
    assert "country code" in caught.value.reason


def test_national_numbers_depend_on_the_region() -> None:
    assert normalize_phone("020 7946 0958", region="GB") == "+442079460958"
    with pytest.raises(InvalidInput):
        normalize_phone("020 7946 0958", region="US")


def test_external_ids_keep_their_case_and_lose_surrounding_blanks() -> None:
    assert normalize_external_id("  CRM-00042 ") == "CRM-00042"
    with pytest.raises(InvalidInput) as caught:
        normalize_external_id("   ", field="external_id")
    assert caught.value.field == "external_id"


def test_external_ids_carry_a_source_and_emails_do_not() -> None:
    identity = normalize_identity(IdentityKind.EXTERNAL_ID, " A-1 ", source=" crm ")
    assert identity == NormalizedIdentity(IdentityKind.EXTERNAL_ID, "crm", "A-1")
    with pytest.raises(InvalidInput) as caught:
        normalize_identity(IdentityKind.EMAIL, "ann@example.com", source="crm")
    assert caught.value.field == "source"


def test_identity_kinds_dispatch_to_their_normalizer() -> None:
    email = normalize_identity(IdentityKind.EMAIL, "ANN@EXAMPLE.COM")
    phone = normalize_identity(IdentityKind.PHONE, "030 901820", region="DE")
    assert (email.kind, email.source, email.value) == ("email", "", "ann@example.com")
    assert phone.value == "+4930901820"


def test_phone_region_comes_from_workspace_settings(db_session: Session) -> None:
    plain = make_workspace(db_session)
    british = make_workspace(db_session)
    british.settings = {"default_phone_region": "gb"}
    odd = make_workspace(db_session)
    odd.settings = {"default_phone_region": "Atlantis"}
    db_session.flush()
    assert phone_region(db_session=db_session, workspace_id=plain.id) == "US"
    assert phone_region(db_session=db_session, workspace_id=british.id) == "GB"
    assert phone_region(db_session=db_session, workspace_id=odd.id) == "US"
