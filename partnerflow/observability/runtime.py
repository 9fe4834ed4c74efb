"""The worker's Temporal runtime: SDK metrics and ``partnerflow_*`` metrics on one Prometheus endpoint."""

from __future__ import annotations

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from partnerflow.config import Settings
from partnerflow.observability.metrics import histogram_buckets


def worker_runtime(settings: Settings) -> Runtime | None:
    """A runtime serving ``http://<PARTNERFLOW_WORKER_METRICS>/metrics``; None when that is empty.

    Counters end in ``_total`` and durations are seconds, like the API's prometheus-client
    metrics, so one dashboard reads both the same way. A client connected with this runtime
    (``services.temporal.connect(settings, runtime)``) and the worker built on it report there,
    and so does every activity through ``activity.metric_meter()``.
    """
    address = settings.worker_metrics.strip()
    if not address:
        return None
    return Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(
                bind_address=address,
                counters_total_suffix=True,
                durations_as_seconds=True,
                histogram_bucket_overrides=histogram_buckets(),
            ),
        )
    )


def metrics_url(settings: Settings) -> str | None:
    """Where the worker's metrics are served, for banners and logs."""
    address = settings.worker_metrics.strip()
    if not address:
        return None
    host, _, port = address.rpartition(":")
    shown = "localhost" if host in ("0.0.0.0", "127.0.0.1", "") else host
    return f"http://{shown}:{port}/metrics"
