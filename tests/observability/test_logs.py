"""PARTNERFLOW_LOG_FORMAT=json: one JSON object per line, carrying the ids of what is happening."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import make_settings
from helpers import eventually, messages
from logcapture import json_lines, production_logs
from opentelemetry.sdk.trace import TracerProvider
from service import ALICE, running_service
from temporalio import workflow
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from partnerflow.observability import tracing
from partnerflow.observability.logs import ContextFilter


@workflow.defn(sandboxed=False)
class LoggingWorkflow:
    @workflow.run
    async def run(self) -> None:
        workflow.logger.info("workflow says hello")


def lines_with(lines: list[dict[str, Any]], **fields: str) -> list[dict[str, Any]]:
    return [line for line in lines if all(str(line.get(k, "")).find(v) >= 0 for k, v in fields.items())]


@pytest.fixture
def provider() -> Iterator[TracerProvider]:
    provider = TracerProvider()  # spans go nowhere; the logs carry their trace ids
    yield provider
    provider.shutdown()


async def test_json_lines_carry_request_partner_workflow_activity_and_trace_ids(
    dev_env: WorkflowEnvironment, tmp_path: Path, provider: TracerProvider
) -> None:
    settings = make_settings(tmp_path, log_format="json")
    client = await Client.connect(
        dev_env.client.service_client.config.target_host,
        namespace=dev_env.client.namespace,
        data_converter=pydantic_data_converter,
        interceptors=tracing.temporal_interceptors(provider),
    )
    request_id = f"req-{uuid.uuid4().hex[:8]}"
    with production_logs(settings) as buffer:
        async with running_service(
            dev_env,
            tmp_path,
            client=client,
            tracer_provider=provider,
            uvicorn_logs_to_root=True,
            log_format="json",
        ) as service:
            service.http.headers["X-Request-ID"] = request_id
            response = await service.signup({"email": "ada@example.com", "name": "Ada Lovelace"})
            assert response.headers["X-Request-ID"] == request_id
            pid = response.json()["partner_id"]
            await eventually(lambda: messages(service.engine, partner_id=pid, channel="email", status="sent"))
            del service.http.headers["X-Request-ID"]
            detail = await service.http.get(f"/partners/{pid}", headers=ALICE)
            generated = detail.headers["X-Request-ID"]
            assert generated != request_id and len(generated) == 32

    lines = json_lines(buffer)
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    [applied] = lines_with(lines, logger="partnerflow.api.routes.webhooks", message="applied")
    assert applied["request_id"] == request_id
    assert (applied["partner_id"], applied["workflow_id"]) == (pid, f"partner-{pid}")
    assert len(applied["trace_id"]) == 32

    [access] = lines_with(lines, logger="uvicorn.access", message="/webhooks/partner-signup")
    assert access["request_id"] == request_id and access["trace_id"] == applied["trace_id"]
    [lookup] = lines_with(lines, logger="uvicorn.access", message=f"/partners/{pid}")
    assert (lookup["request_id"], lookup["partner_id"]) == (generated, pid)

    [sent] = lines_with(
        lines, logger="partnerflow.activities.messaging", message=f"partner:{pid}:application-received"
    )
    assert sent["activity"] == "send_email" and sent["workflow_type"] == "PartnerLifecycleWorkflow"
    assert (sent["partner_id"], sent["workflow_id"]) == (pid, f"partner-{pid}")
    assert sent["run_id"] and sent["trace_id"] == applied["trace_id"], (
        "the activity is in the webhook's trace"
    )
    assert "temporal_activity" not in sent and "request_id" not in sent


async def test_workflow_logger_lines_carry_the_workflow_ids(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, log_format="json")
    task_queue, partner = f"tq-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex[:16]
    with production_logs(settings) as buffer:
        async with Worker(dev_env.client, task_queue=task_queue, workflows=[LoggingWorkflow]):
            handle = await dev_env.client.start_workflow(
                LoggingWorkflow.run, id=f"partner-{partner}", task_queue=task_queue
            )
            await handle.result()
    [line] = lines_with(json_lines(buffer), message="workflow says hello")
    assert line["message"] == "workflow says hello", "no dict tail on the message in JSON"
    assert (line["workflow_id"], line["partner_id"]) == (f"partner-{partner}", partner)
    assert line["run_id"] == handle.result_run_id and line["workflow_type"] == "LoggingWorkflow"


def test_text_format_is_the_default_and_readable(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert settings.log_format == "text"
    with production_logs(settings) as buffer:
        logging.getLogger("partnerflow.test").warning("plain %s", "words")
    line = buffer.getvalue().strip()
    assert line.endswith("WARNING partnerflow.test: plain words") and not line.startswith("{")


def test_the_context_filter_leaves_records_without_context_alone() -> None:
    record = logging.makeLogRecord({"msg": "nothing bound"})
    assert ContextFilter().filter(record)
    assert not hasattr(record, "partner_id") and not hasattr(record, "trace_id")
