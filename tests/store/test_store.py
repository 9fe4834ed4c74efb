"""The store on SQLite and PostgreSQL: partners, applications, outbox."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

from helpers import add_partner
from sqlalchemy import Engine
from sqlmodel import select

from partnerflow.domain.signup import SignupPayload
from partnerflow.store import outbox, partners
from partnerflow.store.db import session_scope, upgrade
from partnerflow.store.models import Application, Partner, Program
from partnerflow.store.onboarding import ensure_program


def _draft(key: str = "partner:p1:welcome") -> outbox.Draft:
    return outbox.Draft(key, "email", "ada@example.com", "welcome", "Welcome", "Hello", "<p>Hello</p>", None)


def test_signup_is_registered_once_per_program_and_email(any_engine: Engine) -> None:
    first = add_partner(any_engine, "ada@example.com")
    again = add_partner(any_engine, "  ADA@Example.COM ")
    other_program = add_partner(any_engine, "ada@example.com", program="resellers")

    assert again.id == first.id
    assert other_program.id != first.id
    with session_scope(any_engine) as session:
        application = session.get(Application, first.id)
        assert application is not None and application.status == "pending"
        assert len(partners.list_partners(session).rows) == 2


def test_concurrent_duplicate_signups_make_one_partner(any_engine: Engine) -> None:
    payload = SignupPayload(email="race@example.com", name="Race")  # type: ignore[call-arg]
    barrier = threading.Barrier(6)
    ids: list[str] = []

    def register() -> None:
        barrier.wait()
        with session_scope(any_engine) as session:
            partner, _ = partners.register_signup(session, payload)
            ids.append(partner.id)

    threads = [threading.Thread(target=register) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(ids) == 6 and len(set(ids)) == 1
    with session_scope(any_engine) as session:
        assert [p.email for p in partners.list_partners(session).rows] == ["race@example.com"]


def test_stage_and_decision_are_recorded_with_aware_timestamps(any_engine: Engine) -> None:
    partner = add_partner(any_engine)
    decided_at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with session_scope(any_engine) as session:
        partners.set_stage(session, partner.id, "onboarding", decided_at)
        partners.record_decision(session, partner.id, True, "alice", "great fit", False, decided_at)
    with session_scope(any_engine) as session:
        stored = session.get(Partner, partner.id)
        application = session.get(Application, partner.id)
    assert stored is not None and stored.stage == "onboarding"
    assert stored.stage_changed_at == decided_at and stored.created_at.tzinfo is not None
    assert application is not None
    assert (application.status, application.decided_by, application.decided_at) == (
        "approved",
        "alice",
        decided_at,
    )


def test_oldest_pending_applications_come_first(any_engine: Engine) -> None:
    newer = add_partner(any_engine, "newer@example.com")
    older = add_partner(any_engine, "older@example.com")
    decided = add_partner(any_engine, "decided@example.com")
    with session_scope(any_engine) as session:
        app = session.get(Application, older.id)
        assert app is not None
        app.submitted_at = app.submitted_at - timedelta(days=3)
        session.add(app)
        partners.record_decision(session, decided.id, False, "bob", None, False)
    with session_scope(any_engine) as session:
        pending = partners.oldest_pending_applications(session)
    assert [partner.id for _, partner in pending] == [older.id, newer.id]


def test_outbox_claim_is_idempotent_per_key(any_engine: Engine) -> None:
    with session_scope(any_engine) as session:
        first = outbox.claim(session, _draft(), "local")
    assert (first.status, first.attempts) == ("pending", 1)

    with session_scope(any_engine) as session:
        retry = outbox.claim(session, _draft(), "local")
        outbox.mark_failed(session, retry.idempotency_key, "SendGrid answered 500", permanent=False)
    with session_scope(any_engine) as session:
        again = outbox.claim(session, _draft(), "local")
        outbox.mark_sent(session, again.idempotency_key, "msg-1")
    with session_scope(any_engine) as session:
        after_send = outbox.claim(session, _draft(), "local")
        rows = outbox.list_messages(session)

    assert after_send.status == "sent" and after_send.provider_message_id == "msg-1"
    assert after_send.attempts == 3  # the claim after sending counts no attempt
    assert len(rows) == 1 and rows[0].error is None and rows[0].sent_at is not None


def test_outbox_filters(any_engine: Engine) -> None:
    with session_scope(any_engine) as session:
        outbox.claim(session, _draft("k1"), "local")
        slack = outbox.Draft("k2", "slack", "#partner-managers", "application_submitted", "", "New", None)
        outbox.claim(session, slack, "local")
        outbox.mark_failed(session, "k1", "invalid address", permanent=True)
    with session_scope(any_engine) as session:
        assert [m.idempotency_key for m in outbox.list_messages(session, to="ADA@example.com")] == ["k1"]
        assert [m.idempotency_key for m in outbox.list_messages(session, to="#partner-managers")] == ["k2"]
        assert [m.idempotency_key for m in outbox.list_messages(session, status="failed")] == ["k1"]
        assert [m.idempotency_key for m in outbox.list_messages(session, channel="slack")] == ["k2"]


def test_migrations_are_idempotent(any_engine: Engine) -> None:
    upgrade(any_engine)
    upgrade(any_engine)
    add_partner(any_engine)


def test_migrations_match_the_models(any_engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    with any_engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == [], "a model changed without a migration (alembic revision --autogenerate)"


def test_a_program_first_used_by_two_partners_at_once_is_created_once(any_engine: Engine) -> None:
    """The loser of the insert race reads the winner's row instead of failing (and retrying)."""
    program_id = f"race-{uuid.uuid4().hex[:8]}"
    with session_scope(any_engine) as winner:
        ensure_program(winner, program_id, "https://winner.example")
    with session_scope(any_engine) as loser:
        found = loser.get
        looks: list[str] = []

        def get_after_the_race(model: type, key: str) -> object:
            looks.append(key)  # the loser's first look came before the winner committed
            return found(model, key) if len(looks) > 1 else None

        loser.get = get_after_the_race  # type: ignore[method-assign, assignment]
        program = ensure_program(loser, program_id, "https://loser.example")
        assert program.landing_url == "https://winner.example" and len(looks) == 2
    with session_scope(any_engine) as session:
        rows = session.exec(select(Program).where(Program.id == program_id)).all()
        assert [row.landing_url for row in rows] == ["https://winner.example"]
