"""Onboarding timers and paths on the time-skipping server, with the real activities."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from harness import Handle, Harness, running
from helpers import eventually, message_keys, messages
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from partnerflow.domain.onboarding import ChecklistUpdate, TermsAccepted, TermsPublished, WebinarAttended
from partnerflow.domain.stages import Stage
from partnerflow.store.db import session_scope
from partnerflow.store.models import Resource, Webinar, WebinarSeat
from partnerflow.workflows.lifecycle import PartnerLifecycleWorkflow


@pytest.fixture
async def harness(time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Harness]:
    async with running(time_skipping_env, tmp_path) as item:
        yield item


def add_webinars(harness: Harness, now: datetime, days: list[float], capacity: int = 10) -> list[int]:
    with session_scope(harness.engine) as session:
        rows = [
            Webinar(title=f"Partner training {n}", starts_at=now + timedelta(days=d), timezone="Europe/Warsaw",
                    join_url=f"https://meet.example.com/{n}", capacity=capacity)
            for n, d in enumerate(days, start=1)
        ]  # fmt: skip
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows if row.id is not None]


async def status(handle: Handle):  # type: ignore[no-untyped-def]
    return await handle.query(PartnerLifecycleWorkflow.status)


async def test_terms_reminders_on_day_2_and_5_and_escalation_on_day_14(harness: Harness) -> None:
    pid, handle = await harness.approved()
    reminders = lambda: [p for p in harness.purposes(pid) if p.startswith("terms-reminder:")]  # noqa: E731

    await harness.env.sleep(timedelta(days=1, hours=23))
    assert reminders() == []
    await harness.env.sleep(timedelta(hours=2))
    await eventually(lambda: len(reminders()) == 1)
    await harness.env.sleep(timedelta(days=3))
    await eventually(lambda: len(reminders()) == 2)
    assert "slack:terms-escalation" not in harness.purposes(pid)

    await harness.env.sleep(timedelta(days=9))
    await eventually(lambda: "slack:terms-escalation" in harness.purposes(pid))
    assert (await status(handle)).stage == Stage.ONBOARDING  # not lost, still waiting
    texts = [m.body_text for m in messages(harness.engine, partner_id=pid) if m.template == "terms_reminder"]
    assert len(set(texts)) == 2 and all("/portal/" in text for text in texts)

    await harness.accept_terms(pid, handle)
    current = await status(handle)
    assert current.checklist["terms_accepted"] and current.checklist["tracking_link_issued"]
    assert current.checklist["kit_delivered"] and not current.checklist["webinar_attended"]
    assert len(reminders()) == 2  # nothing more once accepted


async def test_welcome_kit_lists_locale_resources_and_the_tracking_link(harness: Harness) -> None:
    with session_scope(harness.engine) as session:
        session.add_all([
            Resource(program="default", title="Logo pack", kind="logo", url="https://cdn.example.com/logo.zip"),
            Resource(program="default", title="Broszura", kind="guide", url="https://cdn.example.com/pl.pdf", locale="pl"),
            Resource(program="default", title="Brochure", kind="guide", url="https://cdn.example.com/fr.pdf", locale="fr"),
        ])  # fmt: skip
    pid, handle = await harness.approved(locale="pl")
    await harness.accept_terms(pid, handle)

    kit = next(m for m in messages(harness.engine, partner_id=pid) if m.template == "welcome_kit")
    assert "Logo pack" in kit.body_text and "Broszura" in kit.body_text and "Brochure" not in kit.body_text
    assert f"{harness.settings.public_url}/r/" in kit.body_text


async def test_webinar_invite_reminders_no_show_reinvite_and_completion(harness: Harness) -> None:
    now = await harness.env.get_current_time()
    first, second = add_webinars(harness, now, [3, 6])
    pid, handle = await harness.approved()
    await harness.accept_terms(pid, handle)
    await harness.sent(pid, f"webinar-invite:{first}")

    await harness.env.sleep(timedelta(days=2) - timedelta(minutes=5))
    assert f"webinar-reminder:{first}:24h" not in harness.purposes(pid)
    await harness.env.sleep(timedelta(minutes=10))
    await harness.sent(pid, f"webinar-reminder:{first}:24h")
    assert f"webinar-reminder:{first}:1h" not in harness.purposes(pid)
    await harness.env.sleep(timedelta(hours=23))
    await harness.sent(pid, f"webinar-reminder:{first}:1h")

    await harness.env.sleep(timedelta(hours=14))  # past the end and the attendance grace: a no-show
    await harness.sent(pid, f"webinar-invite:{second}")
    with session_scope(harness.engine) as session:
        seats = {seat.webinar_id: seat.status for seat in session.exec(WebinarSeat.__table__.select()).all()}  # type: ignore[attr-defined]
    assert seats == {first: "no_show", second: "invited"}
    invite_again = next(
        m
        for m in messages(harness.engine, partner_id=pid)
        if m.idempotency_key.endswith(f"webinar-invite:{second}")
    )
    first_invite = next(
        m
        for m in messages(harness.engine, partner_id=pid)
        if m.idempotency_key.endswith(f"webinar-invite:{first}")
    )
    assert invite_again.body_text != first_invite.body_text  # "we missed you" wording

    await handle.signal(PartnerLifecycleWorkflow.webinar_attended, WebinarAttended(second, now))
    await harness.sent(pid, "onboarding-complete")
    final = await status(handle)
    assert final.stage == Stage.ACTIVE and all(final.checklist.values())
    slack = [m.template for m in messages(harness.engine, channel="slack", partner_id=pid)]
    assert "onboarding_complete" in slack
    keys = message_keys(harness.engine, partner_id=pid)
    assert len(keys) == len(set(keys))


async def test_after_two_reinvites_managers_are_told_and_can_waive(harness: Harness) -> None:
    now = await harness.env.get_current_time()
    webinars = add_webinars(harness, now, [1, 3, 5, 7])
    pid, handle = await harness.approved()
    await harness.accept_terms(pid, handle)

    for webinar_id in webinars[:3]:
        await harness.sent(pid, f"webinar-invite:{webinar_id}")
        await harness.env.sleep(timedelta(days=2))  # past the session, its end and the attendance grace
    await eventually(lambda: "slack:webinar-no-shows" in harness.purposes(pid))
    assert f"webinar-invite:{webinars[3]}" not in harness.purposes(pid)  # 1 invite + 2 re-invites
    assert (await status(handle)).stage == Stage.ONBOARDING

    waived = await handle.execute_update(
        PartnerLifecycleWorkflow.complete_checklist_item,
        ChecklistUpdate(item="webinar_attended", manager="alice", note="trained in person", waive=True),
    )
    assert waived.checklist["webinar_attended"]
    await harness.sent(pid, "onboarding-complete")
    assert (await status(handle)).stage == Stage.ACTIVE
    assert any("waived by alice" in h.detail for h in (await status(handle)).history)


async def test_no_session_with_room_tells_managers_then_invites_when_one_appears(harness: Harness) -> None:
    now = await harness.env.get_current_time()
    [full] = add_webinars(harness, now, [2], capacity=0)
    pid, handle = await harness.approved()
    await harness.accept_terms(pid, handle)
    await eventually(lambda: any(p.startswith("slack:no-webinar:") for p in harness.purposes(pid)))

    [fresh] = add_webinars(harness, await harness.env.get_current_time(), [3])
    await harness.env.sleep(timedelta(days=1, minutes=1))
    await harness.sent(pid, f"webinar-invite:{fresh}")
    assert f"webinar-invite:{full}" not in harness.purposes(pid)


async def test_checklist_update_is_validated(harness: Harness) -> None:
    _, handle = await harness.approved()
    with pytest.raises(WorkflowUpdateFailedError) as unknown:
        await handle.execute_update(
            PartnerLifecycleWorkflow.complete_checklist_item, ChecklistUpdate("coffee", "alice")
        )
    with pytest.raises(WorkflowUpdateFailedError) as not_waivable:
        await handle.execute_update(
            PartnerLifecycleWorkflow.complete_checklist_item,
            ChecklistUpdate("terms_accepted", "alice", waive=True),
        )
    assert "unknown checklist item 'coffee'" in str(unknown.value.cause)
    assert "only the webinar can be waived" in str(not_waivable.value.cause)


async def test_new_terms_version_asks_an_active_partner_to_reaccept(harness: Harness) -> None:
    pid, handle = await harness.approved()
    await harness.accept_terms(pid, handle)
    for item in ("webinar_attended",):
        await handle.execute_update(
            PartnerLifecycleWorkflow.complete_checklist_item, ChecklistUpdate(item, "alice", waive=True)
        )
    await harness.sent(pid, "onboarding-complete")

    await handle.signal(PartnerLifecycleWorkflow.terms_published, TermsPublished(version=2))
    await handle.signal(
        PartnerLifecycleWorkflow.terms_published, TermsPublished(version=2)
    )  # delivered twice
    await harness.sent(pid, "terms-updated:v2")
    now = await harness.env.get_current_time()
    await handle.signal(PartnerLifecycleWorkflow.terms_accepted, TermsAccepted(version=2, accepted_at=now))

    final = await status(handle)
    assert final.stage == Stage.ACTIVE  # onboarding is not restarted
    events = [h.event for h in final.history]
    assert events.count("terms-updated") == 1 and events[-1] == "terms-accepted"
    assert harness.purposes(pid).count("terms-updated:v2") == 1
