"""The partnerflow_* catalogue: well-formed, documented, and recorded with its own label set only."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from temporalio.testing import ActivityEnvironment

from partnerflow.observability import metrics
from partnerflow.observability.metrics import CATALOGUE, exported_series, histogram_buckets

DOCS = Path(__file__).resolve().parents[2] / "docs" / "observability.md"


def test_names_are_unique_prefixed_and_documented() -> None:
    documented = DOCS.read_text()
    assert len({m.name for m in CATALOGUE}) == len(CATALOGUE)
    for metric in CATALOGUE:
        assert metric.name.startswith("partnerflow_") and not metric.name.endswith("_total")
        shown = metric.series[0] if metric.kind == "counter" else metric.name
        assert f"`{shown}`" in documented, f"{shown} is not in docs/observability.md"
        assert len(set(metric.labels)) == len(metric.labels)
    assert "partnerflow_decisions_total" in exported_series()
    assert "partnerflow_time_to_decision_seconds_bucket" in exported_series()


def test_worker_histograms_get_their_buckets() -> None:
    buckets = histogram_buckets()
    assert buckets["partnerflow_time_to_decision_seconds"][-1] == 30 * 86_400
    assert all(m.where == "worker" for m in CATALOGUE if m.name in buckets)


def test_outside_an_activity_recording_is_a_no_op() -> None:
    metrics.count(metrics.MESSAGES_SENT, channel="email", template="welcome", backend="local")


def test_a_wrong_label_set_is_logged_not_recorded(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="partnerflow.observability.metrics"):
        ActivityEnvironment().run(lambda: metrics.count(metrics.DECISIONS, outcome="approved"))
    assert "partnerflow_decisions given labels ['outcome']" in caplog.text
