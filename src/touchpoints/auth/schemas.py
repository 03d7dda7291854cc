"""Schemas for users, memberships and API tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from touchpoints.auth.passwords import MIN_PASSWORD_LENGTH
from touchpoints.auth.permissions import Role


class UserBase(BaseModel):
    """Fields shared by every user schema."""

    email: EmailStr
    display_name: str = Field(min_length=1, max_length=200)


class UserCreate(UserBase):
    """A new member of the caller's workspace."""

    role: Role = Role.VIEWER
    org_unit_id: str | None = Field(
        default=None, description="Limit the user to this org unit and everything under it."
    )
    password: str | None = Field(
        default=None,
        min_length=MIN_PASSWORD_LENGTH,
        description="Optional; users without one use API tokens (or, later, single sign-on).",
    )


class UserUpdate(BaseModel):
    """Changes to a member: role, scope, name or active flag."""

    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    org_unit_id: str | None = None
    is_active: bool | None = None


class UserRead(BaseModel):
    """A member of the workspace as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    email: str
    display_name: str
    id: str
    role: Role
    org_unit_id: str | None
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


class ApiTokenCreate(BaseModel):
    """A new API token for the calling user."""

    name: str = Field(min_length=1, max_length=200, description="What the token is for.")
    expires_at: datetime | None = Field(default=None, description="When the token stops working.")


class ApiTokenRead(BaseModel):
    """An API token without its secret."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    prefix: str
    user_id: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class ApiTokenCreated(ApiTokenRead):
    """A newly created token; `token` is shown this once and never again."""

    token: str
