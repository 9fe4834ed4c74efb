"""A rescheduled or cancelled webinar (issue #11): the calendar update each invitee gets, and how the
onboarding stage follows it. Time-skipping server, production activities, real SendGrid client
talking to the fake (which checks every body), the store changed by the real service.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
import vobject
from fakes.providers import FakeSendGrid
from harness import Handle, Harness, running
from helpers import messages
from pydantic import SecretStr
from sqlmodel import select
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from partnerflow.domain.lifecycle import workflow_id_for
from partnerflow.domain.onboarding import ChecklistUpdate, WebinarAttended, WebinarChanged
from partnerflow.domain.stages import Stage
from partnerflow.services import webinars
from partnerflow.services.webinars import WebinarPatch
from partnerflow.store.db import session_scope
from partnerflow.store.models import Webinar, WebinarSeat
from partnerflow.worker import WORKFLOWS
from partnerflow.workflows.lifecycle import PartnerLifecycleWorkflow

KEY = "SG.webinars"


@pytest.fixture
async def sendgrid() -> AsyncIterator[FakeSendGrid]:
    with FakeSendGrid(api_key=KEY) as fake:
        yield fake


@pytest.fixture
async def harness(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path, sendgrid: FakeSendGrid
) -> AsyncIterator[Harness]:
    async with running(
        time_skipping_env, tmp_path, sendgrid_api_key=SecretStr(KEY), sendgrid_host=sendgrid.url
    ) as item:
        yield item


class Workflows:
    """Stands in for the Temporal client of the service: the harness gives workflow ids a suffix."""

    def __init__(self, handles: dict[str, Handle]) -> None:
        self.handles = {workflow_id_for(pid): handle for pid, handle in handles.items()}

    def get_workflow_handle(self, workflow_id: str) -> Handle:
        return self.handles[workflow_id]


def client_for(pid: str, handle: Handle) -> Client:
    return cast(Client, Workflows({pid: handle}))


def add_webinar(harness: Harness, starts_at: datetime, title: str = "Partner training") -> int:
    with session_scope(harness.engine) as session:
        webinar = Webinar(title=title, starts_at=starts_at, timezone="Europe/Warsaw",
                          join_url="https://meet.example.com/j/1", capacity=10)  # fmt: skip
        session.add(webinar)
        session.flush()
        assert webinar.id is not None
        return webinar.id


def sent_to_sendgrid(sendgrid: FakeSendGrid, pid: str, purpose: str) -> list[dict[str, Any]]:
    key = f"partner:{pid}:{purpose}"
    return [
        m.json
        for m in sendgrid.messages
        if m.json["personalizations"][0]["custom_args"]["idempotency_key"] == key
    ]


def calendar_of(body: dict[str, Any]) -> Any:
    """The attached .ics, read by an independent parser (vobject, not the icalendar that wrote it)."""
    [attachment] = body["attachments"]
    assert attachment["type"] == "text/calendar"  # bare: the method is inside the file
    return vobject.readOne(base64.b64decode(attachment["content"]).decode("utf-8"))


async def invited(harness: Harness, sendgrid: FakeSendGrid, webinar_id: int) -> tuple[str, Handle, Any]:
    """A partner through terms, invited to ``webinar_id``; with the invitation's calendar."""
    pid, handle = await harness.approved()
    await harness.accept_terms(pid, handle)
    await harness.sent(pid, f"webinar-invite:{webinar_id}")
    [invite] = sent_to_sendgrid(sendgrid, pid, f"webinar-invite:{webinar_id}")
    return pid, handle, calendar_of(invite)


async def replays(handle: Handle) -> None:
    """The history so far, new path included, replays on today's code (no non-determinism)."""
    history: WorkflowHistory = await handle.fetch_history()
    replayer = Replayer(workflows=list(WORKFLOWS), data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)


async def timeline(handle: Handle) -> list[str]:
    return [entry.event for entry in (await handle.query(PartnerLifecycleWorkflow.status)).history]


async def test_reschedule_updates_the_calendar_and_moves_reminders_and_no_show(
    harness: Harness, sendgrid: FakeSendGrid
) -> None:
    now = await harness.env.get_current_time()
    webinar_id = add_webinar(harness, now + timedelta(days=3))
    pid, handle, invitation = await invited(harness, sendgrid, webinar_id)
    assert (invitation.method.value, invitation.vevent.sequence.value) == ("REQUEST", "0")

    new_start = (now + timedelta(days=6)).replace(microsecond=0)
    change = await webinars.reschedule_webinar(
        harness.engine, client_for(pid, handle), webinar_id, WebinarPatch(starts_at=new_start), "alice"
    )
    assert (change.changed, change.webinar.sequence, change.partners_notified) == (["starts_at"], 1, 1)
    await harness.sent(pid, f"webinar-changed:{webinar_id}:1")

    [update] = sent_to_sendgrid(sendgrid, pid, f"webinar-changed:{webinar_id}:1")
    assert update["categories"] == ["partnerflow", "webinar_updated"]
    assert update["subject"].startswith("New date")
    assert update["attachments"][0]["filename"] == "invite.ics"
    calendar = calendar_of(update)
    event = calendar.vevent
    assert calendar.method.value == "REQUEST" and event.status.value == "CONFIRMED"
    assert event.sequence.value == "1" and event.uid.value == invitation.vevent.uid.value
    assert event.dtstart.value == new_start and event.dtend.value == new_start + timedelta(minutes=60)

    # The same change again (a retried fan-out), and an older one late: nothing more is sent.
    again = WebinarChanged(
        webinar_id, 1, starts_at=new_start, ends_at=new_start + timedelta(hours=1), moved=True
    )
    await handle.signal(PartnerLifecycleWorkflow.webinar_changed, again)
    await handle.signal(PartnerLifecycleWorkflow.webinar_changed, WebinarChanged(webinar_id, 0, moved=True))
    assert (await timeline(handle)).count("webinar-rescheduled") == 1
    assert len(sent_to_sendgrid(sendgrid, pid, f"webinar-changed:{webinar_id}:1")) == 1
    assert [m.template for m in messages(harness.engine, partner_id=pid)].count("webinar_updated") == 1

    # The old time passes without a reminder, without a no-show and without a new invitation.
    await harness.env.sleep(timedelta(days=4, hours=1))  # past the old session's end and grace
    purposes = harness.purposes(pid)
    assert not [p for p in purposes if p.startswith("webinar-reminder:")], purposes
    assert [p for p in purposes if p.startswith("webinar-invite:")] == [f"webinar-invite:{webinar_id}"]
    assert "webinar-missed" not in await timeline(handle)
    # A day before the new time: the reminder, keyed apart from one of the old time.
    await harness.env.sleep(timedelta(days=1))
    await harness.sent(pid, f"webinar-reminder:{webinar_id}:1:24h")

    await handle.signal(PartnerLifecycleWorkflow.webinar_attended, WebinarAttended(webinar_id, new_start))
    await harness.sent(pid, "onboarding-complete")
    assert (await handle.query(PartnerLifecycleWorkflow.status)).stage == Stage.ACTIVE
    await replays(handle)


