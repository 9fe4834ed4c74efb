"""list indexes: one per list filter in list order, partner counts kept by triggers

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 10:00:00.000000

The single-column ``stage``/``program``/``status`` indexes are prefixes of the new ones: dropped.
``partner_counts`` is kept by triggers on ``partners`` (SQLite and PostgreSQL). On SQLite, a later
``batch_alter_table("partners")`` recreates the table and drops its triggers: such a migration must
run ``create_triggers`` again (tests/store/test_counts.py fails otherwise).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

PARTNER_INDEXES = {
    "ix_partners_created": ["created_at", "id"],
    "ix_partners_stage_created": ["stage", "created_at", "id"],
    "ix_partners_program_created": ["program", "created_at", "id"],
    "ix_partners_program_stage_created": ["program", "stage", "created_at", "id"],
    "ix_partners_stage_changed": ["stage", "stage_changed_at", "id"],
}

_UPSERT = """INSERT INTO partner_counts (program, stage, partners) VALUES ({row}.program, {row}.stage, 1)
    ON CONFLICT (program, stage) DO UPDATE SET partners = partner_counts.partners + 1"""
_DECREMENT = """UPDATE partner_counts SET partners = partners - 1
    WHERE program = {row}.program AND stage = {row}.stage"""

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER partner_counts_insert AFTER INSERT ON partners
    BEGIN {_UPSERT.format(row="NEW")}; END""",
    f"""CREATE TRIGGER partner_counts_delete AFTER DELETE ON partners
    BEGIN {_DECREMENT.format(row="OLD")}; END""",
    f"""CREATE TRIGGER partner_counts_update AFTER UPDATE OF stage, program ON partners
    WHEN OLD.stage IS NOT NEW.stage OR OLD.program IS NOT NEW.program
    BEGIN {_DECREMENT.format(row="OLD")}; {_UPSERT.format(row="NEW")}; END""",
]

# Two rows change on a stage change: always lock them in (program, stage) order, so two opposite
# moves (applied -> rejected while rejected -> applied) wait for each other instead of deadlocking.
POSTGRES_TRIGGERS = [
    f"""CREATE FUNCTION partner_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'TRUNCATE' THEN
            DELETE FROM partner_counts;
        ELSIF TG_OP = 'INSERT' THEN
            {_UPSERT.format(row="NEW")};
        ELSIF TG_OP = 'DELETE' THEN
            {_DECREMENT.format(row="OLD")};
        ELSIF (OLD.program, OLD.stage) IS DISTINCT FROM (NEW.program, NEW.stage) THEN
            IF (OLD.program, OLD.stage) < (NEW.program, NEW.stage) THEN
                {_DECREMENT.format(row="OLD")};
                {_UPSERT.format(row="NEW")};
            ELSE
                {_UPSERT.format(row="NEW")};
                {_DECREMENT.format(row="OLD")};
            END IF;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER partner_counts_rows AFTER INSERT OR DELETE OR UPDATE OF stage, program
    ON partners FOR EACH ROW EXECUTE FUNCTION partner_counts_keep()""",
    """CREATE TRIGGER partner_counts_truncate AFTER TRUNCATE ON partners
    FOR EACH STATEMENT EXECUTE FUNCTION partner_counts_keep()""",
]


def create_triggers() -> None:
    """(Re)create the triggers that keep ``partner_counts``, and recount from ``partners``."""
    drop_triggers()
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_TRIGGERS if postgres else SQLITE_TRIGGERS:
        op.execute(statement)
    op.execute("DELETE FROM partner_counts")
    op.execute(
        "INSERT INTO partner_counts (program, stage, partners)"
        " SELECT program, stage, count(*) FROM partners GROUP BY program, stage"
    )


def drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS partner_counts_truncate ON partners")
        op.execute("DROP TRIGGER IF EXISTS partner_counts_rows ON partners")
        op.execute("DROP FUNCTION IF EXISTS partner_counts_keep()")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS partner_counts_{name}")


def upgrade() -> None:
    op.drop_index("ix_partners_program", table_name="partners")
    op.drop_index("ix_partners_stage", table_name="partners")
    op.drop_index("ix_applications_status", table_name="applications")
    for name, columns in PARTNER_INDEXES.items():
        op.create_index(name, "partners", columns, unique=False)
    op.create_index(
        "ix_applications_status_submitted",
        "applications",
        ["status", "submitted_at", "partner_id"],
        unique=False,
    )
    op.create_table(
        "partner_counts",
        sa.Column("program", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("partners", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("program", "stage"),
    )
    create_triggers()


def downgrade() -> None:
    drop_triggers()
    op.drop_table("partner_counts")
    op.drop_index("ix_applications_status_submitted", table_name="applications")
    for name in reversed(PARTNER_INDEXES):
        op.drop_index(name, table_name="partners")
    op.create_index("ix_applications_status", "applications", ["status"], unique=False)
    op.create_index("ix_partners_stage", "partners", ["stage"], unique=False)
    op.create_index("ix_partners_program", "partners", ["program"], unique=False)
