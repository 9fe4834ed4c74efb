"""Slack delivery: ``slack_sdk.WebClient``, or a local outbox folder."""

from __future__ import annotations

import logging
import urllib.error
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from partnerflow.activities.email_backends import safe_filename
from partnerflow.activities.errors import (
    PROVIDER_REJECTED,
    PermanentDeliveryError,
    TransientDeliveryError,
    is_transient_status,
)
from partnerflow.store.models import utcnow

log = logging.getLogger(__name__)

# Slack API error codes that a later retry can fix.
TRANSIENT_SLACK_ERRORS = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}


@dataclass
class OutboundSlack:
    idempotency_key: str
    channel: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)


class SlackBackend(Protocol):
    name: str

    def post(self, message: OutboundSlack) -> str | None:
        """Post ``message``; return the message timestamp (Slack's message id)."""
        ...


class SlackWebBackend:
    """Posts with ``chat.postMessage`` through the official ``slack_sdk`` client."""

    name = "slack"

    def __init__(self, token: str, base_url: str = WebClient.BASE_URL) -> None:
        # No client-side retry handlers: Temporal owns retries and their backoff.
        self.client = WebClient(token=token, base_url=base_url, timeout=15, retry_handlers=[])

    def post(self, message: OutboundSlack) -> str | None:
        try:
            response = self.client.chat_postMessage(
                channel=message.channel,
                text=message.text,
                blocks=message.blocks or None,
                unfurl_links=False,
            )
        except SlackApiError as exc:
            status = exc.response.status_code
            error = exc.response.get("error", "") if isinstance(exc.response.data, dict) else ""
            detail = f"Slack answered {status}: {error or exc.response.data!s:.300}"
            if is_transient_status(status) or error in TRANSIENT_SLACK_ERRORS:
                raise TransientDeliveryError(detail) from exc
            raise PermanentDeliveryError(PROVIDER_REJECTED, detail) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise TransientDeliveryError(f"Slack unreachable: {exc}") from exc
        ts = response.get("ts")
        return str(ts) if ts else None


class LocalOutboxSlackBackend:
    """Writes each Slack message as a text file under ``<data dir>/outbox/slack``."""

    name = "local"

    def __init__(self, directory: Path) -> None:
        self.directory = directory / "slack"

    def post(self, message: OutboundSlack) -> str | None:
        self.directory.mkdir(parents=True, exist_ok=True)
        now = utcnow()
        path = self.directory / f"{now:%Y%m%dT%H%M%S}-{safe_filename(message.idempotency_key)}.txt"
        path.write_text(f"To: {message.channel}\nAt: {now.isoformat()}\n\n{message.text}\n")
        log.info("slack message %s written to %s", message.idempotency_key, path)
        return f"local-{now.timestamp():.6f}"
