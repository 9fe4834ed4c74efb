"""Delivery failures, classified so Temporal retries only what a retry can fix."""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parsedate_to_datetime


class PermanentDeliveryError(Exception):
    """The provider will never accept this message as it is (bad address, 400/401/403)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class TransientDeliveryError(Exception):
    """Worth retrying later (429, 5xx, network trouble).

    ``retry_after`` is the provider's own wait in seconds (Slack's ``Retry-After``, SendGrid's
    ``X-RateLimit-Reset``), when it gave one: the next attempt should not come sooner.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# ApplicationError types a workflow may see from the messaging activities; never retried.
INVALID_RECIPIENT = "InvalidRecipient"
PROVIDER_REJECTED = "ProviderRejected"
NON_RETRYABLE_DELIVERY_ERRORS = [INVALID_RECIPIENT, PROVIDER_REJECTED]


# Retryable ApplicationError type of a throttled attempt: it carries the provider's wait as
# ``next_retry_delay``, capped so a bad header never parks a message for hours.
PROVIDER_THROTTLED = "ProviderThrottled"
MAX_PROVIDER_RETRY_AFTER_SECONDS = 300.0


def is_transient_status(status: int) -> bool:
    return status == 429 or status >= 500 or status == 408


def retry_after_seconds(
    headers: Mapping[str, str] | None, now: float, reset_header: str | None = None
) -> float | None:
    """The wait a provider asked for: ``Retry-After`` (seconds or an HTTP date), or a reset time.

    ``reset_header`` names a header holding the Unix time when the limit resets (SendGrid's
    ``X-RateLimit-Reset``). None when the answer carries neither or they cannot be read.
    """
    if not headers:
        return None
    lowered = {str(name).lower(): str(value).strip() for name, value in headers.items()}
    retry_after = lowered.get("retry-after")
    if retry_after:
        if retry_after.isdigit():
            return float(retry_after)
        try:
            return max(0.0, parsedate_to_datetime(retry_after).timestamp() - now)
        except (TypeError, ValueError, IndexError):
            pass
    reset = lowered.get(reset_header.lower()) if reset_header else None
    if reset:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            return None
    return None
