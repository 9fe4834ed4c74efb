"""PartnerLifecycleWorkflow scenarios: each brings one partner (its own program) to a state and saves it.

Short timings come from Settings fields snapshotted into the partner's workflow input, and from the
program's engagement overrides; each partner has its own program, so scenarios run side by side.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

from driver import WAIT, Driver, Recording, record
from fakes.subscriber import FakeSubscriber
from helpers import eventually, eventually_async

from partnerflow.domain.approval_rules import ApprovalRules
from partnerflow.domain.review import OffboardInput, PauseInput, TierDecision
from partnerflow.domain.stages import Decision
from partnerflow.domain.webhooks import delivery_workflow_id
from partnerflow.services import webinars
from partnerflow.services.webinars import WebinarPatch
from partnerflow.store import webhooks
from partnerflow.store.approvals import store_approval_rules
from partnerflow.store.db import session_scope
from partnerflow.store.onboarding import ensure_program
from partnerflow.workflows.lifecycle import PartnerLifecycleWorkflow

SECOND = timedelta(seconds=1)
HOUR = timedelta(hours=1)
DAY_IN_SECONDS = 86_400


async def applied_waiting(d: Driver) -> list[Recording]:
    _, handle = await d.partner("rec-applied-waiting")
    return [await record(handle, "applied-waiting", "application received, managers told; no decision")]


async def applied_reminded(d: Driver) -> list[Recording]:
    pid, handle = await d.partner("rec-applied-reminded", approval_reminder=SECOND, approval_escalation=HOUR)
    await d.sent(pid, "slack:approval-reminder")
    return [
        await record(handle, "applied-reminded", "undecided: the approval reminder fired, escalation next")
    ]


async def applied_escalated(d: Driver) -> list[Recording]:
    pid, handle = await d.partner(
        "rec-applied-escalated", approval_reminder=SECOND, approval_escalation=2 * SECOND
    )
    await d.sent(pid, "slack:approval-escalation")
    return [await record(handle, "applied-escalated", "undecided after reminder and escalation; waiting")]


async def applied_rule_waiting(d: Driver) -> list[Recording]:
    program = "rec-applied-rule"
    rule = {"name": "everyone", "then": "approve", "delay": "PT1H"}
    with session_scope(d.engine) as session:
        row = ensure_program(session, program, d.settings.default_landing_url)
        store_approval_rules(row, ApprovalRules.model_validate({"rules": [rule]}))
        session.add(row)
    pid, handle = await d.partner(program)
    await d.sent(pid, "application-received")
    return [await record(handle, "applied-rule-waiting", "an approval rule matched; waiting out its delay")]


async def onboarding_terms_pending(d: Driver) -> list[Recording]:
    pid, handle = await d.approved(
        "rec-terms-pending", terms_reminders=[SECOND, HOUR], terms_escalation=2 * HOUR
    )
    await d.sent(pid, "terms-reminder:*")
    return [
        await record(handle, "onboarding-terms-pending", "approved; terms not accepted, 1st reminder sent")
    ]


async def onboarding_webinar_invited(d: Driver) -> list[Recording]:
    program = "rec-webinar-invited"
    webinar = d.webinar(program, starts_in=2 * HOUR)
    pid, handle = await d.approved(program, webinar_reminders=[HOUR])
    await d.accept_terms(pid, handle)
    await d.sent(pid, f"webinar-invite:{webinar}")
    return [
        await record(handle, "onboarding-webinar-invited", "terms accepted, kit sent; invited, reminder due")
    ]


async def onboarding_webinar_missed(d: Driver) -> list[Recording]:
    program = "rec-webinar-missed"
    pid, handle = await d.approved(program, webinar_reminders=[2 * SECOND], webinar_attendance_grace=SECOND)
    missed = d.webinar(program, starts_in=6 * SECOND, minutes=0)
    next_one = d.webinar(program, starts_in=2 * HOUR)
    await d.accept_terms(pid, handle)
    await d.sent(pid, f"webinar-invite:{missed}", f"webinar-invite:{next_one}")
    return [
        await record(
            handle, "onboarding-webinar-missed-reinvited", "no-show at the first session, invited to the next"
        )
    ]


async def onboarding_webinar_rescheduled(d: Driver) -> list[Recording]:
    program = "rec-webinar-rescheduled"
    webinar = d.webinar(program, starts_in=2 * HOUR)
    pid, handle = await d.approved(program, webinar_reminders=[HOUR])
    await d.accept_terms(pid, handle)
    await d.sent(pid, f"webinar-invite:{webinar}")
    later = WebinarPatch(starts_at=datetime.now(UTC) + 3 * HOUR)
    await webinars.reschedule_webinar(d.engine, d.client, webinar, later, "alice")
    await d.sent(pid, f"webinar-changed:{webinar}:1")
    return [
        await record(
            handle,
            "onboarding-webinar-rescheduled",
            "invited; the session moved, update sent, reminder re-timed",
        )
    ]


async def onboarding_webinar_cancelled(d: Driver) -> list[Recording]:
    program = "rec-webinar-cancelled"
    cancelled = d.webinar(program, starts_in=2 * HOUR)
    next_one = d.webinar(program, starts_in=3 * HOUR)
    pid, handle = await d.approved(program, webinar_reminders=[HOUR])
    await d.accept_terms(pid, handle)
    await d.sent(pid, f"webinar-invite:{cancelled}")
    await webinars.cancel_webinar(d.engine, d.client, cancelled, "trainer ill", "alice")
    await d.sent(pid, f"webinar-changed:{cancelled}:1", f"webinar-invite:{next_one}")
    return [
        await record(
            handle,
            "onboarding-webinar-cancelled-reinvited",
            "invited; the session was cancelled, next one invited",
        )
    ]


async def active_nudged(d: Driver) -> list[Recording]:
    program = "rec-active-nudged"
    # A check every 2 s and no weekly cap; a click 40 days ago leaves the partner idle for 40 days.
    d.rules(program, nudge_cap_days=0, check_interval_hours=2 / 3600)
    pid, handle = await d.active(program)
    d.events(pid, datetime.now(UTC) - timedelta(days=40), "click")
    await d.sent(pid, "nudge-no-clicks:*", "nudge-tips")
    saved = await record(handle, "active-nudged", "active: a no-click nudge, then a tips nudge; checks go on")
    await handle.terminate("recorded")  # rather than checking every 2 s until the server stops
    return [saved]


async def active_review(d: Driver) -> list[Recording]:
    """A review proposes a tier; the manager confirms it; the workflow continues as new."""
    program = "rec-active-review"
    d.rules(program, review_period_days=5 / DAY_IN_SECONDS, tier_confirmation_days=1 / 24)
    pid, handle = await d.active(program)
    first_run = (await handle.describe()).run_id
    d.events(pid, datetime.now(UTC) + 2 * SECOND, "conversion", 100.0, count=60)  # 6,000 USD: silver
    await d.sent(pid, "slack:review:*")
    d.rules(program, review_period_days=1)  # the next run waits a day for its review
    await handle.execute_update(
        PartnerLifecycleWorkflow.decide_tier, TierDecision(approve=True, manager="alice")
    )

    async def continued() -> str | None:
        run_id = (await handle.describe()).run_id
        return run_id if run_id != first_run else None

    next_run = await eventually_async(continued, timeout=WAIT)
    previous = d.client.get_workflow_handle(handle.id, run_id=first_run)
    current = d.client.get_workflow_handle(handle.id, run_id=next_run)
    return [
        await record(previous, "active-review-continued-as-new", "review, tier confirmed, continued as new"),
        await record(
            current, "active-after-continue-as-new", "the run after a review: active, state carried"
        ),
    ]


async def active_spread_checks(d: Driver) -> list[Recording]:
    """Checks at the partner's own slots (patch ``spread-engagement-checks``), a review at one of them.

    Not in a release's REQUIRED states yet: recorded with the release that ships the patch.
    """
    program = "rec-active-spread"
    # A check every 2 s; a 21 s period is over ten intervals long, so the review takes a check's slot.
    d.rules(program, check_interval_hours=2 / 3600, review_period_days=21 / DAY_IN_SECONDS)
    _, handle = await d.active(program)
    first_run = (await handle.describe()).run_id

    async def continued() -> str | None:
        run_id = (await handle.describe()).run_id
        return run_id if run_id != first_run else None

    await eventually_async(continued, timeout=WAIT)
    previous = d.client.get_workflow_handle(handle.id, run_id=first_run)
    saved = await record(
        previous, "active-spread-checks-reviewed", "checks at the partner's slots, a review, continued as new"
    )
    await handle.terminate("recorded")  # rather than checking every 2 s until the server stops
    return [saved]


async def active_paused(d: Driver) -> list[Recording]:
    _, handle = await d.active("rec-active-paused")
    await handle.execute_update(PartnerLifecycleWorkflow.set_paused, PauseInput(paused=True, manager="alice"))
    return [await record(handle, "active-paused", "active, paused by a manager (no nudges)")]


async def offboarded(d: Driver) -> list[Recording]:
    _, handle = await d.active("rec-offboarded")
    await handle.execute_update(
        PartnerLifecycleWorkflow.offboard, OffboardInput(reason="contract ended", manager="alice")
    )
    await handle.result()
    return [await record(handle, "offboarded", "offboarded by a manager: link off, farewell; completed")]


async def rejected_and_published(d: Driver) -> list[Recording]:
    """A rejection, and its ``partner.rejected`` webhook to a subscriber that takes it and one that refuses."""
    with FakeSubscriber("whsec_recorder") as good, FakeSubscriber("whsec_not_theirs") as refusing:
        with session_scope(d.engine) as session:
            ids = [
                webhooks.create_subscription(session, sub.url, ["partner.rejected"], "whsec_recorder").id
                for sub in (good, refusing)
            ]
        _, handle = await d.partner("rec-rejected")
        await d.decide(handle, Decision.REJECT, reason="not a fit for now", share_reason=True)
        await handle.result()
        saved = [
            await record(handle, "rejected", "rejected with a shared reason; rejection email; completed")
        ]
        for subscription_id, state, text in zip(
            ids,
            ("delivered", "refused"),
            ("delivered on the first attempt (2xx)", "the subscriber answered 401: a final failure"),
            strict=True,
        ):
            delivery_id: int = await eventually(partial(_delivery, d, subscription_id), timeout=WAIT)
            delivery = d.client.get_workflow_handle(delivery_workflow_id(d.settings.task_queue, delivery_id))
            await delivery.result()
            saved.append(await record(delivery, state, f"partner.rejected {text}"))
    return saved


def _delivery(d: Driver, subscription_id: int | None) -> int:
    """The subscription's delivery id; 0 (falsy) while there is none."""
    with session_scope(d.engine) as session:
        found = webhooks.list_deliveries(session, subscription_id=subscription_id)
    return (found[0].id or 0) if found else 0
