"""Shared activity options: timeouts and retry policies with their non-retryable errors."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

from partnerflow.domain.delivery import NON_RETRYABLE_DELIVERY_ERRORS

# Provider hiccups (429/5xx) back off 5 s, 10 s, 20 s, ... up to 2 minutes apart, for a day; then
# managers are told. A provider's own wait (Retry-After, X-RateLimit-Reset) replaces the backoff of
# that attempt, capped at 5 minutes (activities/messaging.py). A changed retry policy is safe for
# running workflows (docs/versioning.md): it is not part of the command's identity.
MESSAGE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
    non_retryable_error_types=[*NON_RETRYABLE_DELIVERY_ERRORS, "TemplateError", "PartnerNotFound"],
)
MESSAGE_ATTEMPT_TIMEOUT = timedelta(seconds=60)
MESSAGE_GIVE_UP_AFTER = timedelta(days=1)

# The database is the system of record: keep retrying through an outage, never give up.
STORE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=["LookupError"],
)
STORE_TIMEOUT = timedelta(seconds=30)
