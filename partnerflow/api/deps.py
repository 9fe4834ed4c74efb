"""Dependencies injected into routes: settings, database session, Temporal client, manager."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from partnerflow.api.errors import responses
from partnerflow.config import Settings

# Dependencies that only read app state are ``async def``: FastAPI runs a plain ``def`` dependency
# in its thread pool, a thread hop per dependency per request for nothing (bench/profile_signup.py).


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


RETRY_AFTER_SECONDS = 5  # what a 503 for Temporal trouble asks clients to wait


def get_temporal(request: Request) -> Client:
    client = request.app.state.temporal
    if client is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "Temporal is not reachable yet",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return client


_bearer = HTTPBearer(auto_error=False, description="Manager token from PARTNERFLOW_MANAGER_TOKENS")


def get_manager(
    settings: Annotated[Settings, Depends(get_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The manager's name for a valid bearer token; 401 otherwise (constant-time comparison)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("missing bearer token (Authorization: Bearer <manager token>)")
    given = credentials.credentials.encode()
    found: str | None = None
    for token, name in settings.manager_token_map.items():
        if hmac.compare_digest(token.encode(), given):
            found = name
    if found is None:
        raise _unauthorized("invalid manager token")
    return found


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


async def _temporal(request: Request) -> Client:
    return get_temporal(request)


async def _manager(
    settings: Annotated[Settings, Depends(get_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    return get_manager(settings, credentials)


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[Session, Depends(get_session)]
TemporalDep = Annotated[Client, Depends(_temporal)]
ManagerDep = Annotated[str, Depends(_manager)]

# Declared by every router of manager operations (``APIRouter(responses=MANAGER_AUTH)``), so each
# operation documents the 401 that ManagerDep answers before the route runs.
MANAGER_AUTH = responses(unauthorized="missing or invalid manager token (with WWW-Authenticate: Bearer)")
