"""Properties of identity normalization: a normalized value normalizes to itself."""

from __future__ import annotations

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from touchpoints.customers.identities import normalize_email, normalize_phone

REGIONS = ["US", "GB", "DE", "FR", "NL", "ES", "IT", "JP", "BR", "IN"]


@st.composite
def valid_numbers(draw: st.DrawFn) -> tuple[str, str]:
    region = draw(st.sampled_from(REGIONS))
    example = phonenumbers.example_number(region)
    assert example is not None
    style = draw(
        st.sampled_from(
            [
                phonenumbers.PhoneNumberFormat.E164,
                phonenumbers.PhoneNumberFormat.INTERNATIONAL,
                phonenumbers.PhoneNumberFormat.NATIONAL,
            ]
        )
    )
    return phonenumbers.format_number(example, style), region


@settings(max_examples=60, deadline=None)
@given(valid_numbers())
def test_phone_normalization_is_idempotent_and_e164(number: tuple[str, str]) -> None:
    raw, region = number
    once = normalize_phone(raw, region=region)
    assert once.startswith("+")
    assert once[1:].isdigit()
    assert normalize_phone(once, region="US") == once


@settings(max_examples=60, deadline=None)
@given(
    st.from_regex(r"[A-Za-z0-9._%+-]{1,20}", fullmatch=True),
    st.sampled_from(["Example.COM", "mail.example.org", "Acme.Travel"]),
    st.sampled_from(["", " ", "\t"]),
)
def test_email_normalization_is_idempotent(local: str, domain: str, pad: str) -> None:
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return
    once = normalize_email(f"{pad}{local}@{domain}{pad}")
    assert once == once.lower() == once.strip()
    assert normalize_email(once) == once
