"""Service health: Temporal and the database, each checked for real."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text

from partnerflow.api.deps import EngineDep
from partnerflow.api.schemas import Health

log = logging.getLogger(__name__)
router = APIRouter(tags=["service"])


@router.get(
    "/healthz",
    response_model=Health,
    # Not an ErrorBody: the same body as the 200, naming what is down.
    responses={503: {"model": Health, "description": "a dependency is down"}},
)
async def healthz(request: Request, engine: EngineDep) -> JSONResponse:
    """200 when Temporal and the database answer; 503 naming what is down."""
    temporal = await _temporal_ok(request)
    database = await run_in_threadpool(_database_ok, engine)
    body = {
        "status": "ok" if temporal == database == "ok" else "degraded",
        "temporal": temporal,
        "database": database,
    }
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)


async def _temporal_ok(request: Request) -> str:
    client = request.app.state.temporal
    if client is None:
        return "down: not connected"
    try:
        await asyncio.wait_for(client.service_client.check_health(), timeout=3)
        return "ok"
    except Exception as exc:
        return f"down: {type(exc).__name__}"


def _database_ok(engine: Engine) -> str:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:
        log.warning("database health check failed: %s", exc)
        return f"down: {type(exc).__name__}"
