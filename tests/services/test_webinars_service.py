"""The reschedule and cancel use cases on SQLite and PostgreSQL (row lock, time comparisons)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import pytest
from helpers import add_partner
from sqlalchemy import Engine
from temporalio.client import Client

from partnerflow.domain.onboarding import WebinarChanged
from partnerflow.services import webinars
from partnerflow.services.webinars import WebinarCancelled, WebinarNotFound, WebinarPast, WebinarPatch
from partnerflow.store.db import session_scope
from partnerflow.store.models import Webinar, WebinarSeat


class Signals:
    """Records what the service signals, as a Temporal client would deliver it."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []

    def get_workflow_handle(self, workflow_id: str) -> Any:
        outer = self

        class Handle:
            async def signal(self, name: str, arg: Any) -> None:
                outer.sent.append((workflow_id, name, arg))

        return Handle()


def _webinar(engine: Engine, starts_in: timedelta) -> int:
    with session_scope(engine) as session:
        webinar = Webinar(title="Kickoff", starts_at=datetime.now(UTC) + starts_in,
                          join_url="https://meet.example/k", capacity=5, program="svc")  # fmt: skip
        session.add(webinar)
        session.flush()
        assert webinar.id is not None
        return webinar.id


async def test_reschedule_then_cancel_signals_open_invitations_only(any_engine: Engine) -> None:
    wid = _webinar(any_engine, timedelta(days=2))
    invited = add_partner(any_engine, "invited@example.com", program="svc")
    attended = add_partner(any_engine, "attended@example.com", program="svc")
    with session_scope(any_engine) as session:
        session.add(WebinarSeat(webinar_id=wid, partner_id=invited.id))
        session.add(WebinarSeat(webinar_id=wid, partner_id=attended.id, status="attended"))
    signals = Signals()
    client = cast(Client, signals)
    warsaw = timezone(timedelta(hours=1))
    new_start = (datetime.now(UTC) + timedelta(days=3)).astimezone(warsaw).replace(microsecond=0)

    moved = await webinars.reschedule_webinar(any_engine, client, wid, WebinarPatch(starts_at=new_start), "a")
    same = await webinars.reschedule_webinar(any_engine, client, wid, WebinarPatch(starts_at=new_start), "a")
    cancelled = await webinars.cancel_webinar(any_engine, client, wid, "  ", "a")

    assert (moved.changed, moved.webinar.sequence, moved.partners_notified) == (["starts_at"], 1, 1)
    assert (same.changed, same.webinar.sequence, same.partners_notified) == ([], 1, 0)
    assert cancelled.webinar.sequence == 2 and cancelled.webinar.cancel_reason is None
    [(wf1, name1, first), (wf2, name2, second)] = signals.sent
    assert wf1 == wf2 == f"partner-{invited.id}" and name1 == name2 == "webinar_changed"
    assert first == WebinarChanged(wid, 1, False, new_start, new_start + timedelta(hours=1), moved=True)
    assert (second.sequence, second.cancelled, second.moved) == (2, True, False)
    with session_scope(any_engine) as session:
        stored = session.get(Webinar, wid)
        assert stored is not None and stored.starts_at == new_start and stored.cancelled_at is not None

    with pytest.raises(WebinarCancelled):
        await webinars.reschedule_webinar(any_engine, client, wid, WebinarPatch(title="X"), "a")
    with pytest.raises(WebinarCancelled):
        await webinars.cancel_webinar(any_engine, client, wid, None, "a")
    with pytest.raises(WebinarNotFound):
        await webinars.cancel_webinar(any_engine, client, 10**9, None, "a")


async def test_past_sessions_and_past_times_are_refused(any_engine: Engine) -> None:
    client = cast(Client, Signals())
    started = _webinar(any_engine, -timedelta(minutes=5))
    upcoming = _webinar(any_engine, timedelta(days=1))

    with pytest.raises(WebinarPast, match="cannot be rescheduled"):
        await webinars.reschedule_webinar(any_engine, client, started, WebinarPatch(title="Later"), "a")
    with pytest.raises(WebinarPast, match="future"):
        yesterday = datetime.now(UTC) - timedelta(days=1)
        await webinars.reschedule_webinar(
            any_engine, client, upcoming, WebinarPatch(starts_at=yesterday), "a"
        )
    assert (
        await webinars.cancel_webinar(any_engine, client, started, "no trainer", "a")
    ).webinar.cancelled_at
