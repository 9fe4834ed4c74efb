"""Offboarding: the link stops earning, the partner gets a farewell, managers are told."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from partnerflow.activities.engagement import EngagementActivities
    from partnerflow.activities.store import StageChange, StoreActivities
    from partnerflow.workflows.messaging import email_partner, notify_managers
    from partnerflow.workflows.policies import STORE_RETRY, STORE_TIMEOUT
    from partnerflow.workflows.webhooks import publish

if TYPE_CHECKING:
    from partnerflow.workflows.context import PartnerContext


async def run_offboarding(wf: PartnerContext) -> None:
    pid = wf.partner_id
    await workflow.execute_activity_method(
        EngagementActivities.deactivate_tracking_link,
        pid,
        start_to_close_timeout=STORE_TIMEOUT,
        retry_policy=STORE_RETRY,
    )
    await workflow.execute_activity_method(
        StoreActivities.record_stage,
        StageChange(partner_id=pid, stage=wf.state.stage.value, at=workflow.now()),
        start_to_close_timeout=STORE_TIMEOUT,
        retry_policy=STORE_RETRY,
    )
    await publish("partner.offboarded", {"reason": wf.state.offboarding_reason, "by": wf.offboarded_by}, pid)
    await asyncio.gather(
        email_partner(pid, "farewell", "farewell"),
        notify_managers(
            pid,
            "offboarded",
            "partner_offboarded",
            {"reason": wf.state.offboarding_reason or "", "manager": wf.offboarded_by or "managers"},
        ),
    )
