"""Slack delivery: ``slack_sdk.WebClient``, or a local outbox folder."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from partnerflow.domain.delivery import (
    PROVIDER_REJECTED,
    PermanentDeliveryError,
    TransientDeliveryError,
    is_transient_status,
    retry_after_seconds,
)
from partnerflow.providers.email import safe_filename

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


class SlackInteractiveBackend(SlackBackend, Protocol):
    """What answering a button click needs besides posting."""

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        """Replace the message ``ts`` in ``channel`` (``chat.update``)."""
        ...

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> str | None:
        """Open a modal for the user who clicked (``views.open``); return the view id."""
        ...

    def post_ephemeral(self, channel: str, user: str, text: str) -> None:
        """A message only ``user`` sees (``chat.postEphemeral``)."""
        ...

    def usergroup_members(self, usergroup: str) -> list[str]:
        """User ids in a user group (``usergroups.users.list``)."""
        ...


class SlackWebBackend:
    """Posts with ``chat.postMessage`` through the official ``slack_sdk`` client."""

    name = "slack"

    def __init__(self, token: str, base_url: str = WebClient.BASE_URL) -> None:
        # No client-side retry handlers: Temporal owns retries and their backoff.
        self.client = WebClient(token=token, base_url=base_url, timeout=15, retry_handlers=[])

    def post(self, message: OutboundSlack) -> str | None:
        response = self._call(
            lambda: self.client.chat_postMessage(
                channel=message.channel,
                text=message.text,
                blocks=message.blocks or None,
                unfurl_links=False,
            )
        )
        ts = response.get("ts")
        return str(ts) if ts else None

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        self._call(lambda: self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks))

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> str | None:
        response = self._call(lambda: self.client.views_open(trigger_id=trigger_id, view=view))
        opened = response.get("view")
        return str(opened.get("id")) if isinstance(opened, dict) and opened.get("id") else None

    def post_ephemeral(self, channel: str, user: str, text: str) -> None:
        self._call(lambda: self.client.chat_postEphemeral(channel=channel, user=user, text=text))

    def usergroup_members(self, usergroup: str) -> list[str]:
        response = self._call(lambda: self.client.usergroups_users_list(usergroup=usergroup))
        return [str(user) for user in response.get("users") or []]

    @staticmethod
    def _call(request: Callable[[], SlackResponse]) -> SlackResponse:
        """Run one Web API call, classifying failures as transient or permanent."""
        try:
            return request()
        except SlackApiError as exc:
            status = exc.response.status_code
            error = exc.response.get("error", "") if isinstance(exc.response.data, dict) else ""
            detail = f"Slack answered {status}: {error or exc.response.data!s:.300}"
            if is_transient_status(status) or error in TRANSIENT_SLACK_ERRORS:
                # Slack's 429 says how long to back off in Retry-After (seconds).
                wait = retry_after_seconds(exc.response.headers, time.time())
                raise TransientDeliveryError(detail, retry_after=wait) from exc
            raise PermanentDeliveryError(PROVIDER_REJECTED, detail) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise TransientDeliveryError(f"Slack unreachable: {exc}") from exc


class LocalOutboxSlackBackend:
    """Writes each Slack message as a text file under ``<data dir>/outbox/slack``."""

    name = "local"

    def __init__(self, directory: Path) -> None:
        self.directory = directory / "slack"

    def post(self, message: OutboundSlack) -> str | None:
        self.directory.mkdir(parents=True, exist_ok=True)
        now = datetime.now(UTC)
        path = self.directory / f"{now:%Y%m%dT%H%M%S}-{safe_filename(message.idempotency_key)}.txt"
        path.write_text(f"To: {message.channel}\nAt: {now.isoformat()}\n\n{message.text}\n")
        log.info("slack message %s written to %s", message.idempotency_key, path)
        return f"local-{now.timestamp():.6f}"

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        self._write(f"update-{ts}", f"To: {channel}\nUpdates: {ts}\n\n{text}\n")

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> str | None:
        self._write(f"view-{trigger_id}", json.dumps(view, indent=2, ensure_ascii=False) + "\n")
        return None

    def post_ephemeral(self, channel: str, user: str, text: str) -> None:
        self._write(f"ephemeral-{user}", f"To: {channel} (only {user})\n\n{text}\n")

    def usergroup_members(self, usergroup: str) -> list[str]:
        log.warning("no Slack token: user group %s cannot be resolved, so it has no members", usergroup)
        return []

    def _write(self, name: str, content: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{safe_filename(name)}.log"
        path.write_text(content, encoding="utf-8")
        log.info("slack call written to %s", path)
