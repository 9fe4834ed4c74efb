"""Application stage: tell managers, remind, escalate, until a manager decides.

Unless an approval rule of the program matches (``approval-rules``): then the rule decides after
its delay, through the same path as a manager, unless a manager decides first.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from partnerflow.activities.approval import ApprovalActivities
    from partnerflow.activities.store import PendingApplicationsQuery, StoreActivities
    from partnerflow.domain.approval import RuleMatch, RuleQuery
    from partnerflow.domain.lifecycle import DecisionInput
    from partnerflow.domain.stages import Decision, Stage
    from partnerflow.workflows.decisions import attempt_purpose
    from partnerflow.workflows.messaging import email_partner, notify_managers
    from partnerflow.workflows.policies import STORE_RETRY, STORE_TIMEOUT

if TYPE_CHECKING:
    from partnerflow.workflows.context import PartnerContext

# Patch id: the rules activity is a new command before the existing first ones.
APPROVAL_RULES = "approval-rules"


async def run_application_stage(wf: PartnerContext) -> None:
    """Returns once the application is decided (the ``decide`` update moves the stage on)."""
    pid, key = wf.partner_id, lambda purpose: attempt_purpose(wf.state, purpose)
    rule = await _matching_rule(wf)
    rule_view = _rule_view(rule) if rule else None
    await asyncio.gather(
        notify_managers(pid, key("application-submitted"), "application_submitted", {"rule": rule_view}),
        email_partner(pid, key("application-received"), "application_received"),
    )
    if rule is not None:
        await _decide_by_rule(wf, rule)
        return
    timings = wf.timings
    if await _decided_within(wf, timings.reminder):
        return
    await notify_managers(pid, key("approval-reminder"), "approval_reminder")
    if await _decided_within(wf, timings.escalation - timings.reminder):
        return
    pending = await workflow.execute_activity_method(
        StoreActivities.pending_applications,
        PendingApplicationsQuery(program=wf.program, limit=10),
        start_to_close_timeout=STORE_TIMEOUT,
        retry_policy=STORE_RETRY,
    )
    await notify_managers(
        pid,
        key("approval-escalation"),
        "approval_escalation",
        {
            "pending": [_pending_view(item) for item in pending],
            "waiting_days": timings.escalation.days,
        },
    )
    await workflow.wait_condition(lambda: wf.state.stage != Stage.APPLIED)


async def _matching_rule(wf: PartnerContext) -> RuleMatch | None:
    if not workflow.patched(APPROVAL_RULES):
        return None
    result = await workflow.execute_activity_method(
        ApprovalActivities.match_approval_rule,
        RuleQuery(wf.partner_id),
        start_to_close_timeout=STORE_TIMEOUT,
        retry_policy=STORE_RETRY,
    )
    return result.match


async def _decide_by_rule(wf: PartnerContext, rule: RuleMatch) -> None:
    """Wait out the rule's delay (a durable timer), then decide as ``rule:<name>``; a manager's
    decision in the meantime wins and the rule does nothing."""
    verb = "approve" if rule.decision == Decision.APPROVE else "reject"
    after = f" after {rule.delay}" if rule.delay else ""
    wf.note("approval-rule", f"{rule.author} matched: {verb}{after}")
    if rule.delay > timedelta(0) and await _decided_within(wf, rule.delay):
        wf.note("approval-rule-skipped", f"{rule.author}: a manager decided first")
        return
    decision = DecisionInput(rule.decision, rule.author, rule.reason, rule.share_reason)
    if not await wf.decide_automatically(decision):
        # A manager's decision is being recorded: the run loop goes on once it has moved the stage.
        wf.note("approval-rule-skipped", f"{rule.author}: a manager decided first")
        await workflow.wait_condition(lambda: wf.state.stage != Stage.APPLIED)


def _rule_view(rule: RuleMatch) -> dict[str, str]:
    hours = rule.delay.total_seconds() / 3600
    when = "now" if not rule.delay else (f"in {hours:g} h" if hours < 48 else f"in {hours / 24:g} days")
    return {"name": rule.name, "decision": rule.decision.value, "when": when, "reason": rule.reason or ""}


async def _decided_within(wf: PartnerContext, wait: timedelta) -> bool:
    try:
        await workflow.wait_condition(lambda: wf.state.stage != Stage.APPLIED, timeout=wait)
        return True
    except TimeoutError:
        return False


def _pending_view(item: object) -> dict[str, str]:
    data = item.__dict__ if not isinstance(item, dict) else item
    return {key: str(value) if value is not None else "" for key, value in data.items()}
