"""Recruitment campaigns: a parent launching one outreach sequence per prospect, throttled.

The sequence itself is ``outreach.ProspectOutreachWorkflow``; pause, resume and cancel are the
``campaign_controls.CampaignControls`` mixin.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from partnerflow.activities.recruitment import RecruitmentActivities
    from partnerflow.domain.prospects import (
        CampaignBatchQuery,
        CampaignCursor,
        CampaignDefinition,
        CampaignInput,
        CampaignProgress,
        CampaignRef,
        CampaignStatus,
        OutreachInput,
        outreach_workflow_id,
    )
    from partnerflow.workflows.campaign_controls import CampaignControls
    from partnerflow.workflows.outreach import ProspectOutreachWorkflow
    from partnerflow.workflows.policies import STORE_RETRY, STORE_TIMEOUT

__all__ = ["LAUNCH_LEAD", "ProspectOutreachWorkflow", "RecruitmentCampaignWorkflow"]

# The parent starts the next batch this long before its first send slot, so children are ready in time.
LAUNCH_LEAD = timedelta(minutes=1)


@workflow.defn
class RecruitmentCampaignWorkflow(CampaignControls):
    """Launches the members' sequences in batches, hands out send slots, and reports progress.

    Children are abandoned, not awaited: they outlive each continue-as-new of this parent, whose
    history then holds at most ``batches_per_run * batch_size`` child starts.
    """

    @workflow.init
    def __init__(self, input: CampaignInput) -> None:
        self.input = input
        self.cursor = input.cursor or CampaignCursor()
        self.progress = CampaignProgress()
        self.as_of: datetime | None = None
        self.refresh_requested = False
        self.cancelled = False
        self.control_lock = asyncio.Lock()
        self.launching_up_to = 0  # the highest prospect id whose sequence may have started

    @workflow.query
    def status(self) -> CampaignStatus:
        phase = "launching" if not self.cursor.launch_done else "running"
        if self.as_of is not None and self.cursor.launch_done and _finished(self.progress):
            phase = "completed"
        if self.cancelled or self.cursor.paused_at is not None:
            phase = "cancelled" if self.cancelled else "paused"
        return CampaignStatus(
            self.input.campaign_id,
            phase,
            self.cursor.launched,
            self.cursor.runs,
            dataclasses.replace(self.progress),
            self.as_of,
        )

    @workflow.signal
    def refresh(self) -> None:
        """Re-read the progress from the store now rather than at the next interval."""
        self.refresh_requested = True

    @workflow.run
    async def run(self, input: CampaignInput) -> CampaignStatus:
        ref = CampaignRef(input.campaign_id)
        campaign: CampaignDefinition = await self._store(RecruitmentActivities.load_campaign, ref)
        if campaign.status not in ("running", "paused"):  # paused: continued-as-new while paused
            return self.status()
        batches = 0
        while not self.cursor.launch_done:
            if await self.held():  # cancelled
                break
            query = CampaignBatchQuery(input.campaign_id, self.cursor.after_prospect_id, input.batch_size)
            prospect_ids: list[int] = await self._store(RecruitmentActivities.campaign_batch, query)
            if prospect_ids:
                await self._launch(campaign, prospect_ids)
            self.cursor.launch_done = len(prospect_ids) < input.batch_size
            batches += 1
            await self._refresh_progress()
            if self.cursor.launch_done:
                break
            ahead = self.cursor.next_slot - workflow.now() - LAUNCH_LEAD if self.cursor.next_slot else None
            if ahead is not None and ahead > timedelta(0):
                await workflow.sleep(ahead)  # don't race ahead of the send rate
            if batches >= input.batches_per_run:
                await self._continue_as_new()
        if self.as_of is None:  # a fresh run after continue-as-new
            await self._refresh_progress()
        while not _finished(self.progress):
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: self.refresh_requested, timeout=input.progress_every)
            self.refresh_requested = False
            await self._refresh_progress()
            if workflow.info().is_continue_as_new_suggested():
                await self._continue_as_new()
        await self._store(RecruitmentActivities.complete_campaign, ref)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status()

    async def _launch(self, campaign: CampaignDefinition, prospect_ids: list[int]) -> None:
        """Start one child per prospect, each with its own first-send slot 60/rate seconds apart."""
        interval = timedelta(seconds=60 / max(campaign.messages_per_minute, 1))
        self.launching_up_to = prospect_ids[-1]
        starts = []
        for prospect_id in prospect_ids:
            slot = max(self.cursor.next_slot or workflow.now(), workflow.now())
            self.cursor.next_slot = slot + interval
            child = OutreachInput(campaign.campaign_id, prospect_id, campaign.steps, first_send_at=slot)
            starts.append(self._start_child(child))
        await asyncio.gather(*starts)
        self.cursor.after_prospect_id = prospect_ids[-1]

    async def _start_child(self, child: OutreachInput) -> None:
        try:
            await workflow.start_child_workflow(
                ProspectOutreachWorkflow.run,
                child,
                id=outreach_workflow_id(child.campaign_id, child.prospect_id),
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
            self.cursor.launched += 1
        except WorkflowAlreadyStartedError:  # a sequence never runs twice for the same campaign
            workflow.logger.info("outreach for prospect %s already started", child.prospect_id)

    async def _refresh_progress(self) -> None:
        ref = CampaignRef(self.input.campaign_id)
        self.progress = await self._store(RecruitmentActivities.campaign_progress, ref)
        self.as_of = workflow.now()

    async def _store(self, activity: Callable[..., Any], arg: Any) -> Any:
        return await workflow.execute_activity_method(
            activity, arg, start_to_close_timeout=STORE_TIMEOUT, retry_policy=STORE_RETRY
        )

    async def _continue_as_new(self) -> None:
        await workflow.wait_condition(workflow.all_handlers_finished)
        self.cursor.runs += 1
        workflow.continue_as_new(dataclasses.replace(self.input, cursor=self.cursor))


def _finished(progress: CampaignProgress) -> bool:
    return progress.pending + progress.in_sequence == 0
