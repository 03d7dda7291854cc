"""Sign-in rules: password check with lockout, session-ready identities, password reset.

Every refusal shows the same GENERIC_FAILURE message, whether the email is unknown, the
password wrong, the account deactivated or locked. A distinct "locked" message would tell an
attacker which guesses hit a real account, and one shown only after the right password would
confirm a guessed password during the lockout; so the generic message mentions the lockout and
the way out (wait, or reset the password), and the lockout itself is in the audit log.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from touchpoints.audit.actions import AuditAction
from touchpoints.audit.service import record
from touchpoints.auth.models import Membership, PasswordReset, User, WebSession
from touchpoints.auth.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from touchpoints.auth.service import get_user_by_email
from touchpoints.config import Settings
from touchpoints.db.base import utcnow
from touchpoints.errors import InvalidInput
from touchpoints.mail.base import Mailer, MailNotSent, OutgoingEmail
from touchpoints.orgs.models import Workspace

logger = logging.getLogger(__name__)
GENERIC_FAILURE = (
    "The email or password is not right, or the account is locked after too many wrong "
    "passwords. Check both and try again in a few minutes, or reset your password."
)
NO_WORKSPACE = "Your account does not belong to any workspace yet; ask an admin to add you."
RESET_LINK_INVALID = "This reset link has expired or was already used; ask for a new one."


class SignInRefused(Exception):
    """A sign-in that did not go through; `message` is safe to show to anyone."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class VerifiedSignIn:
    """A user whose identity is proven, and the workspace their session opens in."""

    user: User
    workspace_id: str


@cache
def _decoy_hash() -> str:
    # Verifying against a decoy makes unknown emails take as long as known ones.
    return hash_password(secrets.token_urlsafe(16))


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(
    *, db_session: Session, settings: Settings, email: str, password: str, ip_address: str | None
) -> User:
    """Check an email and password; count failures and lock the account after too many."""
    user = get_user_by_email(db_session=db_session, email=email)
    if user is None or user.password_hash is None:
        verify_password(_decoy_hash(), password)
        _record_failure(db_session, user, email, ip_address, "unknown email or no password")
        raise SignInRefused(GENERIC_FAILURE)
    if user.locked_until is not None and user.locked_until > utcnow():
        verify_password(_decoy_hash(), password)
        _audit(db_session, AuditAction.SIGN_IN_REFUSED_LOCKED, user, ip_address)
        raise SignInRefused(GENERIC_FAILURE)
    if not verify_password(user.password_hash, password):
        _count_failure(db_session, settings, user, ip_address)
        raise SignInRefused(GENERIC_FAILURE)
    if not user.is_active:
        _record_failure(db_session, user, email, ip_address, "account deactivated")
        raise SignInRefused(GENERIC_FAILURE)
    user.failed_logins = 0
    user.locked_until = None
    return user


def _count_failure(
    db_session: Session, settings: Settings, user: User, ip_address: str | None
) -> None:
    # An SQL increment, so parallel wrong guesses are all counted.
    user.failed_logins = User.failed_logins + 1
    db_session.flush()
    db_session.refresh(user, ["failed_logins"])
    _record_failure(db_session, user, user.email, ip_address, "wrong password")
    if user.failed_logins >= settings.login_max_failures:
        user.locked_until = utcnow() + timedelta(minutes=settings.login_lockout_minutes)
        user.failed_logins = 0
        _audit(
            db_session,
            AuditAction.ACCOUNT_LOCKED,
            user,
            ip_address,
            {"minutes": settings.login_lockout_minutes},
        )


def _record_failure(
    db_session: Session, user: User | None, email: str, ip_address: str | None, reason: str
) -> None:
    record(
        db_session=db_session,
        action=AuditAction.SIGN_IN_FAILED,
        workspace_id=None,
        actor_user_id=user.id if user else None,
        actor_email=user.email if user else email.strip()[:320],
        object_type="user" if user else None,
        object_id=user.id if user else None,
        details={"reason": reason},
        ip_address=ip_address,
    )


