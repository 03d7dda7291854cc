"""Normalize the ways a customer is recognised: email, phone (E.164) and external ids."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from touchpoints.errors import InvalidInput
from touchpoints.orgs.models import Workspace

FALLBACK_PHONE_REGION = "US"
PHONE_REGION_SETTING = "default_phone_region"
MAX_VALUE_LENGTH = 320
MAX_SOURCE_LENGTH = 64
# An everyday ASCII address that email_validator accepts and would only lowercase the domain
# of: a dot-atom local part of at most 64 characters; a domain of two or more labels of letters,
# digits and single inner hyphens (no `--`, so no Punycode), ending in letters. Anything else
# (quotes, Unicode, IP literals, reserved names) takes email_validator's full path.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?!-))*(?<!-)"
PLAIN_EMAIL = re.compile(
    rf"(?=.{{1,64}}@)({_ATEXT}+(?:\.{_ATEXT}+)*)@((?:{_LABEL}\.)+([A-Za-z]+))", re.ASCII
)
MAX_PLAIN_DOMAIN = 253
MAX_PLAIN_EMAIL = 254
MAX_LABEL = 63


class IdentityKind(StrEnum):
    """How an identity recognises a customer."""

    EMAIL = "email"
    PHONE = "phone"
    EXTERNAL_ID = "external_id"


@dataclass(frozen=True, slots=True)
class NormalizedIdentity:
    """An identity in the one form it is stored and looked up in."""

    kind: IdentityKind
    source: str
    value: str


def normalize_email(value: str, *, field: str = "email") -> str:
    """Return the email stripped and lowercased, refusing one that is not a valid address."""
    stripped = value.strip()
    if _is_plain_email(stripped):
        return stripped.lower()  # what email_validator's answer, lowercased, would be
    try:
        checked = validate_email(stripped, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(field, f"{value!r} is not a valid email address: {exc}") from exc
    return checked.normalized.lower()


def _is_plain_email(value: str) -> bool:
    """Tell whether an address is one PLAIN_EMAIL vouches for (about 1 µs, not 50)."""
    match = PLAIN_EMAIL.fullmatch(value)
    if match is None or len(value) > MAX_PLAIN_EMAIL:
        return False
    domain = match.group(2)
    return (
        len(domain) <= MAX_PLAIN_DOMAIN
        and match.group(3).lower() not in SPECIAL_USE_DOMAIN_NAMES
        and all(len(label) <= MAX_LABEL for label in domain.split("."))
    )


def normalize_phone(
    value: str, *, region: str = FALLBACK_PHONE_REGION, field: str = "phone"
) -> str:
    """Return the phone number in E.164 (`+14155550132`); national numbers use `region`."""
    hint = f"write it with its country code (+44 20 7946 0958) or as a {region} number"
    try:
        number = phonenumbers.parse(value.strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(field, f"{value!r} is not a phone number; {hint}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(field, f"{value!r} is not a valid phone number; {hint}")
    formatted: str = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return formatted


def normalize_external_id(value: str, *, field: str = "external_id") -> str:
    """Return the external id stripped of surrounding blanks, otherwise as given."""
    stripped = value.strip()
    if not stripped:
        raise InvalidInput(field, "an external id cannot be blank")
    if len(stripped) > MAX_VALUE_LENGTH:
        raise InvalidInput(field, f"an external id has at most {MAX_VALUE_LENGTH} characters")
    return stripped


def normalize_source(source: str, *, kind: IdentityKind, field: str = "source") -> str:
    """Return the namespace of an external id (`crm`, `shop`); emails and phones have none."""
    stripped = source.strip()
    if stripped and kind is not IdentityKind.EXTERNAL_ID:
        raise InvalidInput(field, f"only external ids have a source; leave it empty for {kind}")
    if len(stripped) > MAX_SOURCE_LENGTH:
        raise InvalidInput(field, f"a source has at most {MAX_SOURCE_LENGTH} characters")
    return stripped


def normalize_identity(
    kind: IdentityKind,
    value: str,
    *,
    source: str = "",
    region: str = FALLBACK_PHONE_REGION,
    field: str = "value",
    source_field: str = "source",
) -> NormalizedIdentity:
    """Normalize one identity of any kind; errors name `field` (or `source_field`)."""
    clean_source = normalize_source(source, kind=kind, field=source_field)
    if kind is IdentityKind.EMAIL:
        clean_value = normalize_email(value, field=field)
    elif kind is IdentityKind.PHONE:
        clean_value = normalize_phone(value, region=region, field=field)
    else:
        clean_value = normalize_external_id(value, field=field)
    return NormalizedIdentity(kind=kind, source=clean_source, value=clean_value)


def phone_region(*, db_session: Session, workspace_id: str) -> str:
    """Return the region national phone numbers belong to (workspace setting, else US)."""
    workspace = db_session.get(Workspace, workspace_id)
    configured = workspace.settings.get(PHONE_REGION_SETTING) if workspace else None
    if isinstance(configured, str) and configured.upper() in phonenumbers.SUPPORTED_REGIONS:
        return configured.upper()
    return FALLBACK_PHONE_REGION
