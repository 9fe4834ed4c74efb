"""Outbound webhooks from workflows: ``publish`` (never fails, never waits on a subscriber)
and ``WebhookDeliveryWorkflow`` (one per delivery: retries with backoff, then gives up).

Why the recording activity starts the delivery workflows (through the Temporal client) rather
than the partner workflow starting children with ``ParentClosePolicy.ABANDON``: a child costs the
parent two or three history events per subscriber (initiated, started, and later completed),
and the parent must wait for each start before it may continue-as-new. ``publish`` instead runs
one *local* activity: a single marker event per published event, whatever the number of
subscribers, and nothing left in flight. A local activity runs on the worker running the
workflow: a worker with this code but without the webhook activities fails the workflow task
(retried by Temporal until the worker is fixed) rather than silently dropping events.

Delivery is at-least-once, each event on its own schedule: subscribers dedupe on the body's
``id`` and order by its ``created_at`` (a subscriber that was down gets its backlog by retries).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from partnerflow.activities.webhooks import WebhookActivities
    from partnerflow.domain.webhooks import (
        DELIVERY_WORKFLOW,
        FAILED,
        NON_RETRYABLE_WEBHOOK_ERRORS,
        DeliveryFailure,
        DeliveryInput,
        DeliveryOutcome,
        WebhookEvent,
    )
    from partnerflow.workflows.policies import STORE_RETRY, STORE_TIMEOUT

# Old histories have no webhook markers: they replay without publishing, their next run publishes.
WEBHOOKS_PATCH = "outbound-webhooks"

# Recording is a database write plus workflow starts: retried through an outage, then dropped
# (logged) after a day rather than holding the partner's workflow any longer.
PUBLISH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=10)
)
PUBLISH_ATTEMPT_TIMEOUT = timedelta(seconds=30)
PUBLISH_GIVE_UP_AFTER = timedelta(days=1)


async def publish(event_type: str, data: dict[str, Any], subject_id: str, discriminator: str = "") -> bool:
    """Tell subscribers about ``event_type``; False (logged) if it could not be recorded.

    ``discriminator`` tells apart facts that can recur for one subject (e.g. the review
    period); the event id ``<type>:<subject>[:<discriminator>]`` makes publishing idempotent.
    """
    if not workflow.patched(WEBHOOKS_PATCH):
        return False
    event = WebhookEvent(event_type, str(subject_id), data, workflow.now(), discriminator)
    try:
        await workflow.execute_local_activity_method(
            WebhookActivities.record_webhook_event,
            event,
            start_to_close_timeout=PUBLISH_ATTEMPT_TIMEOUT,
            schedule_to_close_timeout=PUBLISH_GIVE_UP_AFTER,
            retry_policy=PUBLISH_RETRY,
        )
        return True
    except ActivityError as err:
        workflow.logger.error("webhook event %s not published: %s", event.id, _describe(err))
        return False


@workflow.defn(name=DELIVERY_WORKFLOW)
class WebhookDeliveryWorkflow:
    """Sends one delivery until the subscriber takes it, refuses it, or the policy gives up."""

    @workflow.run
    async def run(self, input: DeliveryInput) -> DeliveryOutcome:
        policy = input.policy
        try:
            return await workflow.execute_activity_method(
                WebhookActivities.deliver_webhook,
                input.delivery_id,
                start_to_close_timeout=policy.attempt_timeout,
                schedule_to_close_timeout=policy.give_up_after,
                retry_policy=RetryPolicy(
                    initial_interval=policy.initial_interval,
                    backoff_coefficient=policy.backoff_coefficient,
                    maximum_interval=policy.maximum_interval,
                    non_retryable_error_types=NON_RETRYABLE_WEBHOOK_ERRORS,
                ),
            )
        except ActivityError as err:
            reason = _describe(err)
            workflow.logger.warning("webhook delivery %s failed for good: %s", input.delivery_id, reason)
            await workflow.execute_activity_method(
                WebhookActivities.record_webhook_failure,
                DeliveryFailure(input.delivery_id, f"gave up: {reason}"),
                start_to_close_timeout=STORE_TIMEOUT,
                retry_policy=STORE_RETRY,
            )
            return DeliveryOutcome(input.delivery_id, FAILED, error=reason)


def _describe(err: ActivityError) -> str:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return f"{cause.type}: {cause.message}"
    return str(cause or err)
