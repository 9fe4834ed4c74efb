"""The FastAPI application: one Temporal client and one engine per process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import Engine
from temporalio.client import Client

from partnerflow import __version__
from partnerflow.api import apply, dashboard, metrics, portal
from partnerflow.api.request_ids import RequestIdMiddleware, bind_partner
from partnerflow.api.routes import (
    approvals,
    audit,
    events,
    health,
    kpis,
    migrations,
    outbox,
    partner_actions,
    partners,
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
from partnerflow.config import Settings, warn_insecure_public_url
from partnerflow.observability import tracing
from partnerflow.services.temporal import connect
from partnerflow.store.db import make_engine

log = logging.getLogger(__name__)


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
        app.state.temporal = temporal
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
    )
    app.state.settings = settings
    metrics.install(app, settings)
    tracing.instrument_app(app, tracer_provider)
    app.add_middleware(RequestIdMiddleware)  # outermost: the id covers the access log too
    for module in (
        webhooks,
        partners,
        partner_actions,
        programs,
        program_page,
        webinars,
        tracking,
        events,
        kpis,
        audit,
        migrations,
        outbox,
        portal,
        apply,
        slack,
        unsubscribe,
        health,
        dashboard,
    ):
        app.include_router(module.router)
    for router in (*webhook_subscriptions.routers, *prospects.routers, *approvals.routers):
        app.include_router(router)
    return app


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
