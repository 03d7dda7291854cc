"""Schemas for jobs as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from touchpoints.jobs.models import JobStatus


class JobRead(BaseModel):
    """A background job: what it does, where it stands, and why it last failed."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    workspace_id: str | None
    kind: str = Field(description="What the job does, like `feedback.enrich`.")
    payload: dict[str, Any] = Field(description="The job's input, usually ids.")
    status: JobStatus = Field(
        description="queued (waiting or retrying), running, done, or dead (gave up; retry it)."
    )
    priority: int = Field(description="Higher runs first among due jobs.")
    attempts: int = Field(description="Failed attempts so far.")
    max_attempts: int = Field(description="The job goes dead when attempts reach this.")
    run_at: datetime = Field(description="When the job is due (the next retry when failing).")
    locked_by: str | None = Field(description="The worker running the job, if any.")
    locked_at: datetime | None
    finished_at: datetime | None = Field(description="When the job became done or dead.")
    last_error: str | None = Field(description="The end of the last failure's traceback.")
    dedupe_key: str | None = Field(
        description="Jobs with the same key run once at a time; `#<id>` is added when one ends."
    )
    created_at: datetime
    updated_at: datetime
