"""legacy codes: every old referral code of a migrated partner

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "legacy_codes",
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("partner_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("program", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"]),
        sa.ForeignKeyConstraint(["run_id"], ["migration_runs.id"]),
        sa.PrimaryKeyConstraint("code"),
    )
    with op.batch_alter_table("legacy_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legacy_codes_partner_id"), ["partner_id"], unique=False)
    # Partners migrated before this table existed: their one kept code (also their tracking link).
    op.execute(
        "INSERT INTO legacy_codes (code, partner_id, program, source, run_id, created_at) "
        "SELECT m.legacy_tracking_code, m.partner_id, r.program, r.source, r.id, r.created_at "
        "FROM migrated_partners m JOIN migration_runs r ON r.id = m.run_id "
        "WHERE m.legacy_tracking_code IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("legacy_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legacy_codes_partner_id"))
    op.drop_table("legacy_codes")
