"""Application stage: tell managers, remind, escalate, until a manager decides."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from partnerflow.activities.store import PendingApplicationsQuery, StoreActivities
    from partnerflow.domain.stages import Stage
    from partnerflow.workflows.messaging import email_partner, notify_managers
    from partnerflow.workflows.policies import STORE_RETRY, STORE_TIMEOUT

if TYPE_CHECKING:
    from partnerflow.workflows.context import PartnerContext


async def run_application_stage(wf: PartnerContext) -> None:
    """Returns once the application is decided (the ``decide`` update moves the stage on)."""
    pid = wf.partner_id
    await asyncio.gather(
        notify_managers(pid, "application-submitted", "application_submitted"),
        email_partner(pid, "application-received", "application_received"),
    )
    timings = wf.timings
    if await _decided_within(wf, timings.reminder):
        return
    await notify_managers(pid, "approval-reminder", "approval_reminder")
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
        "approval-escalation",
        "approval_escalation",
        {
            "pending": [_pending_view(item) for item in pending],
            "waiting_days": timings.escalation.days,
        },
    )
    await workflow.wait_condition(lambda: wf.state.stage != Stage.APPLIED)


async def _decided_within(wf: PartnerContext, wait: timedelta) -> bool:
    try:
        await workflow.wait_condition(lambda: wf.state.stage != Stage.APPLIED, timeout=wait)
        return True
    except TimeoutError:
        return False


def _pending_view(item: object) -> dict[str, str]:
    data = item.__dict__ if not isinstance(item, dict) else item
    return {key: str(value) if value is not None else "" for key, value in data.items()}
