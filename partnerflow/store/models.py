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
