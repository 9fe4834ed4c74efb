"""Old referral codes of migrated partners, and finding the tracking link a code leads to.

A partner's main old code is also their ``TrackingLink`` (so their link does not change); every
old code, that one included, is kept here, so a partner who had several links on the old platform
(Rewardful's ``links[]``) keeps all of them.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from partnerflow.store.columns import ts_column, utcnow


class LegacyCode(SQLModel, table=True):
    """A code a migrated partner used on their old platform; ``/r/<code>``, ``/r?ref=<code>`` and
    ``/r?via=<code>`` lead to the partner's tracking link."""

    __tablename__ = "legacy_codes"

    code: str = Field(primary_key=True, max_length=64)
    partner_id: str = Field(foreign_key="partners.id", index=True, max_length=32)
    program: str = Field(max_length=64)
    source: str = Field(max_length=32)  # partnerstack | rewardful | tapfiliate | generic
    run_id: int | None = Field(default=None, foreign_key="migration_runs.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False))
