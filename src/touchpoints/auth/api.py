"""Routes for workspace members and API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from touchpoints.api.deps import ActorDep, ListParamsDep, SessionDep, client_address
from touchpoints.api.listing import Page
from touchpoints.api.writes import WriteRequestDep, respond
from touchpoints.audit.actions import AuditAction
from touchpoints.audit.service import record_change
from touchpoints.auth import members, service
from touchpoints.auth.schemas import (
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenRead,
    UserCreate,
    UserRead,
    UserUpdate,
)

router = APIRouter(tags=["users"])


@router.get("/me", response_model=UserRead, summary="The calling user")
def read_me(session: SessionDep, actor: ActorDep) -> UserRead:
    """Return the user the API token acts as, with their role and scope."""
    return members.get_member(db_session=session, actor=actor, user_id=actor.user_id)


@router.get("/users", response_model=Page[UserRead], summary="List members")
def list_users(session: SessionDep, actor: ActorDep, params: ListParamsDep) -> Page[UserRead]:
    """List the workspace's members (admins); filter by email, role, org_unit_id, is_active."""
    items, total = members.list_members(db_session=session, actor=actor, params=params)
    return Page(items=items, total=total, limit=params.limit, offset=params.offset)


@router.post("/users", response_model=UserRead, status_code=201, summary="Add a member")
def create_user(
    body: UserCreate,
    session: SessionDep,
    actor: ActorDep,
    write: WriteRequestDep,
    request: Request,
) -> JSONResponse:
    """Add a member with a role and, optionally, an org unit they are limited to (admins)."""
    return respond(
        write,
        db_session=session,
        actor=actor,
        status_code=201,
        write=lambda: members.invite_member(
            db_session=session, actor=actor, user_in=body, ip_address=client_address(request)
        ),
    )


@router.get("/users/{user_id}", response_model=UserRead, summary="Read a member")
def read_user(user_id: str, session: SessionDep, actor: ActorDep) -> UserRead:
    """Return one member (admins, or yourself)."""
    return members.get_member(db_session=session, actor=actor, user_id=user_id)


@router.patch("/users/{user_id}", response_model=UserRead, summary="Update a member")
def update_user(
    user_id: str, body: UserUpdate, session: SessionDep, actor: ActorDep, request: Request
) -> UserRead:
    """Change a member's role, org-unit scope, name or active flag (admins)."""
    return members.update_member(
        db_session=session,
        actor=actor,
        user_id=user_id,
        user_in=body,
        ip_address=client_address(request),
    )


@router.delete("/users/{user_id}", status_code=204, summary="Remove a member")
def delete_user(user_id: str, session: SessionDep, actor: ActorDep, request: Request) -> Response:
    """Remove a member from this workspace (admins)."""
    members.remove_member(
        db_session=session, actor=actor, user_id=user_id, ip_address=client_address(request)
    )
    return Response(status_code=204)


@router.get("/tokens", response_model=list[ApiTokenRead], summary="List API tokens")
def list_tokens(session: SessionDep, actor: ActorDep) -> list[ApiTokenRead]:
    """List the workspace's API tokens without their secrets (admins)."""
    tokens = service.list_tokens(db_session=session, actor=actor)
    return [ApiTokenRead.model_validate(t) for t in tokens]


@router.post("/tokens", response_model=ApiTokenCreated, status_code=201, summary="Create a token")
def create_token(
    body: ApiTokenCreate,
    session: SessionDep,
    actor: ActorDep,
    write: WriteRequestDep,
    request: Request,
) -> JSONResponse:
    """Create an API token for yourself; the secret is in this answer only (admins)."""

    def issue() -> ApiTokenCreated:
        token, plaintext = service.create_token(
            db_session=session, actor=actor, name=body.name, expires_at=body.expires_at
        )
        record_change(
            db_session=session,
            actor=actor,
            action=AuditAction.TOKEN_CREATED,
            object_type="api_token",
            object_id=token.id,
            details={"name": token.name, "prefix": token.prefix},
            ip_address=client_address(request),
        )
        return ApiTokenCreated(**ApiTokenRead.model_validate(token).model_dump(), token=plaintext)

    return respond(write, db_session=session, actor=actor, status_code=201, write=issue)


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke a token")
def revoke_token(token_id: str, session: SessionDep, actor: ActorDep, request: Request) -> Response:
    """Revoke an API token; it stops working at once (admins)."""
    token = service.revoke_token(db_session=session, actor=actor, token_id=token_id)
    record_change(
        db_session=session,
        actor=actor,
        action=AuditAction.TOKEN_REVOKED,
        object_type="api_token",
        object_id=token.id,
        details={"name": token.name, "prefix": token.prefix},
        ip_address=client_address(request),
    )
    return Response(status_code=204)
