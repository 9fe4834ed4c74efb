"""``partner_counts`` (kept by triggers) stays equal to a count of ``partners`` on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

from helpers import add_partner
from sqlalchemy import Engine, delete, func, insert, text, update
from sqlmodel import col, select

from partnerflow.api.dashboard import queries
from partnerflow.store import partners, stats
from partnerflow.store.db import session_scope, upgrade
from partnerflow.store.models import Application, Partner, PartnerCount


def _truth(engine: Engine) -> dict[tuple[str, str], int]:
    with session_scope(engine) as session:
        grouped = select(Partner.program, Partner.stage, func.count()).group_by(
            col(Partner.program), col(Partner.stage)
        )
        return {(program, stage): int(n) for program, stage, n in session.exec(grouped)}


def _kept(engine: Engine) -> dict[tuple[str, str], int]:
    with session_scope(engine) as session:
        rows = session.exec(select(PartnerCount)).all()
        return {(row.program, row.stage): row.partners for row in rows if row.partners}


def test_counts_follow_signups_stage_changes_and_deletes(any_engine: Engine) -> None:
    for index in range(5):
        add_partner(any_engine, f"a{index}@example.com", program="acme")
    add_partner(any_engine, "b@example.com", program="beta")
    with any_engine.begin() as connection:  # a bulk insert, as imports do, bypassing the store
        connection.execute(insert(Partner), [{"id": f"bulk{i}", "program": "beta", "email": f"bulk{i}@example.com",
            "name": "B", "locale": "en", "stage": "active", "created_at": datetime.now(UTC),
            "stage_changed_at": datetime.now(UTC)} for i in range(7)])  # fmt: skip
    assert (
        _kept(any_engine)
        == _truth(any_engine)
        == {("acme", "applied"): 5, ("beta", "applied"): 1, ("beta", "active"): 7}
    )

    with session_scope(any_engine) as session:
        ids = [p.id for p in partners.list_partners(session, program="acme").rows]
        partners.set_stage(session, ids[0], "approved")
        partners.set_stage(session, ids[1], "rejected")
        partners.set_stage(session, ids[1], "rejected")  # unchanged: nothing moves
    with any_engine.begin() as connection:
        connection.execute(update(Partner).where(col(Partner.id) == ids[0]).values(stage="onboarding"))
        connection.execute(update(Partner).where(col(Partner.id) == ids[2]).values(program="beta"))
        connection.execute(update(Partner).where(col(Partner.stage) == "active").values(stage="offboarded"))
        connection.execute(delete(Application).where(col(Application.partner_id) == ids[3]))
        connection.execute(delete(Partner).where(col(Partner.id) == ids[3]))
        connection.execute(delete(Partner).where(col(Partner.id).startswith("bulk1")))
    assert _kept(any_engine) == _truth(any_engine) == {
        ("acme", "onboarding"): 1, ("acme", "rejected"): 1, ("acme", "applied"): 1,
        ("beta", "applied"): 2, ("beta", "offboarded"): 6,
    }  # fmt: skip
    with session_scope(any_engine) as session:
        board = queries.stage_counts(session)
        assert board["applied"] == 3 and board["offboarded"] == 6 and board["active"] == 0
        assert queries.stage_counts(session, "acme")["applied"] == 1
        assert stats.partners_per_stage(session)["onboarding"] == 1
        listed = {row.program: row.partners for row in queries.programs(session)}
        assert {program: listed[program] for program in ("acme", "beta")} == {"acme": 3, "beta": 8}


def test_counts_survive_a_rolled_back_signup_and_a_second_upgrade(any_engine: Engine) -> None:
    add_partner(any_engine, "a@example.com", program="acme")
    try:
        with session_scope(any_engine) as session:
            session.add(Partner(program="acme", email="gone@example.com", name="Gone"))
            session.flush()
            raise RuntimeError("the request failed after the insert")
    except RuntimeError:
        pass
    upgrade(any_engine)
    assert _kept(any_engine) == _truth(any_engine) == {("acme", "applied"): 1}


def test_the_triggers_exist_at_head(any_engine: Engine) -> None:
    """A later SQLite batch migration of ``partners`` drops them: it must recreate them (0011)."""
    if any_engine.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'partners'"
    else:
        query = "SELECT tgname FROM pg_trigger WHERE tgrelid = 'partners'::regclass AND NOT tgisinternal"
    with any_engine.connect() as connection:
        names = set(connection.execute(text(query)).scalars())
    expected = {"partner_counts_insert", "partner_counts_delete", "partner_counts_update"}
    assert names == (
        expected
        if any_engine.dialect.name == "sqlite"
        else {"partner_counts_rows", "partner_counts_truncate"}
    )
