"""Webinar sessions in the store on SQLite and PostgreSQL: migration 0006, cancelled sessions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from alembic import command
from helpers import add_partner
from sqlalchemy import Engine, text
from sqlmodel import select

from partnerflow.store import onboarding as store
from partnerflow.store.db import alembic_config, session_scope, upgrade
from partnerflow.store.models import Webinar, WebinarSeat

NOW = datetime.now(UTC)


def test_sessions_from_before_0006_get_sequence_0_and_are_not_cancelled(any_engine: Engine) -> None:
    title = f"before-0006-{uuid.uuid4().hex[:8]}"
    command.downgrade(alembic_config(any_engine), "0005")
    try:
        with any_engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO webinars (title, starts_at, timezone, duration_minutes, join_url, capacity,"
                    " created_at) VALUES (:title, :at, 'UTC', 60, 'https://meet.example/o', 5, :at)"
                ),
                {"title": title, "at": NOW - timedelta(days=30)},
            )
    finally:
        upgrade(any_engine)
    with session_scope(any_engine) as session:
        webinar = session.exec(select(Webinar).where(Webinar.title == title)).one()
    assert (webinar.sequence, webinar.cancelled_at, webinar.cancel_reason) == (0, None, None)


def test_a_cancelled_session_gets_no_new_seats_and_is_no_ones_upcoming_session(any_engine: Engine) -> None:
    program = f"p-{uuid.uuid4().hex[:8]}"
    partner = add_partner(any_engine, "seat@example.com", program=program)
    other = add_partner(any_engine, "other@example.com", program=program)
    with session_scope(any_engine) as session:
        cancelled = Webinar(title="Called off", starts_at=NOW + timedelta(days=1), join_url="https://m.example/1",
                            capacity=5, program=program, cancelled_at=NOW, sequence=1)  # fmt: skip
        later = Webinar(title="Later", starts_at=NOW + timedelta(days=3), join_url="https://m.example/2",
                        capacity=5, program=program)  # fmt: skip
        session.add_all([cancelled, later])
        session.flush()
        assert cancelled.id is not None and later.id is not None
        session.add(WebinarSeat(webinar_id=cancelled.id, partner_id=partner.id))
        session.add(WebinarSeat(webinar_id=cancelled.id, partner_id=other.id, status="attended"))
        cancelled_id, later_id = cancelled.id, later.id

    with session_scope(any_engine) as session:
        assert store.upcoming_seat(session, partner.id) is None
        reserved = store.reserve_next_seat(session, partner, exclude=[])
        assert reserved is not None and reserved[0].id == later_id
    with session_scope(any_engine) as session:
        assert store.invited_partner_ids(session, cancelled_id) == [partner.id]  # not who attended
        found = store.upcoming_seat(session, partner.id)
        assert found is not None and found[0].id == later_id
