"""Partners per (program, stage), kept by database triggers (migration 0011) on ``partners``.

Every writer keeps it right, whatever path it takes (store functions, imports, bulk inserts, raw
SQL): the board's counts are a read of a few dozen rows instead of a scan of every partner.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class PartnerCount(SQLModel, table=True):
    """How many partners of ``program`` are in ``stage`` now (rows may sit at 0)."""

    __tablename__ = "partner_counts"

    program: str = Field(primary_key=True, max_length=64)
    stage: str = Field(primary_key=True, max_length=32)
    partners: int = 0
