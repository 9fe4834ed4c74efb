"""Log set-up for every process: text (default) or one JSON object per line, ids on each record.

``PARTNERFLOW_LOG_FORMAT=json`` gives machine-readable lines carrying, where they exist, the
partner id, workflow id and run id, activity name, HTTP request id and trace id. Temporal's own
``workflow.logger`` and ``activity.logger`` attach ``temporal_workflow`` / ``temporal_activity``
dicts; plain loggers inside an activity get the same ids from the activity context.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import IO, Any

from opentelemetry import trace
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter
from temporalio import activity
from temporalio import workflow as temporal_workflow

from partnerflow.config import Settings
from partnerflow.observability import context
from partnerflow.observability.redaction import RedactionFilter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
ID_FIELDS = ("partner_id", "workflow_id", "run_id", "workflow_type", "activity", "request_id", "trace_id")
_PARTNER_WORKFLOW_PREFIX = "partner-"


class ContextFilter(logging.Filter):
    """Puts the ids of the current request, activity, workflow and trace on the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields: dict[str, Any] = dict(context.current())
        workflow_details = getattr(record, "temporal_workflow", None)
        activity_details = getattr(record, "temporal_activity", None)
        if isinstance(workflow_details, dict):  # workflow.logger
            fields.update(
                workflow_id=workflow_details.get("workflow_id"),
                run_id=workflow_details.get("run_id"),
                workflow_type=workflow_details.get("workflow_type"),
            )
        elif isinstance(activity_details, dict):  # activity.logger
            fields.update(_activity_fields(activity_details))
        elif activity.in_activity():  # a plain logger, called inside an activity
            info = activity.info()
            fields.update(
                _activity_fields(
                    {
                        "workflow_id": info.workflow_id,
                        "workflow_run_id": info.workflow_run_id,
                        "workflow_type": info.workflow_type,
                        "activity_type": info.activity_type,
                    }
                )
            )
        workflow_id = fields.get("workflow_id")
        if isinstance(workflow_id, str) and workflow_id.startswith(_PARTNER_WORKFLOW_PREFIX):
            fields.setdefault("partner_id", workflow_id.removeprefix(_PARTNER_WORKFLOW_PREFIX))
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            fields.setdefault("trace_id", trace.format_trace_id(span.trace_id))
            fields.setdefault("span_id", trace.format_span_id(span.span_id))
        for key, value in fields.items():
            if value and not hasattr(record, key):
                setattr(record, key, value)
        return True


def _activity_fields(details: dict[str, Any]) -> dict[str, Any]:
    return {
        "workflow_id": details.get("workflow_id"),
        "run_id": details.get("workflow_run_id"),
        "workflow_type": details.get("workflow_type"),
        "activity": details.get("activity_type"),
    }


def json_formatter() -> logging.Formatter:
    """python-json-logger: time, level, logger, message, then every id and extra of the record."""
    return JsonFormatter(
        "{levelname}{name}{message}",
        style="{",
        timestamp="time",  # ISO 8601, UTC
        rename_fields={"levelname": "level", "name": "logger"},
        # Temporal's dicts are flattened into the id fields; uvicorn's coloured copy adds nothing.
        reserved_attrs=[*RESERVED_ATTRS, "temporal_workflow", "temporal_activity", "color_message"],
        json_ensure_ascii=False,
    )


def configure_logging(
    settings: Settings, stream: IO[str] | None = None, extra_secrets: Iterable[str] = ()
) -> logging.Handler:
    """One root handler (replacing any) with the id and redaction filters; returns it.

    uvicorn is run with ``log_config=None`` by the CLI, so its access log comes through here too.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(json_formatter())
        # The ids are fields of their own: no "({'workflow_id': ...})" tail on each message.
        temporal_workflow.logger.workflow_info_on_message = False
        activity.logger.activity_info_on_message = False
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactionFilter([*settings.secret_values, *extra_secrets]))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    return handler
