"""Outbound webhooks: event types, the envelope subscribers receive, delivery policy (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

EVENT_TYPES = (
    "partner.applied",
    "partner.approved",
    "partner.rejected",
    "partner.onboarded",
    "partner.tier_changed",
    "partner.review_completed",
    "partner.offboarded",
    "prospect.converted",
)
ALL_EVENTS = "*"

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
DELIVERY_STATUSES = (PENDING, DELIVERED, FAILED)

# ApplicationError types of the delivery activity that no retry can fix.
WEBHOOK_REJECTED = "WebhookRejected"  # the subscriber answered 4xx (not 408/429) or 3xx
DELIVERY_NOT_FOUND = "WebhookDeliveryNotFound"
SUBSCRIPTION_INACTIVE = "WebhookSubscriptionInactive"
NON_RETRYABLE_WEBHOOK_ERRORS = [WEBHOOK_REJECTED, DELIVERY_NOT_FOUND, SUBSCRIPTION_INACTIVE]

DELIVERY_WORKFLOW = "WebhookDeliveryWorkflow"


def delivery_workflow_id(task_queue: str, delivery_id: int) -> str:
    """Row ids are per database: the task queue keeps two deployments on one namespace apart."""
    return f"webhook-delivery-{task_queue}-{delivery_id}"


def event_id(event_type: str, subject_id: str, discriminator: str = "") -> str:
    """Deterministic and run-independent: the same fact published twice is one event."""
    return f"{event_type}:{subject_id}" + (f":{discriminator}" if discriminator else "")


def matches(subscribed: list[str], event_type: str) -> bool:
    return ALL_EVENTS in subscribed or event_type in subscribed


@dataclass
class WebhookEvent:
    """A lifecycle fact to tell subscribers about (``record_webhook_event``'s input)."""

    event_type: str
    subject_id: str
    data: dict[str, Any]
    occurred_at: datetime  # workflow time: the body is the same whenever the activity runs
    discriminator: str = ""  # tells apart repeatable facts, e.g. the review period

    @property
    def id(self) -> str:
        return event_id(self.event_type, self.subject_id, self.discriminator)

    def envelope(self) -> dict[str, Any]:
        """The JSON body subscribers receive, identical on every attempt and replay."""
        return {
            "id": self.id,
            "type": self.event_type,
            "created_at": self.occurred_at.isoformat(),
            "data": self.data,
        }


@dataclass
class DeliveryPolicy:
    """How long and how often one delivery is retried (Temporal retry policy of ``deliver_webhook``)."""

    initial_interval: timedelta = timedelta(seconds=10)
    backoff_coefficient: float = 2.0
    maximum_interval: timedelta = timedelta(hours=1)
    give_up_after: timedelta = timedelta(days=3)
    attempt_timeout: timedelta = timedelta(seconds=30)  # the HTTP call itself times out after 10 s


@dataclass
class DeliveryInput:
    """``WebhookDeliveryWorkflow``'s input: one delivery row, sent until delivered or given up."""

    delivery_id: int
    policy: DeliveryPolicy = field(default_factory=DeliveryPolicy)


@dataclass
class DeliveryOutcome:
    delivery_id: int
    status: str  # delivered | failed
    status_code: int | None = None
    error: str | None = None


@dataclass
class DeliveryFailure:
    """Mark a delivery failed for good (retries exhausted or timed out)."""

    delivery_id: int
    error: str
