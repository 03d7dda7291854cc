"""Request dependencies: settings, a session per request, the authenticated caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from touchpoints.api.listing import ListParams, list_params
from touchpoints.auth.permissions import Principal
from touchpoints.auth.service import principal_for_token
from touchpoints.config import Settings
from touchpoints.errors import Unauthenticated

_bearer = HTTPBearer(auto_error=False, description="An API token from `touchpoints tokens create`.")


def get_settings_dep(request: Request) -> Settings:
    """Return the settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """Open a session for the request; commit when the route succeeded, else roll back."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# scope="function": the commit happens before the answer is sent, so a failed commit is an error.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_principal(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Authenticate the bearer API token and return the caller."""
    if credentials is None:
        raise Unauthenticated(NO_TOKEN)
    return principal_for_token(db_session=session, plaintext=credentials.credentials)


ActorDep = Annotated[Principal, Depends(get_principal)]


async def get_api_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """Return the bearer API token unchecked (a route that checks it in its own transaction)."""
    if credentials is None:
        raise Unauthenticated(NO_TOKEN)
    return credentials.credentials


NO_TOKEN = "send an API token as `Authorization: Bearer <token>`"


def bearer_token(authorization: str | None) -> str:
    """Return the token of an `Authorization: Bearer <token>` header, as HTTPBearer reads it."""
    scheme, _, credentials = (authorization or "").partition(" ")
    credentials = credentials.strip()
    if not (scheme and credentials) or scheme.lower() != "bearer":
        raise Unauthenticated(NO_TOKEN)
    return credentials


ApiTokenDep = Annotated[str, Depends(get_api_token)]


def client_address(request: Request) -> str | None:
    """Return the address a request came from (for the audit log and rate limits)."""
    return request.client.host if request.client else None


ListParamsDep = Annotated[ListParams, Depends(list_params)]
