"""Outbound webhook activities: record an event's deliveries, then POST each one, signed.

Non-blocking by construction: ``record_webhook_event`` only writes the delivery rows and *starts*
one ``WebhookDeliveryWorkflow`` per delivery through the Temporal client (``services.webhooks``,
injected by the worker), then returns. Those
workflows are top-level executions (not children), so the publishing workflow never waits for a
subscriber, never holds their retries in its history (one marker per published event), can
continue-as-new freely, and a replay from the API simply starts the same workflow id again.
"""

from __future__ import annotations

import http.client
import logging
import urllib.error
import urllib.request
from typing import Any, Protocol

from sqlalchemy import Engine
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from partnerflow import __version__
from partnerflow.domain.delivery import TransientDeliveryError, is_transient_status
from partnerflow.domain.webhooks import (
    DELIVERED,
    DELIVERY_NOT_FOUND,
    SUBSCRIPTION_INACTIVE,
    WEBHOOK_REJECTED,
    DeliveryFailure,
    DeliveryOutcome,
    DeliveryPolicy,
    WebhookEvent,
)
from partnerflow.observability import metrics
from partnerflow.rendering import signing
from partnerflow.store import webhooks as store
from partnerflow.store.db import session_scope
from partnerflow.store.models import WebhookDelivery

log = logging.getLogger(__name__)


class Dispatch(Protocol):
    """Records an event's deliveries and starts their workflows (``services.webhooks.dispatch``).

    Injected by the worker, so this module never calls up into a use case.
    """

    async def __call__(
        self, engine: Engine, client: Client, task_queue: str, event: WebhookEvent, policy: DeliveryPolicy
    ) -> list[int]: ...


class WebhookActivities:
    """Deliveries go through ``policy`` (injectable: tests retry in fractions of a second)."""

    def __init__(
        self,
        engine: Engine,
        dispatch: Dispatch,
        policy: DeliveryPolicy | None = None,
        http_timeout: float = 10,
    ) -> None:
        self.engine = engine
        self.dispatch = dispatch
        self.policy = policy or DeliveryPolicy()
        self.http_timeout = http_timeout

    @activity.defn(name="record_webhook_event")
    async def record_webhook_event(self, event: WebhookEvent) -> list[int]:
        """One delivery per matching subscription, each sent by its own workflow; returns their ids."""
        return await self.dispatch(
            self.engine, activity.client(), activity.info().task_queue, event, self.policy
        )

    @activity.defn(name="deliver_webhook")
    def deliver_webhook(self, delivery_id: int) -> DeliveryOutcome:
        """POST the stored body, freshly signed: 2xx delivered, 4xx final, 5xx/network retried."""
        with session_scope(self.engine) as session:
            found = store.begin_attempt(session, delivery_id)
            if found is None:
                raise ApplicationError(
                    f"webhook delivery {delivery_id} not found", type=DELIVERY_NOT_FOUND, non_retryable=True
                )
            delivery, subscription = found
            url, secret, body, active, event_type = (
                subscription.url,
                subscription.secret,
                delivery.payload,
                subscription.active,
                delivery.event_type,
            )
            headers = _headers(secret, body.encode(), delivery.event_id, delivery.event_type)
        if not active:
            deactivated = f"subscription {subscription.id} was deactivated"
            self._failed(delivery_id, event_type, deactivated, None, permanent=True)
            raise ApplicationError(
                f"subscription {subscription.id} is inactive", type=SUBSCRIPTION_INACTIVE, non_retryable=True
            )
        try:
            status, reply = post(url, body.encode(), headers, self.http_timeout)
        except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets
            reason = getattr(exc, "reason", exc)
            self._failed(delivery_id, event_type, f"{url} unreachable: {reason}", None, permanent=False)
            raise TransientDeliveryError(f"{url} unreachable: {reason}") from exc
        if 200 <= status < 300:
            with session_scope(self.engine) as session:
                store.mark_delivered(session, delivery_id, status)
            metrics.count(metrics.WEBHOOK_DELIVERIES, event_type=event_type)
            return DeliveryOutcome(delivery_id, DELIVERED, status)
        detail = f"subscriber answered {status}" + (f": {reply.strip()[:300]}" if reply.strip() else "")
        if is_transient_status(status):
            self._failed(delivery_id, event_type, detail, status, permanent=False)
            raise TransientDeliveryError(detail)
        self._failed(delivery_id, event_type, detail, status, permanent=True)
        raise ApplicationError(detail, type=WEBHOOK_REJECTED, non_retryable=True)

    @activity.defn(name="record_webhook_failure")
    def record_webhook_failure(self, failure: DeliveryFailure) -> None:
        """Retries are over: the delivery is failed (a replay from the API can still send it)."""
        with session_scope(self.engine) as session:
            store.give_up(session, failure.delivery_id, failure.error)
            delivery = session.get(WebhookDelivery, failure.delivery_id)
            event_type = delivery.event_type if delivery else "unknown"
        metrics.count(metrics.WEBHOOK_FAILURES, event_type=event_type, kind="gave_up")

    def _failed(
        self, delivery_id: int, event_type: str, error: str, status: int | None, permanent: bool
    ) -> None:
        kind = "final" if permanent else "retry"
        log.warning("webhook delivery %s failed (%s): %s", delivery_id, kind, error)
        metrics.count(metrics.WEBHOOK_FAILURES, event_type=event_type, kind=kind)
        with session_scope(self.engine) as session:
            store.note_failure(session, delivery_id, error, status, permanent=permanent)


def _headers(secret: str, body: bytes, event_id: str, event_type: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": f"Partnerflow-Webhooks/{__version__}",
        signing.SIGNATURE_HEADER: signing.sign(secret, body),  # fresh timestamp on every attempt
        "Partnerflow-Event-Id": event_id,
        "Partnerflow-Event-Type": event_type,
    }


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer (3xx, final), never followed: the body must not change hands."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str]:
    """POST ``body``; the status and the start of the reply, whatever the status."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=timeout) as response:
            return int(response.status), response.read(1000).decode(errors="replace")
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read(1000).decode(errors="replace")
