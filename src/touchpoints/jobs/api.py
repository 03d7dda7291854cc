"""Routes to follow background jobs and revive dead ones."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from touchpoints.api.deps import ActorDep, ListParamsDep, SessionDep
from touchpoints.api.listing import Page
from touchpoints.api.writes import WriteRequestDep, respond
from touchpoints.jobs import service
from touchpoints.jobs.schemas import JobRead

router = APIRouter(tags=["jobs"])


@router.get("/jobs", response_model=Page[JobRead], summary="List jobs")
def list_jobs(session: SessionDep, actor: ActorDep, params: ListParamsDep) -> Page[JobRead]:
    """List the workspace's jobs, newest first.

    Filterable and sortable by kind, status, priority, attempts, run_at, finished_at,
    created_at, updated_at. Dead letters: `filter=status:eq:dead`.
    """
    items, total = service.list_jobs(db_session=session, actor=actor, params=params)
    return Page(
        items=[JobRead.model_validate(job) for job in items],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


@router.get("/jobs/{job_id}", response_model=JobRead, summary="Read a job")
def read_job(job_id: str, session: SessionDep, actor: ActorDep) -> JobRead:
    """Return one job, with the last error of a failing or dead job."""
    return JobRead.model_validate(service.get_job(db_session=session, actor=actor, job_id=job_id))


@router.post("/jobs/{job_id}/retry", response_model=JobRead, summary="Retry a dead job")
def retry_job(
    job_id: str, session: SessionDep, actor: ActorDep, write: WriteRequestDep
) -> JSONResponse:
    """Queue a dead job again with its attempts reset (admins); 409 unless it is dead."""
    return respond(
        write,
        db_session=session,
        actor=actor,
        status_code=200,
        write=lambda: JobRead.model_validate(
            service.retry_dead(db_session=session, actor=actor, job_id=job_id)
        ),
    )
