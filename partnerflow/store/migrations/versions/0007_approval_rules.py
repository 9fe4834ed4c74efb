"""approval rules, reapplication and bans: programs.approval_rules and reapply_after_days,
partners.country, applications.attempt, the bans table

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("programs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approval_rules", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(
            sa.Column("reapply_after_days", sa.Integer(), nullable=False, server_default="30")
        )
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.add_column(sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True))
    with op.batch_alter_table("applications", schema=None) as batch_op:
        # Every application so far was its partner's first.
        batch_op.add_column(sa.Column("attempt", sa.Integer(), nullable=False, server_default="1"))
    op.create_table(
        "bans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("banned_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("banned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("program", "email", name="uq_ban_program_email"),
    )
    with op.batch_alter_table("bans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bans_program"), ["program"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bans_program"))
    op.drop_table("bans")
    # Plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35), not batch mode: recreating `partners`
    # would drop a table that other tables' foreign keys point at, which SQLite refuses.
    op.drop_column("applications", "attempt")
    op.drop_column("partners", "country")
    op.drop_column("programs", "reapply_after_days")
    op.drop_column("programs", "approval_rules")