def _audit(
    db_session: Session,
    action: AuditAction,
    user: User,
    ip_address: str | None,
    details: dict[str, object] | None = None,
    workspace_id: str | None = None,
) -> None:
    record(
        db_session=db_session,
        action=action,
        workspace_id=workspace_id,
        actor_user_id=user.id,
        actor_email=user.email,
        object_type="user",
        object_id=user.id,
        details=dict(details or {}),
        ip_address=ip_address,
    )


def sign_in_verified(
    *, db_session: Session, email: str, ip_address: str | None, method: str
) -> VerifiedSignIn:
    """Sign in a user whose email is proven (password now, single sign-on later)."""
    user = get_user_by_email(db_session=db_session, email=email)
    if user is None or not user.is_active:
        raise SignInRefused(GENERIC_FAILURE)
    workspace_id = db_session.scalar(
        select(Workspace.id)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == user.id)
        .order_by(Workspace.name, Workspace.id)
        .limit(1)
    )
    if workspace_id is None:
        raise SignInRefused(NO_WORKSPACE)
    user.last_login_at = utcnow()
    _audit(db_session, AuditAction.SIGN_IN, user, ip_address, {"method": method}, workspace_id)
    return VerifiedSignIn(user=user, workspace_id=workspace_id)


def record_sign_out(
    *, db_session: Session, user: User, workspace_id: str, ip_address: str | None
) -> None:
    """Record that a user signed out."""
    _audit(db_session, AuditAction.SIGN_OUT, user, ip_address, workspace_id=workspace_id)


def request_reset(
    *,
    db_session: Session,
    settings: Settings,
    mailer: Mailer,
    email: str,
    ip_address: str | None,
) -> None:
    """Email a one-time reset link if the address belongs to an active user; else do nothing."""
    user = get_user_by_email(db_session=db_session, email=email)
    if user is None or not user.is_active:
        logger.info("password reset asked for an address without an active account")
        return
    token = secrets.token_urlsafe(32)
    minutes = settings.password_reset_minutes
    db_session.add(
        PasswordReset(
            user_id=user.id,
            token_hash=_sha256(token),
            expires_at=utcnow() + timedelta(minutes=minutes),
        )
    )
    db_session.flush()
    _audit(db_session, AuditAction.PASSWORD_RESET_REQUESTED, user, ip_address)
    link = f"{settings.public_url.rstrip('/')}/reset-password?token={token}"
    try:
        mailer.send(reset_email(to=user.email, link=link, minutes=minutes))
    except MailNotSent:
        logger.exception("the password-reset email to user %s was not sent", user.id)


def reset_email(*, to: str, link: str, minutes: int) -> OutgoingEmail:
    """Write the email that carries a password-reset link."""
    text = (
        f"Someone, hopefully you, asked to reset the password of the Touchpoints account {to}.\n\n"
        f"Open this link within {minutes} minutes to choose a new password:\n\n{link}\n\n"
        "The link works once. If you did not ask for this, ignore this email: "
        "your password stays as it is.\n"
    )
    return OutgoingEmail(to=to, subject="Reset your Touchpoints password", text=text)


def find_reset(*, db_session: Session, token: str) -> PasswordReset | None:
    """Return the unused, unexpired reset a link's token stands for, if any."""
    if not token:
        return None
    reset = db_session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == _sha256(token))
    )
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
        return None
    return reset


def complete_reset(
    *, db_session: Session, token: str, new_password: str, ip_address: str | None
) -> User:
    """Set a new password from a reset link: once only; signs out every browser, unlocks."""
    reset = find_reset(db_session=db_session, token=token)
    user = db_session.get(User, reset.user_id) if reset else None
    if reset is None or user is None or not user.is_active:
        raise InvalidInput("token", RESET_LINK_INVALID)
    if len(new_password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password", f"use at least {MIN_PASSWORD_LENGTH} characters")
    now = utcnow()
    consumed = db_session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session="fetch")
    )
    if getattr(consumed, "rowcount", 0) != 1:  # another request used the link first
        raise InvalidInput("token", RESET_LINK_INVALID)
    user.password_hash = hash_password(new_password)
    user.failed_logins = 0
    user.locked_until = None
    db_session.execute(
        update(WebSession)
        .where(WebSession.user_id == user.id, WebSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session="fetch")
    )
    _audit(db_session, AuditAction.PASSWORD_RESET, user, ip_address)
    return user
