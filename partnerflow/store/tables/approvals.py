"""Banned applicants: an email that may never apply to a program again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from partnerflow.store.columns import ts_column as _ts
from partnerflow.store.columns import utcnow


class Ban(SQLModel, table=True):
    """A manager's ban of one email in one program; a signup from it starts nothing."""

    __tablename__ = "bans"
    __table_args__ = (UniqueConstraint("program", "email", name="uq_ban_program_email"),)

    id: int | None = Field(default=None, primary_key=True)
    program: str = Field(index=True, max_length=64)
    email: str = Field(max_length=320)  # normalised like signups: trimmed, lower-case
    reason: str = Field(default="", max_length=1000)
    banned_by: str = Field(default="", max_length=200)
    banned_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    attempts: int = 0  # signups turned away since the ban
    last_attempt_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
