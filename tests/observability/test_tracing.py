"""One signup is one trace: webhook → StartWorkflow → RunWorkflow → StartActivity → RunActivity → SendGrid."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.providers import FakeSendGrid
from helpers import eventually, messages
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from pydantic import SecretStr
from service import running_service
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from partnerflow.observability import tracing
from partnerflow.rendering.tokens import make_portal_token

SENDGRID_KEY = "SG.trace-test-key"


@pytest.fixture
def traced() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    """A provider that keeps every finished span in memory (the global one is left alone)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.instrument_http_clients(provider)
    try:
        yield provider, exporter
    finally:
        tracing.uninstrument_http_clients()
        provider.shutdown()


def parent_of(span: ReadableSpan, spans: list[ReadableSpan]) -> ReadableSpan:
    assert span.parent is not None, f"{span.name} has no parent"
    [parent] = [s for s in spans if s.context.span_id == span.parent.span_id]
    return parent


def one(spans: list[ReadableSpan], name: str, under: ReadableSpan | None = None) -> ReadableSpan:
    found = [s for s in spans if s.name == name and (under is None or parent_of(s, spans) is under)]
    assert found, (
        f"no span {name!r} under {under.name if under else '-'}; spans: {sorted({s.name for s in spans})}"
    )
    return found[0]


async def test_a_signup_is_traced_from_the_webhook_to_sendgrid(
    dev_env: WorkflowEnvironment, tmp_path: Path, traced: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    provider, exporter = traced
    client = await Client.connect(
        dev_env.client.service_client.config.target_host,
        namespace=dev_env.client.namespace,
        data_converter=pydantic_data_converter,
        interceptors=tracing.temporal_interceptors(provider),
    )
    with FakeSendGrid(api_key=SENDGRID_KEY) as sendgrid:
        async with running_service(
            dev_env,
            tmp_path,
            client=client,
            tracer_provider=provider,
            sendgrid_api_key=SecretStr(SENDGRID_KEY),
            sendgrid_host=sendgrid.url,
        ) as service:
            response = await service.signup({"email": "ada@example.com", "name": "Ada Lovelace"})
            assert response.status_code == 202, response.text
            pid = response.json()["partner_id"]
            await eventually(lambda: messages(service.engine, partner_id=pid, channel="email", status="sent"))
            await eventually(lambda: any(s.name == "POST" for s in exporter.get_finished_spans()))
            await (await service.http.get("/healthz")).aread()  # probes are not traced
            await service.approve(pid)
            await eventually(
                lambda: any(s.name == "RunActivity:record_stage" for s in exporter.get_finished_spans())
            )
            token = make_portal_token(service.settings.portal_signing_key, pid)
            await service.http.get(f"/portal/{token}")  # a signed link: its token stays out of spans

    spans = list(exporter.get_finished_spans())
    webhook = one(spans, "POST /webhooks/partner-signup")
    assert webhook.kind == SpanKind.SERVER and webhook.parent is None
    start = one(spans, "StartWorkflow:PartnerLifecycleWorkflow", under=webhook)
    assert start.attributes and start.attributes["temporalWorkflowID"] == f"partner-{pid}"
    run = one(spans, "RunWorkflow:PartnerLifecycleWorkflow", under=start)
    # Temporal's interceptor ends workflow spans at once (they must not outlive a replay), so the
    # workflow's activity starts hang beside RunWorkflow under StartWorkflow, carrying its run id.
    schedule = one(spans, "StartActivity:send_email", under=start)
    assert run.attributes and schedule.attributes
    assert schedule.attributes["temporalRunID"] == run.attributes["temporalRunID"]
    execute = one(spans, "RunActivity:send_email", under=schedule)
    http = one(spans, "POST", under=execute)
    assert http.kind == SpanKind.CLIENT
    assert http.attributes and "/v3/mail/send" in str(
        http.attributes.get("url.full") or http.attributes.get("http.url")
    )
    one(spans, "RunActivity:notify_managers")  # the managers' Slack message, in the same trace
    chain = [webhook, start, run, schedule, execute, http]
    assert {s.context.trace_id for s in chain} == {webhook.context.trace_id}
    assert not [s for s in spans if "healthz" in s.name]
    # The decision: its request traces the update call; what the workflow does with it (the update
    # handler, its activities, the welcome email) joins the workflow's trace, the signup's.
    decision = one(spans, "POST /partners/{partner_id}/decision")
    one(spans, "StartWorkflowUpdate:decide", under=decision)
    handled = one(spans, "HandleUpdate:decide", under=start)
    recorded = one(spans, "RunActivity:record_decision")
    assert handled.context.trace_id == recorded.context.trace_id == webhook.context.trace_id
    portal = one(spans, "GET /portal/{token}")
    assert token not in str(portal.attributes) and "/portal/[REDACTED]" in str(portal.attributes)


@pytest.mark.parametrize(
    ("env", "on"),
    [
        ({}, False),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, False),
    ],
)
def test_tracing_is_off_unless_the_otel_variables_ask(env: dict[str, str], on: bool) -> None:
    assert tracing.tracing_requested(env) is on
    if not on:
        assert tracing.setup_tracing("partnerflow-test", env) is None


def test_setup_exports_with_otlp_and_names_the_service() -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9/"}
    provider = tracing.setup_tracing("partnerflow-worker", env)
    try:
        assert provider is not None
        assert provider.resource.attributes["service.name"] == "partnerflow-worker"
        [processor] = provider._active_span_processor._span_processors
        assert type(processor.span_exporter).__name__ == "OTLPSpanExporter"  # type: ignore[attr-defined]
        assert tracing.temporal_interceptors(provider) and tracing.temporal_interceptors(None) == []
    finally:
        tracing.uninstrument_http_clients()
        if provider:
            provider.shutdown()
