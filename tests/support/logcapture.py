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
    # Earlier tests may have run uvicorn with its default log config (own handlers, no
    # propagation) or left levels on our loggers: everything goes to the root handler here.
    ours = [
        logger
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger) and name.startswith(("uvicorn", "partnerflow"))
    ]
    saved_ours = [(lg, list(lg.handlers), lg.propagate, lg.level, lg.disabled) for lg in ours]
    for logger in ours:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.propagate, logger.disabled = True, False
        logger.setLevel(logging.NOTSET)
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
        for logger, handlers, propagate, level, disabled in saved_ours:
            for handler in handlers:
                logger.addHandler(handler)
            logger.propagate, logger.disabled = propagate, disabled
            logger.setLevel(level)
        workflow.logger.workflow_info_on_message, activity.logger.activity_info_on_message = saved_flags


def json_lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    """Every line parsed: the JSON format must never write anything else."""
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
