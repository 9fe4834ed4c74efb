"""Delivery failures, classified so Temporal retries only what a retry can fix."""

from __future__ import annotations


class PermanentDeliveryError(Exception):
    """The provider will never accept this message as it is (bad address, 400/401/403)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class TransientDeliveryError(Exception):
    """Worth retrying later (429, 5xx, network trouble)."""


# ApplicationError types a workflow may see from the messaging activities; never retried.
INVALID_RECIPIENT = "InvalidRecipient"
PROVIDER_REJECTED = "ProviderRejected"
NON_RETRYABLE_DELIVERY_ERRORS = [INVALID_RECIPIENT, PROVIDER_REJECTED]


def is_transient_status(status: int) -> bool:
    return status == 429 or status >= 500 or status == 408
