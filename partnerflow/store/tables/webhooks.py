"""Outbound webhook subscriptions and their deliveries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from partnerflow.store.columns import ts_column as _ts
from partnerflow.store.columns import utcnow


class WebhookSubscription(SQLModel, table=True):
    """An outside system that wants to hear about lifecycle events."""

    __tablename__ = "webhook_subscriptions"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000)
    secret: str = Field(max_length=128)
    event_types: str  # JSON list, e.g. ["partner.approved", "partner.offboarded"]; ["*"] for all
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class WebhookDelivery(SQLModel, table=True):
    """One event sent (or being sent) to one subscriber."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("subscription_id", "event_id", name="uq_delivery_subscription_event"),)

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="webhook_subscriptions.id", index=True)
    event_id: str = Field(max_length=128)
    event_type: str = Field(index=True, max_length=64)
    payload: str  # JSON body as sent
    status: str = Field(default="pending", index=True, max_length=16)  # pending | delivered | failed
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    delivered_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
