"""Periodic review: KPIs, segment, a proposed tier change confirmed by managers, a scorecard."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from partnerflow.activities.engagement import EngagementActivities
    from partnerflow.domain.engagement import EngagementRules
    from partnerflow.domain.review import ReviewInput, ReviewResult, TierChange
    from partnerflow.workflows.messaging import email_partner, notify_managers
    from partnerflow.workflows.policies import STORE_RETRY, STORE_TIMEOUT
    from partnerflow.workflows.webhooks import publish

if TYPE_CHECKING:
    from partnerflow.workflows.context import PartnerContext


async def run_review(wf: PartnerContext, start: datetime, end: datetime, rules: EngagementRules) -> None:
    # Keys carry the full start time: review periods shorter than a day (demos) stay distinct.
    pid, period = wf.partner_id, start.isoformat(timespec="seconds")
    result = await workflow.execute_activity_method(
        EngagementActivities.compute_review,
        ReviewInput(pid, start, end, wf.state.tier),
        start_to_close_timeout=STORE_TIMEOUT,
        retry_policy=STORE_RETRY,
    )
    wf.state.segment = result.segment
    previous_tier, changed = wf.state.tier, False
    if result.proposed_tier:
        changed = await _settle_tier_change(wf, result.proposed_tier, period, rules, result)
    await email_partner(
        pid,
        f"review:{period}:scorecard",
        "scorecard",
        {
            "period": {"start": start.date().isoformat(), "end": end.date().isoformat()},
            "kpis": result.scorecard,
            "tier": wf.state.tier or "",
            "tier_changed": changed,
            "previous_tier": previous_tier,
            "segment": result.segment,
        },
    )
    wf.note(
        "review",
        f"{start.date().isoformat()}: {result.segment}, revenue {result.revenue}, tier {wf.state.tier}",
    )
    await publish(
        "partner.review_completed",
        {
            "period": period,
            "segment": result.segment,
            "tier": wf.state.tier,
            "tier_changed": changed,
            "revenue": result.revenue,
            "conversions": result.conversions,
        },
        pid,
        period,
    )


async def _settle_tier_change(
    wf: PartnerContext, proposed: str, period: str, rules: EngagementRules, result: ReviewResult
) -> bool:
    """Ask managers; no answer within the confirmation window means the proposal applies."""
    wf.tier_proposal, wf.tier_decision = proposed, None
    await notify_managers(
        wf.partner_id,
        f"review:{period}:tier-proposed",
        "tier_change_proposed",
        {
            "current_tier": wf.state.tier,
            "proposed_tier": proposed,
            "revenue": result.revenue,
            "conversions": result.conversions,
            "segment": wf.state.segment or "",
            "deadline_days": _whole(rules.tier_confirmation_days),
        },
    )
    with contextlib.suppress(TimeoutError):
        await workflow.wait_condition(
            lambda: wf.tier_decision is not None, timeout=timedelta(days=rules.tier_confirmation_days)
        )
    decision, wf.tier_proposal = wf.tier_decision, None
    if decision is not None and not decision.approve:
        wf.note("tier-change-refused", f"{proposed} refused by {decision.manager}")
        return False
    decided_by = decision.manager if decision else "auto"
    change = await workflow.execute_activity_method(
        EngagementActivities.apply_tier_change,
        TierChange(wf.partner_id, result.review_id, proposed, decided_by),
        start_to_close_timeout=STORE_TIMEOUT,
        retry_policy=STORE_RETRY,
    )
    wf.state.tier = change.new_tier
    wf.note("tier", f"{change.old_tier or '-'} → {change.new_tier} ({decided_by})")
    await publish(
        "partner.tier_changed",
        {
            "old_tier": change.old_tier,
            "new_tier": change.new_tier,
            "decided_by": decided_by,
            "promoted": change.promoted,
        },
        wf.partner_id,
        period,
    )
    if decision is None:
        await notify_managers(
            wf.partner_id,
            f"review:{period}:tier-applied",
            "tier_change_applied",
            {"old_tier": change.old_tier, "new_tier": change.new_tier, "decided_by": decided_by},
        )
    await email_partner(
        wf.partner_id,
        f"review:{period}:tier-changed",
        "tier_changed",
        {
            "old_tier": change.old_tier,
            "new_tier": change.new_tier,
            "commission_rate": change.commission_rate,
            "promoted": change.promoted,
        },
    )
    return True


def _whole(days: float) -> int | float:
    return int(days) if days == int(days) else days
