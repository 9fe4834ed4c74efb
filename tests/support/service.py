"""The real API (uvicorn on a socket) + worker + Temporal dev server, for end-to-end tests."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from conftest import WEBHOOK_SECRET, make_settings
from fastapi import APIRouter
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from partnerflow.api.main import create_app
from partnerflow.cli.dev import _Server
from partnerflow.config import Settings
from partnerflow.rendering import signing
from partnerflow.store.db import make_engine, upgrade
from partnerflow.worker import build_worker

ALICE = {"Authorization": "Bearer tok-alice"}


@dataclass
class Service:
    http: httpx.AsyncClient
    settings: Settings
    engine: Engine

    async def signup(self, payload: dict[str, Any] | bytes, **sign_args: Any) -> httpx.Response:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        header = signing.sign(sign_args.pop("secret", WEBHOOK_SECRET), body, **sign_args)
        return await self.http.post(
            "/webhooks/partner-signup",
            content=body,
            headers={"Partnerflow-Signature": header, "Content-Type": "application/json"},
        )

    async def approve(self, partner_id: str) -> None:
        response = await self.http.post(
            f"/partners/{partner_id}/decision", json={"decision": "approve"}, headers=ALICE
        )
        assert response.status_code == 200, response.text

    async def approved_partner(self, email: str, **fields: Any) -> str:
        response = await self.signup({"email": email, "name": fields.pop("name", "Ada Lovelace"), **fields})
        assert response.status_code == 202, response.text
        partner_id = str(response.json()["partner_id"])
        await self.approve(partner_id)
        return partner_id


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def running_service(
    dev_env: WorkflowEnvironment,
    tmp_path: Path,
    routers: Sequence[APIRouter] = (),
    extra_workflows: Sequence[type] = (),
    extra_activities: Sequence[Callable[..., Any]] = (),
    client: Client | None = None,
    tracer_provider: TracerProvider | None = None,
    uvicorn_logs_to_root: bool = False,
    **overrides: Any,
) -> AsyncIterator[Service]:
    """API (uvicorn on a real socket) + worker + dev server, on a fresh SQLite database.

    ``client`` replaces the dev server's own (e.g. one on a metrics runtime, or with the tracing
    interceptor); the API and the worker both use it. ``uvicorn_logs_to_root`` runs uvicorn as
    the CLI does (``log_config=None``): its access log reaches the root handler.
    """
    settings = make_settings(tmp_path, **overrides)
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    client = client or dev_env.client
    app = create_app(settings, engine=engine, temporal=client, tracer_provider=tracer_provider)
    for router in routers:  # routes not mounted in api/main.py yet
        app.include_router(router)
    port = _free_port()
    logs: dict[str, Any] = {"log_config": None, "log_level": "info"} if uvicorn_logs_to_root else {}
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, **({"log_level": "warning"} | logs)))
    with ThreadPoolExecutor(max_workers=8) as executor:
        worker = build_worker(client, settings, engine, executor, extra_workflows, extra_activities)
        async with worker:
            serving = asyncio.create_task(server.serve())
            while not server.started:
                await asyncio.sleep(0.02)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20) as http:
                yield Service(http, settings, engine)
            server.should_exit = True
            await serving
    engine.dispose()
