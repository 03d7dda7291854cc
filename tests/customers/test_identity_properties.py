"""Properties of identity normalization: a normalized value normalizes to itself."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from touchpoints.customers.identities import _is_plain_email, normalize_email, normalize_phone
from touchpoints.errors import InvalidInput

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


# Pieces that put addresses near every edge of the plain-address shortcut.
ADDRESS_PIECES = st.lists(
    st.sampled_from(
        [
            "a",
            "Z",
            "0",
            "9",
            ".",
            "-",
            "--",
            "+",
            "_",
            "'",
            "!",
            "~",
            "@",
            "xn--",
            "é",
            '"',
            " ",
            "localhost",
            "test",
            "local",
            "onion",
            "com",
            "Co",
            "123",
            "a" * 63,
            "b" * 64,
        ]
    ),
    min_size=1,
    max_size=12,
)


def _by_email_validator(address: str) -> str | None:
    try:
        checked = validate_email(address.strip(), check_deliverability=False)
    except EmailNotValidError:
        return None
    return checked.normalized.lower()


@settings(max_examples=3_000, deadline=None)
@given(ADDRESS_PIECES, ADDRESS_PIECES)
def test_the_plain_address_shortcut_agrees_with_email_validator(
    local: list[str], domain: list[str]
) -> None:
    address = "".join(local) + "@" + "".join(domain)
    expected = _by_email_validator(address)
    try:
        normalized = normalize_email(address)
    except InvalidInput:
        normalized = None
    assert normalized == expected
    if _is_plain_email(address.strip()):
        assert expected == address.strip().lower()


def test_the_shortcut_takes_everyday_addresses_and_leaves_the_rest() -> None:
    assert _is_plain_email("Jane.Doe+air@Mail.Example.COM")
    for unusual in ("x@xn--bcher-kva.example", '"q"@x.com', "x@foo.test", "x@1.2.3.4", "é@x.com"):
        assert not _is_plain_email(unusual)
    assert not _is_plain_email("a" * 65 + "@x.com")
    assert not _is_plain_email("x@" + "a" * 64 + ".com")
