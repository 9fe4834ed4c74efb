"""OpenTelemetry traces from the signup webhook through the workflow to each provider call.

Off by default. The standard variables turn it on: ``OTEL_TRACES_EXPORTER=otlp`` (or
``console``), or an ``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``; the
OTLP exporter (HTTP/protobuf) and the SDK read the rest (``OTEL_SERVICE_NAME``,
``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER``, headers, ...). ``OTEL_SDK_DISABLED=true``
wins. The pieces:

- FastAPI server spans (``instrument_app``), with signed-link tokens masked in URL attributes;
- Temporal's ``TracingInterceptor`` on the client and worker: ``StartWorkflow`` →
  ``RunWorkflow`` → ``StartActivity`` → ``RunActivity``, carried in Temporal headers;
- urllib client spans for SendGrid, Slack and outbound webhooks (all three use urllib).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.urllib import URLLibInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from temporalio.contrib.opentelemetry import TracingInterceptor

from partnerflow.observability.redaction import redact

log = logging.getLogger(__name__)

UNTRACED_PATHS = "/healthz$,/readyz$,/metrics$"  # probes and scrapes would drown the real traces
_URL_ATTRIBUTES = ("http.target", "http.url", "url.path", "url.full", "url.query")


def tracing_requested(env: Mapping[str, str] | None = None) -> bool:
    """Whether the ``OTEL_*`` variables ask for traces."""
    env = os.environ if env is None else env
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = env.get("OTEL_TRACES_EXPORTER")
    if exporters is not None:
        return exporters.strip().lower() not in ("", "none")
    return bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def setup_tracing(service_name: str, env: Mapping[str, str] | None = None) -> TracerProvider | None:
    """The process's tracer provider from the environment (also made global), or None when off.

    Instruments urllib process-wide. Call ``provider.shutdown()`` at exit to flush spans.
    """
    env = os.environ if env is None else env
    if not tracing_requested(env):
        return None
    attributes = {} if env.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service_name}
    provider = TracerProvider(resource=Resource.create(attributes))
    for exporter in _exporters(env):
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    instrument_http_clients(provider)
    log.info("tracing on: spans of %s exported (%s)", service_name, env.get("OTEL_TRACES_EXPORTER", "otlp"))
    return provider


def _exporters(env: Mapping[str, str]) -> list[SpanExporter]:
    names = [n.strip().lower() for n in env.get("OTEL_TRACES_EXPORTER", "otlp").split(",") if n.strip()]
    exporters: list[SpanExporter] = []
    for name in names:
        if name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporters.append(OTLPSpanExporter())
        elif name == "console":
            exporters.append(ConsoleSpanExporter())
        else:
            log.warning("OTEL_TRACES_EXPORTER=%s is not supported here (otlp, console); ignored", name)
    return exporters


def temporal_interceptors(provider: TracerProvider | None) -> list[TracingInterceptor]:
    """The interceptor for ``Client.connect``; a worker on that client traces workflows and activities."""
    if provider is None:
        return []
    return [TracingInterceptor(provider.get_tracer("partnerflow.temporal"))]


def instrument_app(app: FastAPI, provider: TracerProvider | None) -> None:
    """Server spans named after the route template (``POST /webhooks/partner-signup``)."""
    if provider is None:
        return
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls=UNTRACED_PATHS,
        server_request_hook=_mask_url_attributes,
        exclude_spans=["receive", "send"],
    )


def _mask_url_attributes(span: trace.Span, scope: dict[str, Any]) -> None:
    """Signed links carry their token in the path: keep it out of span attributes."""
    if not span.is_recording():
        return
    attributes = getattr(span, "attributes", None) or {}
    for key in _URL_ATTRIBUTES:
        value = attributes.get(key)
        if isinstance(value, str) and (masked := redact(value)) != value:
            span.set_attribute(key, masked)


def instrument_http_clients(provider: TracerProvider) -> None:
    """Client spans for urllib (SendGrid's client, slack_sdk and our webhook deliveries all use it)."""
    instrumentor = URLLibInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(tracer_provider=provider)


def uninstrument_http_clients() -> None:
    instrumentor = URLLibInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()
