"""Recording webinar attendance while the partner's workflow reserves the same seat."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers import add_partner
from sqlalchemy import Engine
from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from partnerflow.services import onboarding as service
from partnerflow.store import onboarding as store
from partnerflow.store.db import session_scope
from partnerflow.store.models import Webinar, WebinarSeat, utcnow


async def test_attendance_is_recorded_when_the_workflow_reserves_the_seat_at_the_same_instant(
    engine: Engine, time_skipping_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    partner = add_partner(engine, "race@example.com")
    with session_scope(engine) as session:
        webinar = Webinar(
            title="Onboarding", starts_at=utcnow() + timedelta(days=1), join_url="https://x.test", capacity=5
        )
        session.add(webinar)
        session.flush()
        webinar_id = webinar.id
    assert webinar_id is not None
    seat_of = store.seat_of
    calls = 0

    def seat_reserved_meanwhile(session, webinar, partner_id):  # type: ignore[no-untyped-def]
        """The first look finds no seat; the workflow's activity inserts it right after."""
        nonlocal calls
        calls += 1
        if calls == 1:
            with session_scope(engine) as other:
                other.add(WebinarSeat(webinar_id=webinar, partner_id=partner_id))
            return None
        return seat_of(session, webinar, partner_id)

    monkeypatch.setattr(store, "seat_of", seat_reserved_meanwhile)

    results = await service.record_attendance(engine, time_skipping_env.client, webinar_id, [partner.id])

    assert [(r.partner_id, r.status) for r in results] == [(partner.id, "recorded")]
    with session_scope(engine) as session:
        seats = session.exec(select(WebinarSeat).where(WebinarSeat.partner_id == partner.id)).all()
        assert [(s.webinar_id, s.status) for s in seats] == [(webinar_id, "attended")]
