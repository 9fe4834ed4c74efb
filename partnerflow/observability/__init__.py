"""Metrics, traces and logs: what every partner's workflow is doing (issue #13).

- ``logs``: text or JSON log lines carrying partner, workflow, activity, request and trace ids;
  ``redaction`` keeps secrets, tokens and signatures out of every line.
- ``metrics``: the ``partnerflow_*`` business metrics (one catalogue; the worker records them on
  the Temporal runtime's meter, the API on prometheus-client).
- ``runtime``: the worker's Temporal runtime serving SDK and business metrics to Prometheus.
- ``tracing``: OpenTelemetry from the standard ``OTEL_*`` variables, off by default.
"""
