"""self-serve: hosted application page texts per program and locale

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 21:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "program_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=5000), nullable=False),
        sa.Column("commission_summary", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("terms_summary", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("program", "locale", name="uq_program_page_locale"),
    )
    with op.batch_alter_table("program_pages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_program_pages_program"), ["program"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("program_pages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_program_pages_program"))
    op.drop_table("program_pages")
