"""Onboarding stage: terms → tracking link and kit → training webinar → active.

Each step waits on the partner (portal, attendance) with durable reminders, and on managers,
who can mark any checklist item done by hand. The partner never drops out: after the last
reminder managers are told and the step keeps waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from partnerflow.activities.onboarding import OnboardingActivities
    from partnerflow.domain.onboarding import NoShow, WebinarInvite, WebinarSession
    from partnerflow.domain.stages import Stage
    from partnerflow.workflows.messaging import email_partner, notify_managers
    from partnerflow.workflows.policies import STORE_RETRY, STORE_TIMEOUT
    from partnerflow.workflows.webhooks import publish

if TYPE_CHECKING:
    from partnerflow.workflows.context import PartnerContext


async def run_onboarding_stage(wf: PartnerContext) -> None:
    """Returns when the partner is active (or has left onboarding some other way)."""
    await _accept_terms(wf)
    await _deliver_kit(wf)
    await _attend_training(wf)
    await workflow.wait_condition(lambda: all(wf.state.checklist.values()) or _left(wf))
    if _left(wf):
        return
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
        if await _attend(wf, session):
            return
        if len(wf.state.webinars_missed) > timings.webinar_max_reinvites:
            await notify_managers(
                wf.partner_id,
                "webinar-no-shows",
                "webinar_no_shows",
                {"missed": len(wf.state.webinars_missed)},
            )
            await workflow.wait_condition(attended)
            return


async def _attend(wf: PartnerContext, session: WebinarSession) -> bool:
    """Invite, remind, and wait for attendance; False after a no-show."""
    timings, attended, webinar_id = (
        wf.onboarding_timings,
        _checked(wf, "webinar_attended"),
        session.webinar_id,
    )
    attempt = len(wf.state.webinars_missed) + 1
    wf.note("webinar-invited", f"{session.title} at {session.starts_at.isoformat()}")
    await email_partner(
        wf.partner_id,
        f"webinar-invite:{webinar_id}",
        "webinar_invite",
        {"attempt": attempt},
        webinar_id=webinar_id,
        attach_calendar=True,
    )
    for before in sorted(timings.webinar_reminders, reverse=True):
        due = session.starts_at - before
        if due <= workflow.now():
            continue
        if await _wait_until(attended, due):
            return True
        hours = int(before.total_seconds() // 3600)
        await email_partner(
            wf.partner_id,
            f"webinar-reminder:{webinar_id}:{hours}h",
            "webinar_reminder",
            {"hours_before": hours},
            webinar_id=webinar_id,
        )
    if await _wait_until(attended, session.ends_at + timings.attendance_grace):
        return True
    missed = await workflow.execute_activity_method(
        OnboardingActivities.mark_no_show,
        NoShow(wf.partner_id, webinar_id),
        start_to_close_timeout=STORE_TIMEOUT,
        retry_policy=STORE_RETRY,
    )
    if not missed:  # attendance was recorded in the store; its signal is on the way
        await workflow.wait_condition(attended)
        return True
    wf.state.webinars_missed.append(webinar_id)
    wf.note("webinar-missed", session.title)
    return False


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
