"""``GET /metrics``: HTTP metrics per route template and status, signups, and store gauges.

Each app has its own registry (tests run many apps in one process). The store gauges are
computed when Prometheus scrapes, with one indexed query each; with several API replicas every
one reports the same numbers, so dashboards and alerts take ``max()`` of them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

from fastapi import FastAPI, Request
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_fastapi_instrumentator import Instrumentator, routing
from prometheus_fastapi_instrumentator import metrics as http_metrics
from prometheus_fastapi_instrumentator.middleware import PrometheusInstrumentatorMiddleware
from sqlalchemy import Engine
from starlette.routing import BaseRoute

from partnerflow.config import Settings
from partnerflow.domain.stages import Stage
from partnerflow.observability import metrics as catalogue
from partnerflow.store import stats
from partnerflow.store.db import session_scope

log = logging.getLogger(__name__)
UNMEASURED = ["/metrics", "/healthz", "/readyz"]


class ApiMetrics:
    """The app's registry and the counters its routes add to."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.signups = _counter(catalogue.SIGNUPS, self.registry)

    def signup(self, program: str, created: bool) -> None:
        self.signups.labels(program=program, kind="new" if created else "repeat").inc()


def _counter(metric: catalogue.Metric, registry: CollectorRegistry) -> Counter:
    return Counter(metric.name, metric.help, metric.labels, registry=registry)


def install(app: FastAPI, settings: Settings) -> ApiMetrics:
    """Measure every request and serve ``/metrics``; the store collector reads ``app.state.engine``."""
    api_metrics = ApiMetrics()
    registry = api_metrics.registry
    Instrumentator(
        should_group_status_codes=False,  # 200, 202, 401, 409... each its own series
        excluded_handlers=UNMEASURED,
        registry=registry,
    ).add(
        http_metrics.requests(registry=registry),
        http_metrics.latency(registry=registry, should_include_status=True),
    ).instrument(app).expose(app, endpoint="/metrics", include_in_schema=False)
    for middleware in app.user_middleware:  # the stack is built at the first request
        if middleware.cls is PrometheusInstrumentatorMiddleware:
            middleware.cls = RoutesFlattenedOnce  # type: ignore[assignment]  # same constructor
    registry.register(StoreCollector(app, settings))
    app.state.metrics = api_metrics
    return api_metrics


class RoutesFlattenedOnce(PrometheusInstrumentatorMiddleware):
    """The instrumentator's middleware, matching each request against the app's routes flattened
    once: the library flattens every included router again for every request (about 10 ms of CPU
    per request, profiled with bench/profile_signup.py)."""

    _routes: list[BaseRoute] | None = None

    def _get_handler(self, request: Request) -> tuple[str, bool]:
        if self.should_include_root_path:
            return super()._get_handler(request)
        if self._routes is None:
            self._routes = routing._effective_routes(request.app.routes)
        route_name = routing._get_route_name(request.scope, self._routes)
        return route_name or request.url.path, bool(route_name)


def record_signup(request: Request, program: str, created: bool) -> None:
    """Count a signup (an app assembled by a test without ``install`` counts nothing)."""
    found = getattr(request.app.state, "metrics", None)
    if isinstance(found, ApiMetrics):
        found.signup(program, created)


class StoreCollector(Collector):
    """Partners per stage, the application backlog and the webhook backlog, at scrape time."""

    def __init__(self, app: FastAPI, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def collect(self) -> Iterator[Metric]:
        engine: Engine | None = getattr(self.app.state, "engine", None)
        up = GaugeMetricFamily(catalogue.STORE_UP.name, catalogue.STORE_UP.help)
        if engine is None:  # before the lifespan has started
            up.add_metric([], 0)
            yield up
            return
        try:
            families = list(self._families(engine))
        except Exception as exc:
            log.warning("store metrics not collected: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self, engine: Engine) -> Iterator[Metric]:
        now = datetime.now(UTC)
        with session_scope(engine) as session:
            per_stage = stats.partners_per_stage(session)
            applications = stats.application_backlog(session, now - self.settings.approval_escalation)
            deliveries = stats.webhook_backlog(session)
        stages = GaugeMetricFamily(catalogue.PARTNERS.name, catalogue.PARTNERS.help, labels=["stage"])
        for stage in sorted({*(s.value for s in Stage), *per_stage}):  # every stage, 0 when empty
            stages.add_metric([stage], per_stage.get(stage, 0))
        yield stages
        yield _gauge(catalogue.APPLICATIONS_PENDING, applications.pending)
        yield _gauge(catalogue.APPLICATIONS_OVERDUE, applications.overdue)
        yield _gauge(catalogue.WEBHOOK_BACKLOG, deliveries.pending)
        age = (now - deliveries.oldest).total_seconds() if deliveries.oldest else 0.0
        yield _gauge(catalogue.WEBHOOK_BACKLOG_AGE, max(age, 0.0))


def _gauge(metric: catalogue.Metric, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(metric.name, metric.help, value=value)
