"""Signup → approval moves the API's and the worker's metrics; the worker serves temporal_* beside partnerflow_*."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from conftest import make_settings
from devproc import free_ports
from exported import SDK_SERIES
from helpers import eventually, messages
from prom import names, scrape, value
from service import Service, running_service
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from partnerflow.observability.metrics import CATALOGUE
from partnerflow.observability.runtime import metrics_url, worker_runtime


@pytest.fixture
async def metered(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[tuple[Service, str]]:
    """The service on a client whose runtime serves worker metrics on a free port."""
    [port] = free_ports(1)
    settings = make_settings(tmp_path, worker_metrics=f"127.0.0.1:{port}")
    url = metrics_url(settings)
    assert url == f"http://localhost:{port}/metrics"
    client = await Client.connect(
        dev_env.client.service_client.config.target_host,
        namespace=dev_env.client.namespace,
        data_converter=pydantic_data_converter,
        runtime=worker_runtime(settings),
    )
    async with running_service(dev_env, tmp_path, client=client) as service:
        yield service, url


async def test_signup_to_approval_moves_the_counters(metered: tuple[Service, str]) -> None:
    service, worker_url = metered
    api_before = (await service.http.get("/metrics")).text
    assert value(api_before, "partnerflow_signups_total") == 0

    pid = await service.approved_partner("ada@example.com")
    repeat = await service.signup({"email": "ada@example.com", "name": "Ada Lovelace"})
    assert repeat.status_code == 200
    await eventually(lambda: [m for m in messages(service.engine, partner_id=pid) if m.template == "welcome"])

    api = (await service.http.get("/metrics")).text
    assert value(api, "partnerflow_signups_total", program="default", kind="new") == 1
    assert value(api, "partnerflow_signups_total", program="default", kind="repeat") == 1
    signups = {"handler": "/webhooks/partner-signup", "method": "POST"}
    assert value(api, "http_requests_total", **signups, status="202") == 1
    assert value(api, "http_requests_total", **signups, status="200") == 1
    decision = {"handler": "/partners/{partner_id}/decision", "method": "POST", "status": "200"}
    assert value(api, "http_request_duration_seconds_count", **decision) == 1
    assert pid not in api, "series are per route template, never per partner"
    assert value(api, "partnerflow_partners", stage="onboarding") == 1
    assert value(api, "partnerflow_partners", stage="active") == 0
    assert value(api, "partnerflow_applications_pending") == 0
    assert value(api, "partnerflow_store_up") == 1

    def worker_text() -> str | None:
        text = scrape(worker_url)
        sent = value(text, "partnerflow_messages_sent_total", channel="email", template="welcome")
        return text if sent else None

    worker = await eventually(worker_text)
    assert (
        value(worker, "partnerflow_decisions_total", outcome="approved", via="manager", program="default")
        == 1
    )
    assert value(worker, "partnerflow_decisions_total", activity_type="record_decision") == 1
    assert value(worker, "partnerflow_time_to_decision_seconds_count", outcome="approved") == 1
    assert value(worker, "partnerflow_time_to_decision_seconds_bucket", outcome="approved", le="600") == 1
    assert (
        value(worker, "partnerflow_messages_sent_total", channel="slack", template="application_submitted")
        == 1
    )
    assert value(worker, "partnerflow_messages_sent_total", channel="email", backend="local") >= 2
    assert value(worker, "partnerflow_messages_failed_total") == 0

    served = names(worker)
    missing = SDK_SERIES - served
    assert not missing, f"the SDK did not export {missing}"
    worker_metrics = {m.name for m in CATALOGUE if m.where == "worker"}
    assert {"partnerflow_decisions", "partnerflow_messages_sent"} <= worker_metrics
    assert not {n for n in served if n.startswith("partnerflow_signups")}, "signups are the API's"


async def test_worker_metrics_are_off_when_the_setting_is_empty(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, worker_metrics="")
    assert worker_runtime(settings) is None and metrics_url(settings) is None
    await asyncio.sleep(0)
