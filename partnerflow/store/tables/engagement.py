"""Performance events, tier rules and periodic reviews."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from partnerflow.store.columns import ts_column as _ts
from partnerflow.store.columns import utcnow


class PerformanceEvent(SQLModel, table=True):
    """A click, lead, conversion or refund attributed to a partner; ``event_id`` makes it idempotent."""

    __tablename__ = "performance_events"

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True, max_length=128)
    partner_id: str = Field(foreign_key="partners.id", index=True, max_length=32)
    type: str = Field(index=True, max_length=16)
    amount: float | None = None
    currency: str | None = Field(default=None, max_length=3)
    occurred_at: datetime = Field(sa_column=_ts(nullable=False, index=True))
    received_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    commissionable: bool = True
    source: str = Field(default="api", max_length=32)  # api | redirect


class Tier(SQLModel, table=True):
    """A program tier: its commission rate and what a partner must reach in a review period."""

    __tablename__ = "tiers"
    __table_args__ = (UniqueConstraint("program", "name", name="uq_tier_program_name"),)

    id: int | None = Field(default=None, primary_key=True)
    program: str = Field(index=True, max_length=64)
    name: str = Field(max_length=32)
    rank: int  # 0 = entry tier
    commission_rate: float  # 0.15 = 15 % of net revenue
    min_revenue: float = 0.0  # either threshold qualifies
    min_conversions: int = 0


class Review(SQLModel, table=True):
    """One periodic review of a partner: numbers, segment, proposed and applied tier."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("partner_id", "period_start", name="uq_review_partner_period"),)

    id: int | None = Field(default=None, primary_key=True)
    partner_id: str = Field(foreign_key="partners.id", index=True, max_length=32)
    program: str = Field(index=True, max_length=64)
    period_start: datetime = Field(sa_column=_ts(nullable=False))
    period_end: datetime = Field(sa_column=_ts(nullable=False))
    clicks: int = 0
    conversions: int = 0
    revenue: float = 0.0
    commission: float = 0.0
    revenue_share: float = 0.0
    segment: str = Field(max_length=16)
    tier_before: str | None = Field(default=None, max_length=32)
    tier_proposed: str | None = Field(default=None, max_length=32)
    tier_after: str | None = Field(default=None, max_length=32)
    decided_by: str | None = Field(default=None, max_length=200)  # a manager, or "auto" after 7 days
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


# --- recruitment, migration, outbound webhooks ---------------------------------------------------
