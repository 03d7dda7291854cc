"""Contact-frequency rules: who may be invited now, and why the others may not."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from touchpoints.customers.models import Customer, CustomerIdentity
from touchpoints.distribution.models import Invitation
from touchpoints.orgs.models import Workspace

DEFAULT_CONTACT_FREQUENCY_DAYS = 30
SETTING = "contact_frequency_days"
# Workspace setting holding {survey id: days}; a survey without an entry follows the workspace.
SURVEY_SETTING = "survey_contact_frequency_days"


@dataclass(frozen=True)
class Skipped:
    """A customer left out of a send, with the reason a person can read."""

    customer_id: str
    reason: str


def contact_frequency_days(workspace: Workspace, override: int | None = None) -> int:
    """Return the minimum days between two invitations: the override, else the workspace's."""
    if override is not None:
        return override
    configured = (workspace.settings or {}).get(SETTING)
    if isinstance(configured, int) and not isinstance(configured, bool) and configured >= 0:
        return configured
    return DEFAULT_CONTACT_FREQUENCY_DAYS


def survey_overrides(workspace: Workspace) -> dict[str, int]:
    """Return the surveys' own minimum days between invitations, by survey id."""
    stored = (workspace.settings or {}).get(SURVEY_SETTING)
    if not isinstance(stored, dict):
        return {}
    return {
        key: value
        for key, value in stored.items()
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0
    }


def survey_frequency_days(workspace: Workspace, survey_id: str, override: int | None = None) -> int:
    """Return the days that apply: the request's, else the survey's, else the workspace's."""
    if override is None:
        override = survey_overrides(workspace).get(survey_id)
    return contact_frequency_days(workspace, override)


def last_invited(db_session: Session, customer_ids: Sequence[str]) -> dict[str, datetime]:
    """Return when each customer was last invited, across every survey and channel."""
    statement = (
        select(Invitation.customer_id, func.max(Invitation.created_at))
        .where(Invitation.customer_id.in_(customer_ids))
        .group_by(Invitation.customer_id)
    )
    return {row[0]: row[1] for row in db_session.execute(statement)}


@dataclass(frozen=True)
class ChannelRule:
    """What a channel needs from a customer: a consent not refused and an identity to reach."""

    consent: str
    identity_kind: str
    missing: str


CHANNEL_RULES = {
    "email": ChannelRule(
        consent="consent_email", identity_kind="email", missing="no email address"
    ),
    "sms": ChannelRule(consent="consent_sms", identity_kind="phone", missing="no phone number"),
}


def addresses_of(db_session: Session, customer_ids: Sequence[str], kind: str) -> dict[str, str]:
    """Return one address (email or phone) per customer: the first recorded of that kind."""
    statement = (
        select(CustomerIdentity.customer_id, CustomerIdentity.value)
        .where(CustomerIdentity.customer_id.in_(customer_ids), CustomerIdentity.kind == kind)
        .order_by(CustomerIdentity.id)
    )
    found: dict[str, str] = {}
    for customer_id, value in db_session.execute(statement):
        found.setdefault(customer_id, value)
    return found


def email_addresses(db_session: Session, customer_ids: Sequence[str]) -> dict[str, str]:
    """Return one email address per customer (the first recorded)."""
    return addresses_of(db_session, customer_ids, "email")


def check_customers(
    db_session: Session,
    customers: Sequence[Customer],
    *,
    limit_days: int,
    now: datetime,
    channel: str = "email",
) -> tuple[list[tuple[Customer, str]], list[Skipped]]:
    """Split customers into (customer, address) to invite and those skipped with a reason."""
    rule = CHANNEL_RULES[channel]
    ids = [customer.id for customer in customers]
    invited = last_invited(db_session, ids)
    addresses = addresses_of(db_session, ids, rule.identity_kind)
    allowed: list[tuple[Customer, str]] = []
    skipped: list[Skipped] = []
    for customer in customers:
        reason = _refusal(customer, rule, addresses) or too_soon(
            invited.get(customer.id), limit_days, now
        )
        if reason is None:
            allowed.append((customer, addresses[customer.id]))
        else:
            skipped.append(Skipped(customer_id=customer.id, reason=reason))
    return allowed, skipped


def _refusal(customer: Customer, rule: ChannelRule, addresses: dict[str, str]) -> str | None:
    if getattr(customer, rule.consent) is False:
        return "unsubscribed"
    if customer.id not in addresses:
        return rule.missing
    return None


def too_soon(invited_at: datetime | None, limit_days: int, now: datetime) -> str | None:
    """Say why a customer invited at `invited_at` may not be invited again yet, else None."""
    if invited_at is not None and now - invited_at < timedelta(days=limit_days):
        days = (now - invited_at).days
        ago = "today" if days == 0 else f"{days} day{'s' if days != 1 else ''} ago"
        return f"invited {ago}; limit {limit_days} days"
    return None
