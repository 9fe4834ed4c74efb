"""Migration runs of an existing partner base and their members."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from partnerflow.store.columns import ts_column as _ts
from partnerflow.store.columns import utcnow


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
