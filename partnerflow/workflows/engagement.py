"""Active stage: a daily look at the partner's activity (nudges, alerts) and periodic reviews.

After each review the workflow continues-as-new, so its history stays small for years.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from partnerflow.activities.engagement import EngagementActivities
    from partnerflow.domain.check_times import next_check, review_runs_at
    from partnerflow.domain.engagement import Action, Due, due_actions, remember
    from partnerflow.domain.review import SnapshotInput, SnapshotResult
    from partnerflow.domain.stages import Stage
    from partnerflow.workflows.messaging import email_partner, notify_managers
    from partnerflow.workflows.policies import STORE_RETRY, STORE_TIMEOUT
    from partnerflow.workflows.review import run_review

if TYPE_CHECKING:
    from partnerflow.workflows.context import PartnerContext

# Patch id: each partner is checked at their own time of day (a phase from their id) instead of every
# interval from the run's start, and reviews run at the first such check on or after the boundary.
SPREAD_CHECKS = "spread-engagement-checks"


async def run_active_stage(wf: PartnerContext) -> None:
    """Returns when the partner leaves ``active``, or after a review (to continue-as-new)."""
    state = wf.state
    # Periods tile: the first starts at activation (``active_since``, recorded by the onboarding stage
    # since ``review-from-activation``; before, when this stage began), each next one where the last
    # ended (``run_review``'s end, carried across continue-as-new). Events are counted in
    # [start, end), so every instant after activation is in exactly one review.
    state.active_since = state.active_since or workflow.now()
    state.review_period_start = state.review_period_start or state.active_since
    spread = workflow.patched(SPREAD_CHECKS)
    result = await _snapshot(wf)
    while state.stage == Stage.ACTIVE:
        rules, now = result.rules, workflow.now()
        review_at = state.review_period_start + rules.review_period
        if spread:  # only the wake-ups move: the review still counts [period start, review_at)
            runs_at = review_runs_at(wf.partner_id, rules.check_interval, rules.review_period, review_at)
            wake = min(next_check(wf.partner_id, rules.check_interval, now), runs_at)
        else:
            runs_at, wake = review_at, min(now + rules.check_interval, review_at)
        if wake > now:
            try:
                await workflow.wait_condition(lambda: state.stage != Stage.ACTIVE, timeout=wake - now)
                return
            except TimeoutError:
                pass
        if workflow.now() >= runs_at:
            await run_review(wf, state.review_period_start, review_at, rules)
            state.review_period_start = review_at
            return
        result = await _snapshot(wf)
        if not state.paused:
            await _engage(wf, result)


async def _snapshot(wf: PartnerContext) -> SnapshotResult:
    assert wf.state.review_period_start is not None
    return await workflow.execute_activity_method(
        EngagementActivities.engagement_snapshot,
        SnapshotInput(wf.partner_id, wf.state.review_period_start, workflow.now()),
        start_to_close_timeout=STORE_TIMEOUT,
        retry_policy=STORE_RETRY,
    )


async def _engage(wf: PartnerContext, result: SnapshotResult) -> None:
    state, snapshot = wf.state, result.snapshot
    assert state.active_since is not None and state.review_period_start is not None
    now = workflow.now()
    for due in due_actions(
        snapshot, state.engagement, result.rules, now, state.active_since, state.review_period_start
    ):
        await _act(wf, due, result)
        remember(state.engagement, due, now)
        wf.note("engagement", due.action.value)


async def _act(wf: PartnerContext, due: Due, result: SnapshotResult) -> None:
    pid, snapshot = wf.partner_id, result.snapshot
    tracking = {"tracking_url": result.tracking_url or ""}
    match due.action:
        case Action.FIRST_CONVERSION:
            amount = f"{snapshot.first_conversion_amount or 0:,.2f} {snapshot.currency}"
            await email_partner(pid, due.key, "first_conversion", {**tracking, "amount": amount})
        case Action.NUDGE_NO_CLICKS:
            context = {**tracking, "days_without_clicks": due.days, "resources": result.resources}
            await email_partner(pid, due.key, "nudge_no_clicks", context, essential=False)
        case Action.NUDGE_TIPS:
            context = {**tracking, "days_since_first_click": due.days}
            await email_partner(pid, due.key, "nudge_tips", context, essential=False)
        case Action.TIER_CLOSE:
            target = snapshot.next_tier
            assert target is not None
            context = {
                "next_tier": target.name,
                "revenue": f"{snapshot.period.net_revenue:,.2f} {snapshot.currency}",
                "threshold": f"{target.min_revenue:,.2f} {snapshot.currency}",
            }
            await email_partner(pid, due.key, "tier_close", context, essential=False)
        case Action.SILENT_ALERT:
            await notify_managers(pid, due.key, "partner_silent", {"days": due.days})
        case Action.PROPOSE_OFFBOARDING:
            await notify_managers(pid, due.key, "offboarding_proposed", {"days_inactive": due.days})
