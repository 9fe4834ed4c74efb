"""Verifying Slack's requests: v0 signature over the raw body, 5-minute window, no replays.

Replays are refused across every API process and restart: each verified (timestamp, signature)
is remembered in the database (``seen_requests``) until its window has passed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime

from fastapi import HTTPException, status
from fastapi.concurrency import run_in_threadpool
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine

from partnerflow.config import Settings
from partnerflow.store import guards

WINDOW_SECONDS = 300  # Slack's recommended tolerance for X-Slack-Request-Timestamp


async def verify_slack_request(
    settings: Settings, engine: Engine, body: bytes, headers: Mapping[str, str]
) -> None:
    """Slack's v0 signature over the raw body, within 5 minutes, not seen before by any process; else 401."""
    timestamp, signature = check_signature(settings, body, headers)
    # A request older than the window is refused above, so its record can go once the window has
    # passed for the later of its timestamp and now.
    expires = datetime.fromtimestamp(max(time.time(), float(timestamp)) + WINDOW_SECONDS, UTC)
    key = guards.request_key("slack", timestamp, signature)
    if not await run_in_threadpool(guards.first_time, engine, "slack", key, expires):
        raise _unauthorized("replayed request")


def check_signature(settings: Settings, body: bytes, headers: Mapping[str, str]) -> tuple[str, str]:
    """The request's timestamp and signature once both are valid and fresh; 401 (503 unconfigured) else."""
    if settings.slack_signing_secret is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "set PARTNERFLOW_SLACK_SIGNING_SECRET")
    lowered = {name.lower(): value for name, value in headers.items()}
    timestamp, signature = lowered.get("x-slack-request-timestamp"), lowered.get("x-slack-signature")
    if not timestamp or not signature:
        raise _unauthorized("missing X-Slack-Request-Timestamp or X-Slack-Signature header")
    try:
        age = abs(time.time() - int(timestamp))
    except ValueError:
        raise _unauthorized("X-Slack-Request-Timestamp is not a Unix timestamp") from None
    if age > WINDOW_SECONDS:
        raise _unauthorized(
            f"stale request: timestamp is {int(age)}s away from server time (max {WINDOW_SECONDS}s)"
        )
    verifier = SignatureVerifier(settings.slack_signing_secret.get_secret_value())
    if not verifier.is_valid(body, timestamp, signature):
        raise _unauthorized("invalid Slack signature")
    return timestamp, signature


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail)
