"""Bounded waits on Temporal: no worker → 202 within the bound; Temporal unreachable → 503 + Retry-After."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
from conftest import make_settings, partnerflow_worker
from fastapi import FastAPI
from helpers import add_partner, eventually
from service import ALICE
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from partnerflow.api.main import create_app
from partnerflow.config import Settings, bundled_binary
from partnerflow.domain.lifecycle import workflow_id_for
from partnerflow.services.temporal import bounded, lifecycle_input, start_lifecycle
from partnerflow.store.db import make_engine, session_scope, upgrade
from partnerflow.store.models import Partner

WAIT = timedelta(seconds=2)


def _app(settings: Settings, engine: Engine, client: Client | None) -> FastAPI:
    app = create_app(settings, engine=engine)
    app.state.engine = engine  # what the lifespan sets
    app.state.temporal = bounded(client, settings.temporal_wait) if client else None
    return app


async def _decide(app: FastAPI, partner_id: str) -> tuple[httpx.Response, float]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60) as http:
        started = time.monotonic()
        response = await http.post(
            f"/partners/{partner_id}/decision", json={"decision": "approve"}, headers=ALICE
        )
        return response, time.monotonic() - started


def _stage(engine: Engine, partner_id: str) -> str:
    with session_scope(engine) as session:
        partner = session.get(Partner, partner_id)
        return partner.stage if partner else ""


async def test_decision_without_a_worker_is_503_within_the_bound_and_a_repeat_is_safe(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, temporal_wait=WAIT)
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    partner = add_partner(engine)
    # The workflow exists, but no worker polls its task queue (a stopped or crashed worker).
    assert await start_lifecycle(dev_env.client, settings, lifecycle_input(settings, partner.id, "default"))

    response, took = await _decide(_app(settings, engine, dev_env.client), partner.id)

    # Not accepted by a worker, so not durable: the caller is told to repeat it.
    assert (response.status_code, response.headers["Retry-After"]) == (503, "5"), response.text
    assert "not recorded: repeat it" in response.json()["detail"]
    assert took < WAIT.total_seconds() + 10, took  # bounded (a hang lasted 60 s); slack for a loaded CI box
    # A worker comes back: Temporal still held it and the workflow takes it; the repeat gets 409.
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with partnerflow_worker(dev_env, settings, engine, executor):
            await eventually(lambda: _stage(engine, partner.id) in ("approved", "onboarding"), timeout=30)
            again, _ = await _decide(_app(settings, engine, dev_env.client), partner.id)
            assert again.status_code == 409, again.text
            await dev_env.client.get_workflow_handle(workflow_id_for(partner.id)).terminate("test over")
    engine.dispose()


async def test_decision_with_the_temporal_server_stopped_is_503_with_retry_after(
    tmp_path: Path, engine: Engine
) -> None:
    settings = make_settings(tmp_path, temporal_wait=WAIT)
    partner = add_partner(engine)
    server = await WorkflowEnvironment.start_local(
        dev_server_existing_path=bundled_binary("temporal"),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    app = _app(settings, engine, server.client)  # connected while it ran
    await server.shutdown()

    response, took = await _decide(app, partner.id)

    assert (response.status_code, response.headers["Retry-After"]) == (503, "5"), response.text
    assert took < WAIT.total_seconds() + 10, took  # bounded (a hang lasted 60 s); slack for a loaded CI box


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_decision_with_temporal_unreachable_is_503_with_retry_after(
    tmp_path: Path, engine: Engine
) -> None:
    settings = make_settings(tmp_path, temporal_wait=WAIT)
    partner = add_partner(engine)
    client = await Client.connect(
        f"127.0.0.1:{_closed_port()}", data_converter=pydantic_data_converter, lazy=True
    )

    response, took = await _decide(_app(settings, engine, client), partner.id)

    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "5"
    assert "Temporal is not reachable" in response.json()["detail"]
    assert took < WAIT.total_seconds() + 10, took  # bounded (a hang lasted 60 s); slack for a loaded CI box


async def test_api_not_yet_connected_to_temporal_is_503_with_retry_after(
    tmp_path: Path, engine: Engine
) -> None:
    partner = add_partner(engine)
    response, _ = await _decide(_app(make_settings(tmp_path), engine, None), partner.id)
    assert (response.status_code, response.headers["Retry-After"]) == (503, "5")
