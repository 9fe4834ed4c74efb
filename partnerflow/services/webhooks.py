"""Outbound webhook use cases: record an event for every subscriber, start its delivery workflows.

Shared by the API (replay, ``prospect.converted``) and, injected by the worker, by the
``record_webhook_event`` activity.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from partnerflow.domain.webhooks import (
    DELIVERY_WORKFLOW,
    DeliveryInput,
    DeliveryPolicy,
    WebhookEvent,
    delivery_workflow_id,
)
from partnerflow.store import webhooks as store
from partnerflow.store.db import session_scope
from partnerflow.store.models import utcnow


async def dispatch(
    engine: Engine, client: Client, task_queue: str, event: WebhookEvent, policy: DeliveryPolicy
) -> list[int]:
    """Record ``event`` for every matching subscriber and start the pending deliveries (idempotent)."""
    pending = await asyncio.to_thread(_record, engine, event)
    await asyncio.gather(*(start_delivery(client, task_queue, i, policy) for i in pending))
    return pending


async def start_delivery(
    client: Client, task_queue: str, delivery_id: int, policy: DeliveryPolicy, replay: bool = False
) -> bool:
    """Start the delivery's workflow; a replay replaces a run still waiting to retry."""
    try:
        await client.start_workflow(
            DELIVERY_WORKFLOW,
            DeliveryInput(delivery_id, policy),
            id=delivery_workflow_id(task_queue, delivery_id),
            task_queue=task_queue,
            # First sends: once per delivery, ever, so a retried recording never sends twice.
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE
            if replay
            else WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.TERMINATE_EXISTING
            if replay
            else WorkflowIDConflictPolicy.FAIL,
        )
        return True
    except WorkflowAlreadyStartedError:
        return False


async def publish_from_api(
    engine: Engine,
    client: Client,
    event_type: str,
    data: dict[str, Any],
    subject_id: str | int,
    *,
    discriminator: str = "",
    task_queue: str | None = None,
    policy: DeliveryPolicy | None = None,
    occurred_at: datetime | None = None,
) -> list[int]:
    """Publish from an API route or an activity (e.g. ``prospect.converted``); not from workflows.

    ``task_queue`` defaults to the current activity's, else to the configured one.
    """
    if task_queue is None:
        if activity.in_activity():
            task_queue = activity.info().task_queue
        else:
            from partnerflow.config import Settings

            task_queue = Settings().task_queue
    event = WebhookEvent(event_type, str(subject_id), data, occurred_at or utcnow(), discriminator)
    return await dispatch(engine, client, task_queue, event, policy or DeliveryPolicy())


def _record(engine: Engine, event: WebhookEvent) -> list[int]:
    with session_scope(engine) as session:
        # Nobody to tell: no partner snapshot, no payload (every partner's journey publishes events).
        if not store.subscribed_to(session, event.event_type):
            return []
        data = dict(event.data)
        if event.event_type.startswith("partner.") and "partner" not in data:
            data["partner"] = store.partner_snapshot(session, event.subject_id)
        envelope = WebhookEvent(
            event.event_type, event.subject_id, data, event.occurred_at, event.discriminator
        )
        payload = json.dumps(envelope.envelope(), default=str)
        deliveries = store.record_event(session, event.id, event.event_type, payload)
        return [d.id for d in deliveries if d.id is not None]
