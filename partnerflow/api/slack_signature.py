"""Verifying Slack's requests: v0 signature over the raw body, 5-minute window, no replays."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

from fastapi import HTTPException, status
from slack_sdk.signature import SignatureVerifier

from partnerflow.config import Settings

WINDOW_SECONDS = 300  # Slack's recommended tolerance for X-Slack-Request-Timestamp


class ReplayGuard:
    """Remembers verified (timestamp, signature) pairs while they are inside the window."""

    def __init__(self, window: int = WINDOW_SECONDS) -> None:
        self.window = window
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def first_time(self, timestamp: str, signature: str, now: float) -> bool:
        with self._lock:
            self._seen = {key: until for key, until in self._seen.items() if until > now}
            if (timestamp, signature) in self._seen:
                return False
            self._seen[(timestamp, signature)] = max(now, float(timestamp)) + self.window
            return True


_replays = ReplayGuard()


def verify_slack_request(settings: Settings, body: bytes, headers: Mapping[str, str]) -> None:
    """Slack's v0 signature over the raw body, within 5 minutes, not seen before; else 401."""
    if settings.slack_signing_secret is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "set PARTNERFLOW_SLACK_SIGNING_SECRET")
    lowered = {name.lower(): value for name, value in headers.items()}
    timestamp, signature = lowered.get("x-slack-request-timestamp"), lowered.get("x-slack-signature")
    if not timestamp or not signature:
        raise _unauthorized("missing X-Slack-Request-Timestamp or X-Slack-Signature header")
    now = time.time()
    try:
        age = abs(now - int(timestamp))
    except ValueError:
        raise _unauthorized("X-Slack-Request-Timestamp is not a Unix timestamp") from None
    if age > WINDOW_SECONDS:
        raise _unauthorized(
            f"stale request: timestamp is {int(age)}s away from server time (max {WINDOW_SECONDS}s)"
        )
    verifier = SignatureVerifier(settings.slack_signing_secret.get_secret_value())
    if not verifier.is_valid(body, timestamp, signature):
        raise _unauthorized("invalid Slack signature")
    if not _replays.first_time(timestamp, signature, now):
        raise _unauthorized("replayed request")


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail)
