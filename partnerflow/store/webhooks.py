"""Webhook subscriptions and deliveries: one delivery row per (subscription, event)."""

from __future__ import annotations

import json
import secrets
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from partnerflow.domain.webhooks import DELIVERED, FAILED, PENDING, matches
from partnerflow.store.models import Partner, WebhookDelivery, WebhookSubscription, utcnow


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def create_subscription(
    session: Session, url: str, event_types: list[str], secret: str | None = None
) -> WebhookSubscription:
    subscription = WebhookSubscription(
        url=url, secret=secret or new_secret(), event_types=json.dumps(event_types)
    )
    session.add(subscription)
    session.flush()
    return subscription


def event_types_of(subscription: WebhookSubscription) -> list[str]:
    return list(json.loads(subscription.event_types))


def list_subscriptions(session: Session, include_inactive: bool = False) -> list[WebhookSubscription]:
    statement = select(WebhookSubscription).order_by(col(WebhookSubscription.id))
    if not include_inactive:
        statement = statement.where(col(WebhookSubscription.active).is_(True))
    return list(session.exec(statement))


def deactivate(session: Session, subscription_id: int) -> WebhookSubscription | None:
    subscription = session.get(WebhookSubscription, subscription_id)
    if subscription is not None and subscription.active:
        subscription.active = False
        session.add(subscription)
    return subscription


def partner_snapshot(session: Session, partner_id: str) -> dict[str, Any] | None:
    """What a subscriber needs to know who a ``partner.*`` event is about."""
    partner = session.get(Partner, partner_id)
    if partner is None:
        return None
    return partner.model_dump(
        mode="json", include={"id", "email", "name", "company", "website", "program", "locale", "tier"}
    )


def subscribed_to(session: Session, event_type: str) -> bool:
    """Whether any active subscription takes ``event_type`` (most programs have none)."""
    return any(matches(event_types_of(s), event_type) for s in list_subscriptions(session))


def record_event(session: Session, event_id: str, event_type: str, payload: str) -> list[WebhookDelivery]:
    """One delivery per matching active subscription (existing ones are found, not duplicated).

    Returns the deliveries still pending, i.e. those that may need a delivery workflow.
    """
    pending: list[WebhookDelivery] = []
    for subscription in list_subscriptions(session):
        if not matches(event_types_of(subscription), event_type):
            continue
        assert subscription.id is not None
        delivery = _find(session, subscription.id, event_id)
        if delivery is None:
            delivery = WebhookDelivery(
                subscription_id=subscription.id, event_id=event_id, event_type=event_type, payload=payload
            )
            try:
                with session.begin_nested():
                    session.add(delivery)
                    session.flush()
            except IntegrityError:  # a concurrent retry of the same event got there first
                delivery = _find(session, subscription.id, event_id)
                if delivery is None:
                    raise
        if delivery.status == PENDING:
            pending.append(delivery)
    return pending


def _find(session: Session, subscription_id: int, event_id: str) -> WebhookDelivery | None:
    return session.exec(
        select(WebhookDelivery).where(
            WebhookDelivery.subscription_id == subscription_id, WebhookDelivery.event_id == event_id
        )
    ).first()


def begin_attempt(session: Session, delivery_id: int) -> tuple[WebhookDelivery, WebhookSubscription] | None:
    """Count one attempt to an active subscriber (committed before the request goes out).

    None when the row is gone; an inactive subscription is returned uncounted.
    """
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        return None
    subscription = session.get(WebhookSubscription, delivery.subscription_id)
    if subscription is None:
        return None
    if subscription.active:
        delivery.attempts += 1
        session.add(delivery)
    return delivery, subscription


def mark_delivered(session: Session, delivery_id: int, status_code: int) -> None:
    delivery = _require(session, delivery_id)
    delivery.status = DELIVERED
    delivery.last_status_code = status_code
    delivery.last_error = None
    delivery.delivered_at = utcnow()
    session.add(delivery)


def note_failure(
    session: Session, delivery_id: int, error: str, status_code: int | None = None, permanent: bool = False
) -> None:
    """Record a failed attempt; only a permanent one (or giving up) changes the status."""
    delivery = _require(session, delivery_id)
    delivery.last_error = error[:2000]
    if status_code is not None:
        delivery.last_status_code = status_code
    if permanent and delivery.status != DELIVERED:
        delivery.status = FAILED
    session.add(delivery)


def give_up(session: Session, delivery_id: int, reason: str) -> None:
    """No more retries: failed (unless delivered meanwhile), keeping the last attempt's error."""
    delivery = _require(session, delivery_id)
    if delivery.status != DELIVERED:
        delivery.status = FAILED
        delivery.last_error = delivery.last_error or reason[:2000]
        session.add(delivery)


def reset_for_replay(session: Session, delivery_id: int) -> WebhookDelivery | None:
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is not None:
        delivery.status = PENDING
        session.add(delivery)
    return delivery


def list_deliveries(
    session: Session,
    status: str | None = None,
    subscription_id: int | None = None,
    event_type: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[WebhookDelivery]:
    statement = select(WebhookDelivery).order_by(col(WebhookDelivery.id).desc())
    if status:
        statement = statement.where(WebhookDelivery.status == status)
    if subscription_id is not None:
        statement = statement.where(WebhookDelivery.subscription_id == subscription_id)
    if event_type:
        statement = statement.where(WebhookDelivery.event_type == event_type)
    return list(session.exec(statement.offset(offset).limit(limit)))


def _require(session: Session, delivery_id: int) -> WebhookDelivery:
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise LookupError(f"webhook delivery {delivery_id} not found")
    return delivery
