"""Files a manager uploaded in the dashboard, kept between their preview and the action they feed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

from partnerflow.store.columns import ts_column as _ts
from partnerflow.store.columns import utcnow


class StagedUpload(SQLModel, table=True):
    """An uploaded file waiting for the manager's go (e.g. a migration export after its dry run).

    In the database rather than on one API process's disk, so any process can start what another
    previewed. Kept for a day (migration 0011).
    """

    __tablename__ = "staged_uploads"

    id: str = Field(primary_key=True, max_length=64)  # random and unguessable
    purpose: str = Field(max_length=32)  # migration
    filename: str = Field(default="", max_length=255)
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False, index=True))
