"""The ``partnerflow_*`` business metrics: one catalogue, counted where each event happens.

The worker records its metrics on the Temporal runtime's meter (``activity.metric_meter()``),
so they are served beside the SDK's ``temporal_*`` metrics at ``PARTNERFLOW_WORKER_METRICS``;
activity metrics carry the SDK's ``namespace``, ``task_queue`` and ``activity_type`` labels too.
The API records its own with prometheus-client (``api/metrics.py``). Both take names, help and
labels from here, and the deploy tests check every dashboard and alert query against it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from temporalio import activity
from temporalio.common import MetricMeter

log = logging.getLogger(__name__)

DAY = 86_400.0


@dataclass(frozen=True)
class Metric:
    name: str
    kind: Literal["counter", "histogram", "gauge"]
    help: str
    labels: tuple[str, ...] = ()
    where: Literal["worker", "api"] = "worker"
    unit: str = ""
    buckets: tuple[float, ...] = ()

    @property
    def series(self) -> tuple[str, ...]:
        """The names Prometheus sees (counters get ``_total``, histograms their three series)."""
        if self.kind == "counter":
            return (f"{self.name}_total",)
        if self.kind == "histogram":
            return tuple(f"{self.name}_{suffix}" for suffix in ("bucket", "sum", "count"))
        return (self.name,)


# --- counted by the API -------------------------------------------------------------------------
SIGNUPS = Metric(
    "partnerflow_signups", "counter", "Signups received (new: a partner and workflow were created; "
    "repeat: a duplicate delivery).", ("program", "kind"), where="api",
)  # fmt: skip
# --- computed from the store when the API is scraped (one indexed query each) ------------------
PARTNERS = Metric("partnerflow_partners", "gauge", "Partners per lifecycle stage.", ("stage",), where="api")
APPLICATIONS_PENDING = Metric(
    "partnerflow_applications_pending", "gauge", "Applications waiting for a decision.", where="api"
)
APPLICATIONS_OVERDUE = Metric(
    "partnerflow_applications_overdue", "gauge",
    "Applications still undecided past PARTNERFLOW_APPROVAL_ESCALATION.", where="api",
)  # fmt: skip
WEBHOOK_BACKLOG = Metric(
    "partnerflow_webhook_deliveries_pending", "gauge", "Outbound webhook deliveries not yet delivered "
    "or given up.", where="api",
)  # fmt: skip
WEBHOOK_BACKLOG_AGE = Metric(
    "partnerflow_webhook_delivery_oldest_pending_seconds", "gauge",
    "Age of the oldest pending outbound webhook delivery.", where="api",
)  # fmt: skip
STORE_UP = Metric(
    "partnerflow_store_up", "gauge", "1 when the scrape's store queries succeeded.", where="api"
)

# --- counted by the worker's activities -----------------------------------------------------------
DECISIONS = Metric(
    "partnerflow_decisions", "counter", "Application decisions, by outcome and by who decided "
    "(manager: API or dashboard; slack; rule).", ("outcome", "via", "program"),
)  # fmt: skip
TIME_TO_DECISION = Metric(
    "partnerflow_time_to_decision_seconds", "histogram", "Time from signup to the decision.",
    ("outcome",), unit="s",
    buckets=(60, 600, 3600, 4 * 3600, 12 * 3600, DAY, 2 * DAY, 3 * DAY, 5 * DAY, 7 * DAY, 14 * DAY, 30 * DAY),
)  # fmt: skip
MESSAGES_SENT = Metric(
    "partnerflow_messages_sent", "counter", "Messages delivered, per channel, template and backend.",
    ("channel", "template", "backend"),
)  # fmt: skip
MESSAGES_FAILED = Metric(
    "partnerflow_messages_failed", "counter", "Message delivery attempts that failed "
    "(permanent: never retried; else Temporal retries).", ("channel", "template", "backend", "permanent"),
)  # fmt: skip
NUDGES = Metric(
    "partnerflow_nudges", "counter", "Non-essential nudges to partners: sent, suppressed "
    "(unsubscribed) or failed.", ("template", "outcome"),
)  # fmt: skip
REVIEWS = Metric(
    "partnerflow_reviews", "counter", "Periodic partner reviews computed, by segment and whether a "
    "tier change was proposed.", ("segment", "tier_change"),
)  # fmt: skip
WEBHOOK_DELIVERIES = Metric(
    "partnerflow_webhook_deliveries", "counter", "Outbound webhook deliveries that reached the subscriber.",
    ("event_type",),
)  # fmt: skip
WEBHOOK_FAILURES = Metric(
    "partnerflow_webhook_delivery_failures", "counter", "Outbound webhook attempts that failed (kind "
    "retry: Temporal tries again; final: 4xx or inactive subscription; gave_up: retries are over).",
    ("event_type", "kind"),
)  # fmt: skip
MIGRATION_PARTNERS = Metric(
    "partnerflow_migration_partners", "counter", "Migrated partners whose lifecycle started, or who were "
    "reminded, by phase.", ("phase", "step"),
)  # fmt: skip
CAMPAIGN_OUTREACH = Metric(
    "partnerflow_campaign_outreach", "counter", "Outreach steps to prospects, by outcome (sent, "
    "duplicate, bounced, failed, or why it was skipped).", ("step", "outcome"),
)  # fmt: skip
RUNS_COMPLETED = Metric(
    "partnerflow_runs_completed", "counter", "Recruitment campaigns and migrations that completed.", ("kind",)
)

CATALOGUE: tuple[Metric, ...] = (
    SIGNUPS, PARTNERS, APPLICATIONS_PENDING, APPLICATIONS_OVERDUE, WEBHOOK_BACKLOG, WEBHOOK_BACKLOG_AGE,
    STORE_UP, DECISIONS, TIME_TO_DECISION, MESSAGES_SENT, MESSAGES_FAILED, NUDGES, REVIEWS,
    WEBHOOK_DELIVERIES, WEBHOOK_FAILURES, MIGRATION_PARTNERS, CAMPAIGN_OUTREACH, RUNS_COMPLETED,
)  # fmt: skip


def exported_series() -> set[str]:
    """Every ``partnerflow_*`` series name the API and the worker can export."""
    return {series for metric in CATALOGUE for series in metric.series}


def histogram_buckets() -> dict[str, list[float]]:
    """Bucket overrides for the worker runtime's Prometheus exporter."""
    return {m.name: list(m.buckets) for m in CATALOGUE if m.where == "worker" and m.buckets}


