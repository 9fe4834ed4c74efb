"""Service health: ``/healthz`` (v1 contract) and ``/readyz`` (readiness), each checking for real.

Both check Temporal and the database concurrently, each within a bounded time, and answer 503
naming what is down. ``/readyz`` is the readiness probe: a process that cannot reach its
dependencies is taken out of the load balancer, not restarted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text

from partnerflow.api.deps import EngineDep
from partnerflow.api.schemas import Health

log = logging.getLogger(__name__)
router = APIRouter(tags=["service"])

HEALTH_TIMEOUT = 3.0  # seconds per dependency
READY_TIMEOUT = 2.0  # below the probes' own timeout, so the answer names what is slow


@router.get(
    "/healthz",
    response_model=Health,
    # Not an ErrorBody: the same body as the 200, naming what is down.
    responses={503: {"model": Health, "description": "a dependency is down"}},
)
async def healthz(request: Request, engine: EngineDep) -> JSONResponse:
    """200 when Temporal and the database answer; 503 naming what is down."""
    return await _report(request, engine, HEALTH_TIMEOUT)


@router.get(
    "/readyz",
    response_model=Health,
    # Not an ErrorBody: the same body as the 200, naming what is down.
    responses={503: {"model": Health, "description": "a dependency is down or too slow"}},
)
async def readyz(request: Request, engine: EngineDep) -> JSONResponse:
    """200 when the database and Temporal answer within 2 s each; 503 naming what is down."""
    return await _report(request, engine, READY_TIMEOUT)


async def _report(request: Request, engine: Engine, timeout: float) -> JSONResponse:
    temporal, database = await asyncio.gather(
        _temporal_ok(request, timeout), _bounded(asyncio.to_thread(_database_ok, engine), timeout)
    )
    body = {
        "status": "ok" if temporal == database == "ok" else "degraded",
        "temporal": temporal,
        "database": database,
    }
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)


async def _temporal_ok(request: Request, timeout: float) -> str:
    client = request.app.state.temporal
    if client is None:
        return "down: not connected"
    try:
        await asyncio.wait_for(client.service_client.check_health(), timeout=timeout)
        return "ok"
    except TimeoutError:
        return f"down: no answer within {timeout:g} s"
    except Exception as exc:
        return f"down: {type(exc).__name__}"


async def _bounded(check: Awaitable[str], timeout: float) -> str:
    try:
        return await asyncio.wait_for(check, timeout=timeout)
    except TimeoutError:
        log.warning("database health check: no answer within %g s", timeout)
        return f"down: no answer within {timeout:g} s"


def _database_ok(engine: Engine) -> str:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:
        log.warning("database health check failed: %s", exc)
        return f"down: {type(exc).__name__}"