async def test_cancel_sends_a_cancellation_and_invites_to_the_next_session_without_a_miss(
    harness: Harness, sendgrid: FakeSendGrid
) -> None:
    now = await harness.env.get_current_time()
    cancelled = add_webinar(harness, now + timedelta(days=2))
    next_one = add_webinar(harness, now + timedelta(days=4), title="Partner training, take two")
    pid, handle, invitation = await invited(harness, sendgrid, cancelled)

    change = await webinars.cancel_webinar(
        harness.engine, client_for(pid, handle), cancelled, "trainer ill", "alice"
    )
    assert (change.webinar.sequence, change.partners_notified) == (1, 1)
    await harness.sent(pid, f"webinar-changed:{cancelled}:1")
    [cancellation] = sent_to_sendgrid(sendgrid, pid, f"webinar-changed:{cancelled}:1")
    assert cancellation["categories"] == ["partnerflow", "webinar_cancelled"]
    assert "another session" in cancellation["content"][0]["value"]
    assert "trainer ill" not in cancellation["content"][0]["value"]  # the reason is for managers
    calendar = calendar_of(cancellation)
    assert calendar.method.value == "CANCEL" and calendar.vevent.status.value == "CANCELLED"
    assert calendar.vevent.sequence.value == "1" and calendar.vevent.uid.value == invitation.vevent.uid.value

    # Straight on to the next session, as a first invitation: a cancelled session is not a miss.
    await harness.sent(pid, f"webinar-invite:{next_one}")
    reinvite = next(
        m
        for m in messages(harness.engine, partner_id=pid)
        if m.idempotency_key.endswith(f"webinar-invite:{next_one}")
    )
    assert "missed you" not in reinvite.body_text
    events = await timeline(handle)
    assert "webinar-cancelled" in events and "webinar-missed" not in events
    history = (await handle.query(PartnerLifecycleWorkflow.status)).history
    assert any("trainer ill" in entry.detail for entry in history if entry.event == "webinar-cancelled")

    await harness.env.sleep(timedelta(days=3, hours=1))  # past the cancelled session, a day before the next
    await harness.sent(pid, f"webinar-reminder:{next_one}:24h")
    assert not [p for p in harness.purposes(pid) if p.startswith(f"webinar-reminder:{cancelled}:")]
    with session_scope(harness.engine) as session:
        seats = {
            s.webinar_id: s.status
            for s in session.exec(select(WebinarSeat).where(WebinarSeat.partner_id == pid))
        }
    assert seats == {cancelled: "invited", next_one: "invited"}
    await replays(handle)


async def test_an_active_partner_with_a_seat_gets_the_cancellation_but_no_new_invitation(
    harness: Harness, sendgrid: FakeSendGrid
) -> None:
    now = await harness.env.get_current_time()
    webinar_id = add_webinar(harness, now + timedelta(days=2))
    add_webinar(harness, now + timedelta(days=4))
    pid, handle, _ = await invited(harness, sendgrid, webinar_id)
    await handle.execute_update(
        PartnerLifecycleWorkflow.complete_checklist_item,
        ChecklistUpdate("webinar_attended", "alice", note="trained in person", waive=True),
    )
    await harness.sent(pid, "onboarding-complete")

    await webinars.cancel_webinar(harness.engine, client_for(pid, handle), webinar_id, None, "alice")
    await harness.sent(pid, f"webinar-changed:{webinar_id}:1")

    [cancellation] = sent_to_sendgrid(sendgrid, pid, f"webinar-changed:{webinar_id}:1")
    assert "another session" not in cancellation["content"][0]["value"]
    assert calendar_of(cancellation).method.value == "CANCEL"
    assert "webinar-cancelled" in await timeline(handle)
    assert [p for p in harness.purposes(pid) if p.startswith("webinar-invite:")] == [
        f"webinar-invite:{webinar_id}"
    ]
    assert (await handle.query(PartnerLifecycleWorkflow.status)).stage == Stage.ACTIVE
