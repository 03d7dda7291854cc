"""Schemas for workspaces and org units."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class WorkspaceRead(BaseModel):
    """A workspace (tenant)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    slug: str
    name: str
    settings: dict[str, Any]
    created_at: datetime


class OrgUnitBase(BaseModel):
    """Fields shared by org-unit schemas."""

    code: str = Field(min_length=1, max_length=64, description="Stable code, unique per workspace.")
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(default="unit", max_length=40, description="region, store, team ...")


class OrgUnitCreate(OrgUnitBase):
    """A new org unit, optionally under a parent."""

    parent_id: str | None = None


class OrgUnitUpdate(BaseModel):
    """Changes to an org unit's name or kind."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: str | None = Field(default=None, max_length=40)


class OrgUnitRead(OrgUnitBase):
    """An org unit with its place in the tree."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    parent_id: str | None
    path: str
    created_at: datetime
