"""SQLModel tables. Schema changes go through an Alembic migration in ``migrations/``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

# Re-exported: table modules of their own and the column helpers are reached through this module too.
from partnerflow.store.columns import UTCDateTime as UTCDateTime
from partnerflow.store.columns import new_partner_id as new_partner_id
from partnerflow.store.columns import ts_column as _ts
from partnerflow.store.columns import utcnow as utcnow
from partnerflow.store.legacy_codes import LegacyCode as LegacyCode
from partnerflow.store.tables.approvals import Ban as Ban
from partnerflow.store.tables.counts import PartnerCount as PartnerCount
from partnerflow.store.tables.engagement import PerformanceEvent as PerformanceEvent
from partnerflow.store.tables.engagement import Review as Review
from partnerflow.store.tables.engagement import Tier as Tier
from partnerflow.store.tables.migration import MigratedPartner as MigratedPartner
from partnerflow.store.tables.migration import MigrationRun as MigrationRun
from partnerflow.store.tables.programs import ProgramPage as ProgramPage
from partnerflow.store.tables.recruitment import Campaign as Campaign
from partnerflow.store.tables.recruitment import CampaignMember as CampaignMember
from partnerflow.store.tables.recruitment import EmailSuppression as EmailSuppression
from partnerflow.store.tables.recruitment import Prospect as Prospect
from partnerflow.store.tables.uploads import StagedUpload as StagedUpload
from partnerflow.store.tables.webhooks import WebhookDelivery as WebhookDelivery
from partnerflow.store.tables.webhooks import WebhookSubscription as WebhookSubscription


class Partner(SQLModel, table=True):
    """A partner (or applicant) of one program; ``stage`` mirrors the workflow for listing."""

    __tablename__ = "partners"
    # One index per list filter, in the list's order (newest first: scanned backwards), so a page is
    # a short index range whatever the filter; the pipeline's order is time in stage.
    __table_args__ = (
        UniqueConstraint("program", "email", name="uq_partner_program_email"),
        Index("ix_partners_created", "created_at", "id"),
        Index("ix_partners_stage_created", "stage", "created_at", "id"),
        Index("ix_partners_program_created", "program", "created_at", "id"),
        Index("ix_partners_program_stage_created", "program", "stage", "created_at", "id"),
        Index("ix_partners_stage_changed", "stage", "stage_changed_at", "id"),
    )

    id: str = Field(default_factory=new_partner_id, primary_key=True, max_length=32)
    program: str = Field(max_length=64)
    email: str = Field(max_length=320)
    name: str = Field(max_length=200)
    company: str | None = Field(default=None, max_length=200)
    website: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=50)
    country: str | None = Field(default=None, max_length=2)  # ISO 3166-1 alpha-2, from the application
    locale: str = Field(default="en", max_length=8)
    source: str | None = Field(default=None, max_length=200)
    stage: str = Field(default="applied", max_length=32)
    tier: str | None = Field(default=None, max_length=32)
    segment: str | None = Field(default=None, max_length=16)  # top | middle | long_tail, from the last review
    unsubscribed_at: datetime | None = Field(
        default=None, sa_column=_ts(nullable=True)
    )  # non-essential email
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    stage_changed_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class Application(SQLModel, table=True):
    """A partner's latest application and the decision on it (a manager's or ``rule:<name>``).

    A rejected partner who reapplies after the program's ``reapply_after_days`` gets this row back
    pending, with ``attempt`` one higher; earlier decisions stay in the partner's history.
    """

    __tablename__ = "applications"
    __table_args__ = (Index("ix_applications_status_submitted", "status", "submitted_at", "partner_id"),)

    partner_id: str = Field(primary_key=True, foreign_key="partners.id", max_length=32)
    submitted_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False, index=True))
    status: str = Field(default="pending", max_length=16)  # pending|approved|rejected
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    reason: str | None = None
    share_reason: bool = False
    attempt: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class OutboxMessage(SQLModel, table=True):
    """Every message the service sent or tried to send, recorded before sending."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True, max_length=255)
    channel: str = Field(index=True, max_length=16)  # email | slack
    recipient: str = Field(index=True, max_length=320)
    template: str = Field(max_length=100)
    subject: str = Field(default="", max_length=500)
    body_text: str = ""
    body_html: str | None = None
    partner_id: str | None = Field(default=None, index=True, max_length=32)
    status: str = Field(default="pending", index=True, max_length=16)  # pending|sent|failed
    backend: str = Field(default="", max_length=32)
    provider_message_id: str | None = Field(default=None, max_length=255)
    attempts: int = 0
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False, index=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class Program(SQLModel, table=True):
    """A partner program; its landing URL is where tracking links send visitors."""

    __tablename__ = "programs"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    landing_url: str = Field(max_length=2000)
    currency: str = Field(default="USD", max_length=3)  # events in another currency are refused
    monthly_costs: float = 0.0  # platform, agency, management: counted in the program's ROI
    ingestion_key: str | None = Field(default=None, max_length=128)  # for POST /events
    engagement_rules: str | None = None  # JSON: overrides of the engagement thresholds
    approval_rules: str | None = None  # JSON: {"rules": [...]} (domain.approval_rules), first match decides
    reapply_after_days: int = Field(default=30, sa_column_kwargs={"server_default": "30"})
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class TermsVersion(SQLModel, table=True):
    """One published version of a program's partner terms (Markdown, rendered to HTML)."""

    __tablename__ = "terms_versions"
    __table_args__ = (UniqueConstraint("program", "version", name="uq_terms_program_version"),)

    id: int | None = Field(default=None, primary_key=True)
    program: str = Field(index=True, max_length=64)
    version: int
    title: str = Field(max_length=200)
    body_markdown: str
    body_html: str
    published_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    published_by: str = Field(default="", max_length=200)


