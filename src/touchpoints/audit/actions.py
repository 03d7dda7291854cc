"""Names of the audited actions recorded so far; later capabilities add their own."""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    """One kind of event in the audit log."""

    SIGN_IN = "auth.sign_in"
    SIGN_IN_FAILED = "auth.sign_in_failed"
    SIGN_IN_REFUSED_LOCKED = "auth.sign_in_refused_locked"
    ACCOUNT_LOCKED = "auth.account_locked"
    SIGN_OUT = "auth.sign_out"
    PASSWORD_RESET_REQUESTED = "auth.password_reset_requested"
    PASSWORD_RESET = "auth.password_reset"
    MEMBER_ADDED = "member.added"
    MEMBER_UPDATED = "member.updated"
    MEMBER_REMOVED = "member.removed"
    ORG_UNIT_CREATED = "org_unit.created"
    ORG_UNIT_UPDATED = "org_unit.updated"
    ORG_UNIT_DELETED = "org_unit.deleted"
    TOKEN_CREATED = "token.created"
    TOKEN_REVOKED = "token.revoked"
    CUSTOMER_MERGED = "customer.merged"
    WEBHOOK_SOURCE_CREATED = "webhook_source.created"
    WEBHOOK_SOURCE_DELETED = "webhook_source.deleted"
    SURVEY_CREATED = "survey.created"
    SURVEY_PUBLISHED = "survey.published"
    SURVEY_CLOSED = "survey.closed"
