"""What every dashboard form post shares: post/redirect/get with a flash, Temporal, form values."""

from __future__ import annotations

from fastapi import Request, status
from fastapi.responses import RedirectResponse
from temporalio.client import Client

from partnerflow.api.dashboard import auth
from partnerflow.config import Settings

NO_TEMPORAL = "Temporal is not reachable yet; nothing was changed. Try again in a moment."
RETRY = "Temporal did not answer; nothing was changed. Try again."
CONFIRM_VALUE = "yes"  # the value of every "I understand" checkbox of a destructive action


def redirect(settings: Settings, target: str, kind: str, message: str) -> RedirectResponse:
    """303 to ``target`` (a dashboard path), showing ``message`` there once."""
    response = RedirectResponse(auth.safe_next(target), status.HTTP_303_SEE_OTHER)
    auth.flash(response, settings, kind, message)
    return response


def temporal(request: Request) -> Client | None:
    client: Client | None = request.app.state.temporal
    return client


def lines(text: str, limit: int = 10_000) -> list[str]:
    """Non-empty, stripped lines (or comma-separated values) of a textarea."""
    values = [part.strip() for line in text.splitlines() for part in line.split(",")]
    return [value for value in values if value][:limit]


def confirmed(value: str) -> bool:
    return value == CONFIRM_VALUE
