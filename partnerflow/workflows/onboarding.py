"""Onboarding stage: terms → tracking link and kit → training webinar → active.

Each step waits on the partner (portal, attendance) with durable reminders, and on managers,
who can mark any checklist item done by hand. The partner never drops out: after the last
reminder managers are told and the step keeps waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from partnerflow.activities.onboarding import OnboardingActivities
    from partnerflow.domain.onboarding import NoShow, WebinarInvite, WebinarSession
    from partnerflow.domain.stages import Stage
    from partnerflow.workflows.messaging import email_partner, notify_managers
    from partnerflow.workflows.policies import STORE_RETRY, STORE_TIMEOUT
    from partnerflow.workflows.webhooks import publish
    from partnerflow.workflows.webinars import pending_change

if TYPE_CHECKING:
    from partnerflow.workflows.context import PartnerContext

# Patch id: activation time recorded when the stage changes, so that review periods tile from it.
REVIEW_FROM_ACTIVATION = "review-from-activation"


async def run_onboarding_stage(wf: PartnerContext) -> None:
    """Returns when the partner is active (or has left onboarding some other way)."""
    await _accept_terms(wf)
    await _deliver_kit(wf)
    await _attend_training(wf)
    await workflow.wait_condition(lambda: all(wf.state.checklist.values()) or _left(wf))
    if _left(wf):
        return
    if workflow.patched(REVIEW_FROM_ACTIVATION):
        wf.state.active_since = workflow.now()  # the first review period starts here, not after the emails
    await wf.change_stage(Stage.ACTIVE)
    await publish("partner.onboarded", {"tracking_url": wf.tracking_url}, wf.partner_id)
    kit_url = wf.tracking_url or ""
    await asyncio.gather(
        email_partner(wf.partner_id, "onboarding-complete", "onboarding_complete", {"tracking_url": kit_url}),
        notify_managers(wf.partner_id, "onboarding-complete", "onboarding_complete"),
    )


async def _accept_terms(wf: PartnerContext) -> None:
    timings, started = wf.onboarding_timings, workflow.now()
    accepted = _checked(wf, "terms_accepted")
    for number, offset in enumerate(timings.terms_reminders, start=1):
        due = started + offset
        if await _wait_until(accepted, due):
            return
        await email_partner(
            wf.partner_id,
            f"terms-reminder:{due.date().isoformat()}",
            "terms_reminder",
            {"reminder_number": number},
        )
    if await _wait_until(accepted, started + timings.terms_escalation):
        return
    await notify_managers(
        wf.partner_id, "terms-escalation", "terms_escalation", {"days": timings.terms_escalation.days}
    )
    wf.note("terms-escalated", f"not accepted after {timings.terms_escalation.days} days")
    await workflow.wait_condition(accepted)


async def _deliver_kit(wf: PartnerContext) -> None:
    kit = await workflow.execute_activity_method(
        OnboardingActivities.prepare_kit,
        wf.partner_id,
        start_to_close_timeout=STORE_TIMEOUT,
        retry_policy=STORE_RETRY,
    )
    wf.tracking_url = kit.tracking_url
    wf.check("tracking_link_issued", f"code {kit.tracking_code}")
    context = {"tracking_url": kit.tracking_url, "resources": kit.resources}
    if await email_partner(wf.partner_id, "welcome-kit", "welcome_kit", context):
        wf.check("kit_delivered", f"{len(kit.resources)} resources")


async def _attend_training(wf: PartnerContext) -> None:
    """Invite to the next session with room; re-invite a no-show, then tell managers."""
    timings, attended = wf.onboarding_timings, _checked(wf, "webinar_attended")
    told_no_session = False
    while not attended():
        session = await workflow.execute_activity_method(
            OnboardingActivities.reserve_webinar_seat,
            WebinarInvite(wf.partner_id, exclude=list(wf.state.webinars_missed), after=workflow.now()),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
        )
        if session is None:
            if not told_no_session:
                await notify_managers(
                    wf.partner_id, f"no-webinar:{workflow.now().date().isoformat()}", "no_webinar_available"
                )
                told_no_session = True
            await _wait_until(attended, workflow.now() + timings.no_webinar_recheck)
            continue
        told_no_session = False
        outcome = await _attend(wf, session)
        if outcome is Attendance.ATTENDED:
            return
        if outcome is Attendance.CANCELLED:  # not the partner's miss: straight on to the next session
            continue
        if len(wf.state.webinars_missed) > timings.webinar_max_reinvites:
            await notify_managers(
                wf.partner_id,
                "webinar-no-shows",
                "webinar_no_shows",
                {"missed": len(wf.state.webinars_missed)},
            )
            await workflow.wait_condition(attended)
            return


class Attendance(Enum):
    ATTENDED = "attended"
    MISSED = "missed"
    CANCELLED = "cancelled"  # the session was called off


async def _attend(wf: PartnerContext, session: WebinarSession) -> Attendance:
    """Invite, remind, and wait for attendance (or a no-show).

    A change the ``webinar_changed`` signal recorded is followed: a rescheduled session moves the
    reminders and the no-show deadline, a cancelled one ends the wait. Without a change the
    commands are those of the first release (the replay gate holds it to that).
    """
    webinar_id = session.webinar_id
    attempt = len(wf.state.webinars_missed) + 1
    async with wf.webinar_lock:  # the change's email and the invitation never cross
        change = pending_change(wf.state, session)
        if change is not None and change.cancelled:  # called off before the invitation went out
            return Attendance.CANCELLED
        wf.note("webinar-invited", f"{session.title} at {session.starts_at.isoformat()}")
        await email_partner(
            wf.partner_id,
            f"webinar-invite:{webinar_id}",
            "webinar_invite",
            {"attempt": attempt},
            webinar_id=webinar_id,
            attach_calendar=True,
        )
    while True:
        if await _remind_and_wait(wf, session):
            return Attendance.ATTENDED
        # Only a workflow that took the WEBINAR_CHANGES patch records changes (webinars.py).
        change = pending_change(wf.state, session)
        if change is None:  # the session is over, without the partner
            break
        if change.cancelled:
            return Attendance.CANCELLED
        session = replace(
            session,
            starts_at=change.starts_at or session.starts_at,
            ends_at=change.ends_at or session.ends_at,
            sequence=change.sequence,
        )
    missed = await workflow.execute_activity_method(
        OnboardingActivities.mark_no_show,
        NoShow(wf.partner_id, webinar_id),
        start_to_close_timeout=STORE_TIMEOUT,
        retry_policy=STORE_RETRY,
    )
    if not missed:  # attendance was recorded in the store; its signal is on the way
        await workflow.wait_condition(_checked(wf, "webinar_attended"))
        return Attendance.ATTENDED
    wf.state.webinars_missed.append(webinar_id)
    wf.note("webinar-missed", session.title)
    return Attendance.MISSED


async def _remind_and_wait(wf: PartnerContext, session: WebinarSession) -> bool:
    """Remind before the session, wait until its attendance grace is over: True once attended.

    False when the grace passed without attendance, or as soon as the session changed.
    """
    timings, attended = wf.onboarding_timings, _checked(wf, "webinar_attended")

    def attended_or_changed() -> bool:
        return attended() or pending_change(wf.state, session) is not None

    for before in sorted(timings.webinar_reminders, reverse=True):
        due = session.starts_at - before
        if due <= workflow.now():
            continue
        if await _wait_until(attended_or_changed, due):
            return attended()
        hours = int(before.total_seconds() // 3600)
        # A reminder of the session's earlier time does not stand for one of its new time.
        moved = f":{session.sequence}" if session.sequence else ""
        await email_partner(
            wf.partner_id,
            f"webinar-reminder:{session.webinar_id}{moved}:{hours}h",
            "webinar_reminder",
            {"hours_before": hours},
            webinar_id=session.webinar_id,
        )
    await _wait_until(attended_or_changed, session.ends_at + timings.attendance_grace)
    return attended()


def _checked(wf: PartnerContext, item: str) -> Callable[[], bool]:
    return lambda: wf.state.checklist.get(item, False) or _left(wf)


def _left(wf: PartnerContext) -> bool:
    return wf.state.stage != Stage.ONBOARDING


async def _wait_until(condition: Callable[[], bool], deadline: datetime) -> bool:
    """True as soon as ``condition`` holds; False if ``deadline`` passes first."""
    remaining = deadline - workflow.now()
    if remaining.total_seconds() <= 0:
        return condition()
    try:
        await workflow.wait_condition(condition, timeout=remaining)
        return True
    except TimeoutError:
        return False
