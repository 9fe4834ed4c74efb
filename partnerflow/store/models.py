"""SQLModel tables. Schema changes go through an Alembic migration in ``migrations/``."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy import Column, DateTime, Dialect, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_partner_id() -> str:
    return uuid4().hex[:16]


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite drops the offset otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def _ts(**kwargs: object) -> Column[datetime]:
    return Column(UTCDateTime(), **kwargs)  # type: ignore[arg-type]


class Partner(SQLModel, table=True):
    """A partner (or applicant) of one program; ``stage`` mirrors the workflow for listing."""

    __tablename__ = "partners"
    __table_args__ = (UniqueConstraint("program", "email", name="uq_partner_program_email"),)

    id: str = Field(default_factory=new_partner_id, primary_key=True, max_length=32)
    program: str = Field(index=True, max_length=64)
    email: str = Field(max_length=320)
    name: str = Field(max_length=200)
    company: str | None = Field(default=None, max_length=200)
    website: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=50)
    locale: str = Field(default="en", max_length=8)
    source: str | None = Field(default=None, max_length=200)
    stage: str = Field(default="applied", index=True, max_length=32)
    tier: str | None = Field(default=None, max_length=32)
    segment: str | None = Field(default=None, max_length=16)  # top | middle | long_tail, from the last review
    unsubscribed_at: datetime | None = Field(
        default=None, sa_column=_ts(nullable=True)
    )  # non-essential email
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    stage_changed_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class Application(SQLModel, table=True):
    """A partner's application and the manager decision on it (one per partner)."""

    __tablename__ = "applications"

    partner_id: str = Field(primary_key=True, foreign_key="partners.id", max_length=32)
    submitted_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False, index=True))
    status: str = Field(default="pending", index=True, max_length=16)  # pending|approved|rejected
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    reason: str | None = None
    share_reason: bool = False


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
    status: str = Field(default="running", max_length=16)  # running | completed | cancelled
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class CampaignMember(SQLModel, table=True):
    """A prospect's place in one campaign."""

    __tablename__ = "campaign_members"
    __table_args__ = (UniqueConstraint("campaign_id", "prospect_id", name="uq_member_campaign_prospect"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaigns.id", index=True)
    prospect_id: int = Field(foreign_key="prospects.id", index=True)
    status: str = Field(default="pending", index=True, max_length=16)
    # pending | in_sequence | completed | converted | unsubscribed | bounced
    steps_sent: int = 0
    last_sent_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class MigrationRun(SQLModel, table=True):
    """One import of an existing partner base, brought over in phases."""

    __tablename__ = "migration_runs"
    __table_args__ = (UniqueConstraint("program", "file_sha256", name="uq_migration_program_file"),)

    id: int | None = Field(default=None, primary_key=True)
    program: str = Field(default="default", index=True, max_length=64)
    source: str = Field(max_length=32)  # partnerstack | rewardful | tapfiliate | generic
    file_sha256: str = Field(index=True, max_length=64)  # the same file twice is the same run
    status: str = Field(default="running", max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class MigratedPartner(SQLModel, table=True):
    """A partner brought over by a migration, with what the old platform knew."""

    __tablename__ = "migrated_partners"
    __table_args__ = (UniqueConstraint("run_id", "partner_id", name="uq_migrated_run_partner"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="migration_runs.id", index=True)
    partner_id: str = Field(foreign_key="partners.id", index=True, max_length=32)
    segment: str = Field(max_length=16)  # top | middle | long_tail
    phase: int  # 1 = top, 2 = middle, 3 = long tail
    lifetime_revenue: float = 0.0
    legacy_tier: str | None = Field(default=None, max_length=64)
    legacy_tracking_code: str | None = Field(default=None, max_length=64)
    joined_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    status: str = Field(default="waiting", max_length=16)  # waiting | invited | accepted


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
