"""Routes for the caller's workspace and its org units."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from touchpoints.api.deps import ActorDep, ListParamsDep, SessionDep, client_address
from touchpoints.api.listing import Page
from touchpoints.api.writes import WriteRequestDep, respond
from touchpoints.audit.actions import AuditAction
from touchpoints.audit.service import record_change
from touchpoints.orgs import service
from touchpoints.orgs.schemas import OrgUnitCreate, OrgUnitRead, OrgUnitUpdate, WorkspaceRead

router = APIRouter(tags=["workspace"])


@router.get("/workspace", response_model=WorkspaceRead, summary="The caller's workspace")
def read_current_workspace(session: SessionDep, actor: ActorDep) -> WorkspaceRead:
    """Return the workspace the API token belongs to."""
    workspace = service.get_workspace(
        db_session=session, actor=actor, workspace_id=actor.workspace_id
    )
    return WorkspaceRead.model_validate(workspace)


@router.get("/workspaces/{workspace_id}", response_model=WorkspaceRead, summary="A workspace")
def read_workspace(workspace_id: str, session: SessionDep, actor: ActorDep) -> WorkspaceRead:
    """Return a workspace by id; other tenants' workspaces are not found."""
    workspace = service.get_workspace(db_session=session, actor=actor, workspace_id=workspace_id)
    return WorkspaceRead.model_validate(workspace)


@router.get("/org-units", response_model=Page[OrgUnitRead], summary="List org units")
def list_org_units(
    session: SessionDep, actor: ActorDep, params: ListParamsDep
) -> Page[OrgUnitRead]:
    """List org units; filterable and sortable by code, name, kind, parent_id, created_at."""
    items, total = service.list_org_units(db_session=session, actor=actor, params=params)
    return Page(
        items=[OrgUnitRead.model_validate(i) for i in items],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


@router.post(
    "/org-units", response_model=OrgUnitRead, status_code=201, summary="Create an org unit"
)
def create_org_unit(
    body: OrgUnitCreate,
    session: SessionDep,
    actor: ActorDep,
    write: WriteRequestDep,
    request: Request,
) -> JSONResponse:
    """Add an org unit (admins)."""

    def create() -> OrgUnitRead:
        unit = service.create_org_unit(db_session=session, actor=actor, org_unit_in=body)
        record_change(
            db_session=session,
            actor=actor,
            action=AuditAction.ORG_UNIT_CREATED,
            object_type="org_unit",
            object_id=unit.id,
            details={"code": unit.code, "name": unit.name},
            ip_address=client_address(request),
        )
        return OrgUnitRead.model_validate(unit)

    return respond(write, db_session=session, actor=actor, status_code=201, write=create)


@router.get("/org-units/{org_unit_id}", response_model=OrgUnitRead, summary="Read an org unit")
def read_org_unit(org_unit_id: str, session: SessionDep, actor: ActorDep) -> OrgUnitRead:
    """Return one org unit."""
    unit = service.get_org_unit(db_session=session, actor=actor, org_unit_id=org_unit_id)
    return OrgUnitRead.model_validate(unit)


@router.patch("/org-units/{org_unit_id}", response_model=OrgUnitRead, summary="Update an org unit")
def update_org_unit(
    org_unit_id: str, body: OrgUnitUpdate, session: SessionDep, actor: ActorDep, request: Request
) -> OrgUnitRead:
    """Rename an org unit or change its kind (admins)."""
    unit = service.update_org_unit(
        db_session=session, actor=actor, org_unit_id=org_unit_id, org_unit_in=body
    )
    record_change(
        db_session=session,
        actor=actor,
        action=AuditAction.ORG_UNIT_UPDATED,
        object_type="org_unit",
        object_id=unit.id,
        details=body.model_dump(exclude_unset=True),
        ip_address=client_address(request),
    )
    return OrgUnitRead.model_validate(unit)


@router.delete("/org-units/{org_unit_id}", status_code=204, summary="Delete an org unit")
def delete_org_unit(
    org_unit_id: str, session: SessionDep, actor: ActorDep, request: Request
) -> Response:
    """Delete an org unit without children (admins)."""
    service.delete_org_unit(db_session=session, actor=actor, org_unit_id=org_unit_id)
    record_change(
        db_session=session,
        actor=actor,
        action=AuditAction.ORG_UNIT_DELETED,
        object_type="org_unit",
        object_id=org_unit_id,
        ip_address=client_address(request),
    )
    return Response(status_code=204)