class TermsAcceptance(SQLModel, table=True):
    """Audit record: who accepted which terms version, when, from where."""

    __tablename__ = "terms_acceptances"
    __table_args__ = (UniqueConstraint("partner_id", "terms_version_id", name="uq_acceptance_partner_terms"),)

    id: int | None = Field(default=None, primary_key=True)
    partner_id: str = Field(foreign_key="partners.id", index=True, max_length=32)
    terms_version_id: int = Field(foreign_key="terms_versions.id")
    version: int
    accepted_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=500)


class Resource(SQLModel, table=True):
    """An asset in a program's library (logo, banner, product sheet, guide, video)."""

    __tablename__ = "resources"

    id: int | None = Field(default=None, primary_key=True)
    program: str = Field(index=True, max_length=64)
    title: str = Field(max_length=200)
    kind: str = Field(max_length=32)
    url: str = Field(max_length=2000)
    locale: str | None = Field(default=None, max_length=8)  # None: every locale
    tier: str | None = Field(default=None, max_length=32)  # None: every tier
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class TrackingLink(SQLModel, table=True):
    """A partner's unique tracking code; ``GET /r/<code>`` redirects and counts a click."""

    __tablename__ = "tracking_links"

    code: str = Field(primary_key=True, max_length=64)
    partner_id: str = Field(foreign_key="partners.id", unique=True, max_length=32)
    program: str = Field(max_length=64)
    active: bool = True  # inactive links still redirect but earn nothing
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class Webinar(SQLModel, table=True):
    """A training session partners are invited to."""

    __tablename__ = "webinars"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    starts_at: datetime = Field(sa_column=_ts(nullable=False, index=True))
    timezone: str = Field(default="UTC", max_length=64)  # IANA name, for display
    duration_minutes: int = 60
    join_url: str = Field(max_length=2000)
    capacity: int
    program: str | None = Field(default=None, max_length=64)  # None: every program
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    sequence: int = 0  # the .ics SEQUENCE: bumped by every reschedule and by the cancellation
    cancelled_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    cancel_reason: str | None = Field(default=None, max_length=500)


class WebinarSeat(SQLModel, table=True):
    """A partner's invitation to one webinar and what became of it."""

    __tablename__ = "webinar_seats"
    __table_args__ = (UniqueConstraint("webinar_id", "partner_id", name="uq_seat_webinar_partner"),)

    id: int | None = Field(default=None, primary_key=True)
    webinar_id: int = Field(foreign_key="webinars.id", index=True)
    partner_id: str = Field(foreign_key="partners.id", index=True, max_length=32)
    status: str = Field(default="invited", max_length=16)  # invited | attended | no_show
    invited_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    attended_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
