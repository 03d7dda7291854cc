"""Web sessions: a signed HttpOnly cookie pointing at a server-side session row."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from touchpoints.auth.models import Membership, User, WebSession
from touchpoints.auth.permissions import Principal, Role
from touchpoints.config import Settings
from touchpoints.db.base import utcnow
from touchpoints.orgs.models import OrgUnit, Workspace

SESSION_COOKIE = "tp_session"
LOGIN_CSRF_COOKIE = "tp_login_csrf"
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


def _serializer(settings: Settings, salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key.get_secret_value(), salt=salt)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def sign(settings: Settings, value: str, *, salt: str) -> str:
    """Sign a value for a cookie."""
    return str(_serializer(settings, salt).dumps(value))


def unsign(settings: Settings, cookie: str | None, *, salt: str) -> str | None:
    """Return the value of a signed cookie, or None when it is missing or tampered with."""
    if not cookie:
        return None
    try:
        value = _serializer(settings, salt).loads(cookie)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def tokens_match(expected: str, given: str | None) -> bool:
    """Compare two CSRF tokens in constant time."""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def start_session(
    *,
    db_session: Session,
    settings: Settings,
    user: User,
    workspace_id: str,
    ip_address: str | None,
    user_agent: str | None,
) -> tuple[WebSession, str]:
    """Create a session for a user who just proved who they are; return it and the cookie."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    web_session = WebSession(
        user_id=user.id,
        workspace_id=workspace_id,
        token_hash=_hash(secret),
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings.session_max_age_hours),
        ip_address=ip_address,
        user_agent=(user_agent or "")[:300] or None,
    )
    db_session.add(web_session)
    db_session.flush()
    return web_session, sign(settings, secret, salt="session")


def find_session(
    *, db_session: Session, settings: Settings, cookie: str | None
) -> WebSession | None:
    """Return the live session a cookie points at, refreshing its last-seen time."""
    secret = unsign(settings, cookie, salt="session")
    if secret is None:
        return None
    web_session = db_session.scalar(
        select(WebSession).where(WebSession.token_hash == _hash(secret))
    )
    now = utcnow()
    if web_session is None or web_session.revoked_at is not None:
        return None
    idle = timedelta(minutes=settings.session_idle_minutes)
    if web_session.expires_at <= now or web_session.last_seen_at + idle <= now:
        return None
    if now - web_session.last_seen_at > LAST_SEEN_RESOLUTION:
        web_session.last_seen_at = now
    return web_session


def end_session(web_session: WebSession) -> None:
    """Sign a browser out: the cookie stops working even if someone kept a copy."""
    web_session.revoked_at = utcnow()


@dataclass(frozen=True)
class WebCaller:
    """The signed-in user of a page: who, where, with which role and scope."""

    user: User
    session: WebSession
    workspace: Workspace
    membership: Membership
    principal: Principal
    org_unit_filter: OrgUnit | None
    home_unit: OrgUnit | None


def web_caller(*, db_session: Session, web_session: WebSession) -> WebCaller | None:
    """Build the caller of a page from a live session, or None if access was withdrawn."""
    row = db_session.execute(
        select(User, Membership, Workspace)
        .join(Membership, Membership.user_id == User.id)
        .join(Workspace, Workspace.id == Membership.workspace_id)
        .where(User.id == web_session.user_id, Workspace.id == web_session.workspace_id)
    ).first()
    if row is None or not row[0].is_active:
        return None
    user, membership, workspace = row
    home = db_session.get(OrgUnit, membership.org_unit_id) if membership.org_unit_id else None
    chosen = effective_filter(db_session, web_session.org_unit_filter_id, workspace.id, home)
    path = chosen.path if chosen else (home.path if home else None)
    principal = Principal(
        workspace_id=workspace.id, user_id=user.id, role=Role(membership.role), org_unit_path=path
    )
    return WebCaller(user, web_session, workspace, membership, principal, chosen, home)


def effective_filter(
    db_session: Session, unit_id: str | None, workspace_id: str, home: OrgUnit | None
) -> OrgUnit | None:
    """Return the chosen org-unit filter if it lies inside the user's own scope."""
    if unit_id is None:
        return None
    unit = db_session.get(OrgUnit, unit_id)
    if unit is None or unit.workspace_id != workspace_id:
        return None
    if home is not None and not unit.path.startswith(home.path):
        return None
    return unit


def workspaces_of(*, db_session: Session, user_id: str) -> list[Workspace]:
    """Return the workspaces a user belongs to, for the workspace switcher."""
    return list(
        db_session.scalars(
            select(Workspace)
            .join(Membership, Membership.workspace_id == Workspace.id)
            .where(Membership.user_id == user_id)
            .order_by(Workspace.name)
        )
    )