def _meter() -> MetricMeter:
    """This activity's meter (the worker runtime's, with the activity's labels); no-op elsewhere."""
    if activity.in_activity():
        try:
            return activity.metric_meter()
        except RuntimeError:  # a sync activity outside a thread pool has no meter
            pass
    return MetricMeter.noop


def _labels(metric: Metric, labels: dict[str, object]) -> dict[str, str] | None:
    if set(labels) != set(metric.labels):  # Prometheus needs one label set per metric
        log.error("metric %s given labels %s, expected %s", metric.name, sorted(labels), metric.labels)
        return None
    return {key: str(value) for key, value in labels.items()}


def count(metric: Metric, value: int = 1, /, **labels: object) -> None:
    """Add to a worker counter from inside an activity."""
    assert metric.kind == "counter" and metric.where == "worker", metric.name
    attributes = _labels(metric, labels)
    if attributes is not None and value > 0:
        _meter().create_counter(metric.name, metric.help).add(value, attributes)


def observe(metric: Metric, value: float, /, **labels: object) -> None:
    """Record a worker histogram value from inside an activity."""
    assert metric.kind == "histogram" and metric.where == "worker", metric.name
    attributes = _labels(metric, labels)
    if attributes is not None:
        _meter().create_histogram_float(metric.name, metric.help, metric.unit).record(value, attributes)
