"""Users, memberships and API tokens; resolves a bearer token to a Principal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from touchpoints.auth.models import ApiToken, Membership, User
from touchpoints.auth.passwords import hash_password
from touchpoints.auth.permissions import Permission, Principal, Role, require
from touchpoints.auth.tokens import TOKEN_PREFIX, generate_token, hash_token
from touchpoints.db.base import utcnow
from touchpoints.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from touchpoints.orgs.models import OrgUnit

LAST_USED_RESOLUTION = timedelta(minutes=5)


@dataclass(frozen=True)
class Member:
    """A user together with their membership in one workspace."""

    user: User
    membership: Membership


def normalize_user_email(email: str) -> str:
    """Return the email stripped and lowercased, refusing one that is not a valid address."""
    try:
        checked = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput("email", f"{email!r} is not a valid email address: {exc}") from exc
    return checked.normalized.lower()


def get_user_by_email(*, db_session: Session, email: str) -> User | None:
    """Return the user with this email (case-insensitive), if any."""
    return db_session.scalar(select(User).where(User.email == email.strip().lower()))


def create_member(
    *,
    db_session: Session,
    workspace_id: str,
    email: str,
    display_name: str,
    role: Role,
    org_unit_id: str | None = None,
    password: str | None = None,
) -> Member:
    """Add a user to a workspace, creating the user when the email is new."""
    if org_unit_id is not None:
        _get_org_unit(db_session=db_session, workspace_id=workspace_id, org_unit_id=org_unit_id)
    email = normalize_user_email(email)
    user = get_user_by_email(db_session=db_session, email=email)
    if user is None:
        user = User(email=email, display_name=display_name)
        db_session.add(user)
    if password is not None:
        user.password_hash = hash_password(password)
    db_session.flush()
    existing = db_session.scalar(
        select(Membership).where(
            Membership.workspace_id == workspace_id, Membership.user_id == user.id
        )
    )
    if existing is not None:
        raise Conflict(f"{user.email} is already a member of this workspace")
    membership = Membership(
        workspace_id=workspace_id, user_id=user.id, role=role.value, org_unit_id=org_unit_id
    )
    db_session.add(membership)
    db_session.flush()
    return Member(user=user, membership=membership)


def _get_org_unit(*, db_session: Session, workspace_id: str, org_unit_id: str) -> OrgUnit:
    unit = db_session.get(OrgUnit, org_unit_id)
    if unit is None or unit.workspace_id != workspace_id:
        raise NotFound(f"org unit {org_unit_id} not found")
    return unit


def first_admin(*, db_session: Session, workspace_id: str) -> Member | None:
    """Return the earliest admin of a workspace."""
    row = db_session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace_id, Membership.role == Role.ADMIN.value)
        .order_by(Membership.created_at, Membership.id)
        .limit(1)
    ).first()
    return Member(user=row[0], membership=row[1]) if row else None


def issue_token(
    *,
    db_session: Session,
    workspace_id: str,
    user_id: str,
    name: str,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create an API token for a member; return the row and the plaintext (shown once)."""
    plaintext, prefix, token_hash = generate_token()
    token = ApiToken(
        workspace_id=workspace_id,
        user_id=user_id,
        name=name,
        prefix=prefix,
        token_hash=token_hash,
        expires_at=expires_at,
    )
    db_session.add(token)
    db_session.flush()
    return token, plaintext


def create_token(
    *, db_session: Session, actor: Principal, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create an API token for the calling user."""
    require(actor, Permission.TOKENS_MANAGE)
    return issue_token(
        db_session=db_session,
        workspace_id=actor.workspace_id,
        user_id=actor.user_id,
        name=name,
        expires_at=expires_at,
    )


def list_tokens(*, db_session: Session, actor: Principal) -> list[ApiToken]:
    """List the workspace's tokens (admins) without their secrets."""
    require(actor, Permission.TOKENS_MANAGE)
    return list(
        db_session.scalars(
            select(ApiToken)
            .where(ApiToken.workspace_id == actor.workspace_id)
            .order_by(ApiToken.created_at, ApiToken.id)
        )
    )


def revoke_token(*, db_session: Session, actor: Principal, token_id: str) -> ApiToken:
    """Revoke a token so it stops working at once."""
    require(actor, Permission.TOKENS_MANAGE)
    token = db_session.get(ApiToken, token_id)
    if token is None or token.workspace_id != actor.workspace_id:
        raise NotFound(f"API token {token_id} not found")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def principal_for_token(*, db_session: Session, plaintext: str) -> Principal:
    """Resolve a bearer token to the caller it stands for, or raise Unauthenticated."""
    if not plaintext.startswith(TOKEN_PREFIX):
        raise Unauthenticated("the bearer token is not a Touchpoints API token")
    # One plain row (no ORM objects): every API request pays for this lookup.
    row = db_session.execute(_TOKEN_LOOKUP, {"token_hash": hash_token(plaintext)}).first()
    if row is None:
        raise Unauthenticated("unknown API token")
    now = utcnow()
    if row.revoked_at is not None:
        raise Unauthenticated("this API token was revoked")
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthenticated("this API token has expired")
    if not row.is_active:
        raise Unauthenticated("the user of this API token is deactivated")
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        db_session.execute(
            update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now),
            execution_options={"synchronize_session": False},
        )
    return Principal(
        workspace_id=row.workspace_id,
        user_id=row.user_id,
        role=Role(row.role),
        org_unit_path=row.path,
    )


_TOKEN_LOOKUP = (
    select(
        ApiToken.id,
        ApiToken.workspace_id,
        ApiToken.user_id,
        ApiToken.last_used_at,
        ApiToken.expires_at,
        ApiToken.revoked_at,
        User.is_active,
        Membership.role,
        OrgUnit.path,
    )
    .join(User, User.id == ApiToken.user_id)
    .join(
        Membership,
        (Membership.user_id == ApiToken.user_id)
        & (Membership.workspace_id == ApiToken.workspace_id),
    )
    .outerjoin(OrgUnit, OrgUnit.id == Membership.org_unit_id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)


def is_member(*, db_session: Session, workspace_id: str, user_id: str) -> bool:
    """Tell whether the user belongs to the workspace."""
    return (
        db_session.scalar(
            select(Membership.id).where(
                Membership.workspace_id == workspace_id, Membership.user_id == user_id
            )
        )
        is not None
    )
