"""Run code under the production log set-up, capturing what the handler writes."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from temporalio import activity, workflow

from partnerflow.config import Settings
from partnerflow.observability.logs import configure_logging


@contextmanager
def production_logs(settings: Settings, level: str | None = None) -> Iterator[io.StringIO]:
    """``configure_logging(settings)`` into a buffer; the previous handlers come back afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    saved_flags = (workflow.logger.workflow_info_on_message, activity.logger.activity_info_on_message)
    buffer = io.StringIO()
    if level:
        settings.log_level = level
    try:
        configure_logging(settings, stream=buffer)
        yield buffer
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
        workflow.logger.workflow_info_on_message, activity.logger.activity_info_on_message = saved_flags


def json_lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    """Every line parsed: the JSON format must never write anything else."""
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
