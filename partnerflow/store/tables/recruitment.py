"""Prospects, suppressed addresses and outreach campaigns."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from partnerflow.store.columns import ts_column as _ts
from partnerflow.store.columns import utcnow


class Prospect(SQLModel, table=True):
    """Someone a program would like to recruit (imported from CSV)."""

    __tablename__ = "prospects"
    __table_args__ = (UniqueConstraint("program", "email", name="uq_prospect_program_email"),)

    id: int | None = Field(default=None, primary_key=True)
    program: str = Field(default="default", index=True, max_length=64)
    email: str = Field(max_length=320)
    name: str = Field(default="", max_length=200)
    company: str | None = Field(default=None, max_length=200)
    website: str | None = Field(default=None, max_length=500)
    audience: str | None = Field(default=None, max_length=200)  # audience / niche
    source: str | None = Field(default=None, max_length=200)
    locale: str = Field(default="en", max_length=8)
    consent_note: str | None = Field(default=None, max_length=1000)  # basis for contacting them
    status: str = Field(
        default="new", index=True, max_length=16
    )  # new|contacted|converted|unsubscribed|bounced
    partner_id: str | None = Field(default=None, max_length=32)  # set when they sign up
    imported_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class EmailSuppression(SQLModel, table=True):
    """Addresses that must never get outreach again (unsubscribed, hard bounce)."""

    __tablename__ = "email_suppressions"

    email: str = Field(primary_key=True, max_length=320)
    reason: str = Field(max_length=32)  # unsubscribed | bounced
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class Campaign(SQLModel, table=True):
    """An outreach sequence: email steps with delays, sent to a list of prospects."""

    __tablename__ = "campaigns"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    program: str = Field(default="default", index=True, max_length=64)
    steps: str  # JSON list of {"template": str, "delay_days": float}
    messages_per_minute: int = 60
    status: str = Field(default="running", max_length=16)  # running | paused | completed | cancelled
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    # The last pause, resume or cancellation (migration 0011).
    status_changed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    status_changed_by: str | None = Field(default=None, max_length=200)
    cancel_reason: str | None = Field(default=None, max_length=500)


class CampaignMember(SQLModel, table=True):
    """A prospect's place in one campaign."""

    __tablename__ = "campaign_members"
    __table_args__ = (UniqueConstraint("campaign_id", "prospect_id", name="uq_member_campaign_prospect"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaigns.id", index=True)
    prospect_id: int = Field(foreign_key="prospects.id", index=True)
    status: str = Field(default="pending", index=True, max_length=16)
    # pending | in_sequence | completed | converted | unsubscribed | bounced | failed | cancelled
    steps_sent: int = 0
    last_sent_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
