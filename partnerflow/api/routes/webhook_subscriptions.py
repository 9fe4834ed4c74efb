"""Outbound webhooks (manager token): who hears about lifecycle events, and what was sent."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import Engine

from partnerflow.api.bounds import Offset, OptionalRowId, RowId
from partnerflow.api.deps import MANAGER_AUTH, EngineDep, ManagerDep, SettingsDep, TemporalDep
from partnerflow.api.errors import responses
from partnerflow.domain.urls import HttpUrlStr
from partnerflow.domain.webhooks import ALL_EVENTS, EVENT_TYPES, DeliveryPolicy
from partnerflow.services.webhooks import start_delivery
from partnerflow.store import webhooks as store
from partnerflow.store.db import session_scope
from partnerflow.store.models import WebhookDelivery, WebhookSubscription

router = APIRouter(prefix="/webhook-subscriptions", tags=["outbound webhooks"], responses=MANAGER_AUTH)
deliveries_router = APIRouter(
    prefix="/webhook-deliveries", tags=["outbound webhooks"], responses=MANAGER_AUTH
)
routers = (router, deliveries_router)


class SubscriptionIn(BaseModel):
    url: HttpUrlStr = Field(description="http(s) URL that receives signed POSTs")
    event_types: list[str] = Field(
        min_length=1, max_length=50, description=f"any of {', '.join(EVENT_TYPES)}, or ['*']"
    )
    secret: str | None = Field(
        default=None, min_length=16, max_length=128, description="generated (and shown once) when empty"
    )

    @field_validator("event_types")
    @classmethod
    def _known_types(cls, values: list[str]) -> list[str]:
        unknown = [v for v in values if v not in (*EVENT_TYPES, ALL_EVENTS)]
        if unknown:
            raise ValueError(f"unknown event type(s) {unknown}; expected {', '.join(EVENT_TYPES)} or '*'")
        return [ALL_EVENTS] if ALL_EVENTS in values else list(dict.fromkeys(values))


class SubscriptionOut(BaseModel):
    id: int
    url: str
    event_types: list[str]
    active: bool
    created_at: datetime


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="signs every delivery (Partnerflow-Signature); shown only now")


class SubscriptionList(BaseModel):
    items: list[SubscriptionOut]


class DeliveryOut(BaseModel):
    id: int
    subscription_id: int
    event_id: str
    event_type: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]


class DeliveryList(BaseModel):
    items: list[DeliveryOut]


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=SubscriptionCreated, responses=responses(422)
)
def create_subscription(body: SubscriptionIn, engine: EngineDep, _manager: ManagerDep) -> SubscriptionCreated:
    """Subscribe a URL to event types; the response carries the signing secret, once."""
    with session_scope(engine) as session:
        row = store.create_subscription(session, body.url, body.event_types, body.secret)
    return SubscriptionCreated(**_subscription(row).model_dump(), secret=row.secret)


@router.get("", response_model=SubscriptionList, responses=responses(422))
def list_subscriptions(
    engine: EngineDep, _manager: ManagerDep, include_inactive: bool = False
) -> SubscriptionList:
    """Subscriptions (active ones unless asked), without their secrets."""
    with session_scope(engine) as session:
        rows = store.list_subscriptions(session, include_inactive)
    return SubscriptionList(items=[_subscription(row) for row in rows])


@router.delete(
    "/{subscription_id}",
    response_model=SubscriptionOut,
    responses=responses(422, not_found="unknown subscription"),
)
def deactivate_subscription(
    subscription_id: RowId, engine: EngineDep, _manager: ManagerDep
) -> SubscriptionOut:
    """Stop sending to a subscription (its pending retries end too); deliveries stay listed."""
    with session_scope(engine) as session:
        row = store.deactivate(session, subscription_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"subscription {subscription_id} not found")
    return _subscription(row)


@deliveries_router.get("", response_model=DeliveryList, responses=responses(422))
def list_deliveries(
    engine: EngineDep,
    _manager: ManagerDep,
    status: Literal["pending", "delivered", "failed"] | None = None,
    subscription_id: OptionalRowId = None,
    event_type: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: Offset = 0,
) -> DeliveryList:
    """Deliveries, newest first, with their status and attempts."""
    with session_scope(engine) as session:
        rows = store.list_deliveries(session, status, subscription_id, event_type, limit, offset)
    return DeliveryList(items=[_delivery(row) for row in rows])


@deliveries_router.post(
    "/{delivery_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryOut,
    responses=responses(422, 503, not_found="unknown delivery", conflict="subscription inactive"),
)
async def replay_delivery(
    delivery_id: RowId, engine: EngineDep, client: TemporalDep, settings: SettingsDep, _manager: ManagerDep
) -> DeliveryOut:
    """Send a delivery again now: same event id and body, a fresh signature, retried as usual."""
    delivery = await run_in_threadpool(_reset, engine, delivery_id)
    await start_delivery(client, settings.task_queue, delivery_id, DeliveryPolicy(), replay=True)
    return _delivery(delivery)


def _reset(engine: Engine, delivery_id: int) -> WebhookDelivery:
    with session_scope(engine) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"delivery {delivery_id} not found")
        subscription = session.get(WebhookSubscription, delivery.subscription_id)
        if subscription is None or not subscription.active:
            raise HTTPException(
                status.HTTP_409_CONFLICT, f"subscription {delivery.subscription_id} is not active"
            )
        store.reset_for_replay(session, delivery_id)
        return delivery


def _subscription(row: WebhookSubscription) -> SubscriptionOut:
    assert row.id is not None
    return SubscriptionOut(
        id=row.id,
        url=row.url,
        event_types=store.event_types_of(row),
        active=row.active,
        created_at=row.created_at,
    )


def _delivery(row: WebhookDelivery) -> DeliveryOut:
    assert row.id is not None
    return DeliveryOut(
        **row.model_dump(exclude={"payload"}),
        payload=json.loads(row.payload),
    )
