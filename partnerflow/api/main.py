"""The FastAPI application: one Temporal client and one engine per process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import Engine
from temporalio.client import Client, RPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from partnerflow import __version__
from partnerflow.api import apply, dashboard, metrics, portal
from partnerflow.api.deps import RETRY_AFTER_SECONDS
from partnerflow.api.limits import BodyLimits
from partnerflow.api.rate_limits import rate_limit
from partnerflow.api.request_ids import RequestIdMiddleware, bind_partner
from partnerflow.api.routes import (
    approvals,
    assets,
    audit,
    campaigns,
    events,
    health,
    kpis,
    migrations,
    outbox,
    partner_actions,
    partners,
    program_engagement,
    program_page,
    programs,
    prospects,
    slack,
    tracking,
    unsubscribe,
    webhook_subscriptions,
    webhooks,
    webinars,
)
from partnerflow.api.security import SecurityHeaders
from partnerflow.config import Settings, warn_insecure_public_url
from partnerflow.observability import tracing
from partnerflow.services.temporal import TemporalUnavailable, bounded, connect
from partnerflow.store.db import make_engine

log = logging.getLogger(__name__)


# Per-IP limits on whole routers anyone can reach (a token guesser is throttled long before a guess
# could matter; a partner never notices). Sign-in and /r/ limit inside their routes.
_LIMITS = [
    (portal.router, [Depends(rate_limit("portal", "portal requests"))]),
    (unsubscribe.router, [Depends(rate_limit("unsubscribe", "unsubscribe requests"))]),
    (prospects.outreach_router, [Depends(rate_limit("unsubscribe", "unsubscribe requests"))]),
]


def _limits(router: APIRouter) -> list[Any]:
    return next((limits for limited, limits in _LIMITS if limited is router), [])


def create_app(
    settings: Settings | None = None,
    engine: Engine | None = None,
    temporal: Client | None = None,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """The app; tests pass their own engine/client, production builds them from settings.

    With a ``tracer_provider`` (``observability.tracing.setup_tracing``), requests are traced and
    the Temporal client this app connects carries the trace into the workflows it starts.
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warn_insecure_public_url(settings)
        app.state.engine = engine or make_engine(settings.effective_database_url)
        app.state.temporal = bounded(temporal, settings.temporal_wait) if temporal else None
        connector = (
            None if temporal else asyncio.create_task(_keep_connecting(app, settings, tracer_provider))
        )
        try:
            yield
        finally:
            if connector:
                connector.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await connector
            if engine is None:
                app.state.engine.dispose()

    app = FastAPI(
        title="Partnerflow",
        version=__version__,
        summary="Partner program lifecycle automation on Temporal.",
        lifespan=lifespan,
        dependencies=[Depends(bind_partner)],  # logs of /partners/{partner_id}/... carry the id
        docs_url=None,  # served by routes/assets.py: the same Swagger UI without an inline script
    )
    app.state.settings = settings
    metrics.install(app, settings)
    tracing.instrument_app(app, tracer_provider)
    # Security headers go on every answer, the body limits' 413/422 included.
    app.add_middleware(BodyLimits, settings=settings)
    app.add_middleware(SecurityHeaders, settings=settings)
    app.add_middleware(RequestIdMiddleware)  # outermost: the id covers the access log too
    for module in (
        webhooks,
        partners,
        partner_actions,
        programs,
        program_engagement,
        program_page,
        webinars,
        tracking,
        events,
        kpis,
        audit,
        migrations,
        campaigns,
        outbox,
        portal,
        apply,
        slack,
        unsubscribe,
        health,
        assets,
        dashboard,
    ):
        app.include_router(module.router, dependencies=_limits(module.router))
    for router in (*webhook_subscriptions.routers, *prospects.routers, *approvals.routers):
        app.include_router(router, dependencies=_limits(router))
    for error in (RPCError, RPCTimeoutOrCancelledError, TemporalUnavailable):
        app.add_exception_handler(error, _temporal_trouble)
    return app


# Codes with which Temporal says "not now": the caller may retry the same request later.
TRANSIENT_RPC = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.ABORTED,
    RPCStatusCode.CANCELLED,
}


async def _temporal_trouble(request: Request, exc: Exception) -> JSONResponse:
    """Temporal unreachable, restarting or too slow → 503 with Retry-After, never a 500 or a hang."""
    if isinstance(exc, RPCError) and exc.status not in TRANSIENT_RPC:
        log.error("Temporal refused %s %s: %s (%s)", request.method, request.url.path, exc, exc.status)
        return JSONResponse({"detail": f"Temporal answered {exc.status.name}: {exc}"}, status_code=502)
    log.warning("Temporal did not answer %s %s: %s", request.method, request.url.path, exc)
    detail = (
        "Temporal did not confirm in time; the request may still be applied, check before repeating it"
        if isinstance(exc, RPCTimeoutOrCancelledError)
        else f"Temporal is not reachable right now ({exc}); retry shortly"
    )
    return JSONResponse(
        {"detail": detail}, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
    )


async def _keep_connecting(app: FastAPI, settings: Settings, provider: TracerProvider | None) -> None:
    """Connect to Temporal, retrying while it comes up; /healthz says 503 until then."""
    delay = 0.5
    while True:
        try:
            app.state.temporal = await connect(settings, interceptors=tracing.temporal_interceptors(provider))
            log.info("connected to Temporal at %s", settings.temporal_address)
            return
        except Exception as exc:
            log.warning("Temporal at %s not reachable (%s); retrying", settings.temporal_address, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)
