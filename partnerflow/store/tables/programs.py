"""What a program tells applicants on its hosted application page, per locale."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from partnerflow.store.columns import ts_column as _ts
from partnerflow.store.columns import utcnow

DESCRIPTION_LENGTH = 5000
SUMMARY_LENGTH = 2000


class ProgramPage(SQLModel, table=True):
    """A program's page text in one locale (plain text; shown escaped, paragraphs kept)."""

    __tablename__ = "program_pages"
    __table_args__ = (UniqueConstraint("program", "locale", name="uq_program_page_locale"),)

    id: int | None = Field(default=None, primary_key=True)
    program: str = Field(index=True, max_length=64)
    locale: str = Field(max_length=8)
    description: str = Field(default="", max_length=DESCRIPTION_LENGTH)
    commission_summary: str = Field(default="", max_length=SUMMARY_LENGTH)
    terms_summary: str = Field(default="", max_length=SUMMARY_LENGTH)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    updated_by: str = Field(default="", max_length=200)
