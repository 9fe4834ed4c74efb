"""The FastAPI application: one Temporal client and one engine per process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Engine
from temporalio.client import Client

from partnerflow import __version__
from partnerflow.api import dashboard
from partnerflow.api.limits import BodyLimits
from partnerflow.api.routes import (
    assets,
    events,
    health,
    kpis,
    migrations,
    outbox,
    partner_actions,
    partners,
    portal,
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
from partnerflow.services.temporal import connect
from partnerflow.store.db import make_engine

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None, engine: Engine | None = None, temporal: Client | None = None
) -> FastAPI:
    """The app; tests pass their own engine/client, production builds them from settings."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warn_insecure_public_url(settings)
        app.state.engine = engine or make_engine(settings.effective_database_url)
        app.state.temporal = temporal
        connector = None if temporal else asyncio.create_task(_keep_connecting(app, settings))
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
        docs_url=None,  # served by routes/assets.py: the same Swagger UI without an inline script
    )
    app.state.settings = settings
    # Outermost last: security headers go on every answer, the body limits' 413/422 included.
    app.add_middleware(BodyLimits, settings=settings)
    app.add_middleware(SecurityHeaders, settings=settings)
    for module in (
        webhooks,
        partners,
        partner_actions,
        programs,
        webinars,
        tracking,
        events,
        kpis,
        migrations,
        outbox,
        portal,
        slack,
        unsubscribe,
        health,
        assets,
        dashboard,
    ):
        app.include_router(module.router)
    for router in (*webhook_subscriptions.routers, *prospects.routers):
        app.include_router(router)
    return app


async def _keep_connecting(app: FastAPI, settings: Settings) -> None:
    """Connect to Temporal, retrying while it comes up; /healthz says 503 until then."""
    delay = 0.5
    while True:
        try:
            app.state.temporal = await connect(settings)
            log.info("connected to Temporal at %s", settings.temporal_address)
            return
        except Exception as exc:
            log.warning("Temporal at %s not reachable (%s); retrying", settings.temporal_address, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)
