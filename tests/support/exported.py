"""Series names our processes export, for checking dashboards and alerts against them."""

from __future__ import annotations

# Temporal SDK series that deploy/ reads. tests/observability/test_worker_metrics.py checks that
# a real worker on the dev server exports every one of them (names depend on PrometheusConfig).
SDK_SERIES = frozenset(
    {
        "temporal_request_total",
        "temporal_request_failure_total",
        "temporal_workflow_task_schedule_to_start_latency_bucket",
        "temporal_activity_schedule_to_start_latency_bucket",
        "temporal_activity_execution_latency_bucket",
        "temporal_worker_task_slots_available",
        "temporal_worker_task_slots_used",
    }
)
