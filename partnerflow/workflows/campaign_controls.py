"""Pause, resume and cancel: the manager updates of ``RecruitmentCampaignWorkflow`` (a mixin).

Each update records the campaign's status in the store first (every send reads it, so nothing goes
out even from a sequence not told yet), then tells the launched sequences with one activity. The
campaign's own launch loop waits out a pause and stops when cancelled (``held``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from partnerflow.activities.campaign_controls import CampaignControlActivities
    from partnerflow.domain.campaign_controls import (
        CANCELLED_SIGNAL,
        PAUSED_SIGNAL,
        REFUSED,
        RESUMED_SIGNAL,
        CampaignAction,
        CampaignControl,
        CampaignStatusChange,
        MemberSignal,
        refusal,
    )
    from partnerflow.domain.prospects import CampaignCursor, CampaignInput, CampaignRef, CampaignStatus
    from partnerflow.workflows.outreach import CONTROLS
    from partnerflow.workflows.policies import STORE_RETRY

SIGNAL_TIMEOUT = timedelta(minutes=10)  # one attempt at telling every sequence; it heartbeats
SIGNAL_HEARTBEAT = timedelta(minutes=1)


class CampaignControls:
    """The ``pause``, ``resume`` and ``cancel`` updates (a mixin of ``RecruitmentCampaignWorkflow``)."""

    if TYPE_CHECKING:  # provided by the workflow class
        input: CampaignInput
        cursor: CampaignCursor
        cancelled: bool
        refresh_requested: bool
        control_lock: asyncio.Lock
        launching_up_to: int

        def status(self) -> CampaignStatus: ...

        async def _store(self, activity: Callable[..., Any], arg: Any) -> Any: ...

    @workflow.update
    async def pause(self, control: CampaignControl) -> CampaignStatus:
        """Send nothing more until resumed: no new sequences start, running ones hold their next email."""
        async with self.control_lock:
            if self.cursor.paused_at is None and not self.cancelled:
                self.cursor.paused_at = workflow.now()
                await self._change("paused", control, PAUSED_SIGNAL)
        return self.status()

    @pause.validator
    def _validate_pause(self, control: CampaignControl) -> None:
        self._refuse(CampaignAction.PAUSE, control)

    @workflow.update
    async def resume(self, control: CampaignControl) -> CampaignStatus:
        """Carry on: every wait still ahead, and the send slots not handed out, move by the pause."""
        async with self.control_lock:
            paused_at = self.cursor.paused_at
            if paused_at is not None and not self.cancelled:
                now = workflow.now()
                if self.cursor.next_slot is not None:
                    self.cursor.next_slot = max(self.cursor.next_slot, paused_at) + (now - paused_at)
                self.cursor.paused_at = None
                await self._change("running", control, RESUMED_SIGNAL)
        return self.status()

    @resume.validator
    def _validate_resume(self, control: CampaignControl) -> None:
        self._refuse(CampaignAction.RESUME, control)

    @workflow.update
    async def cancel(self, control: CampaignControl) -> CampaignStatus:
        """Stop for good: sequences end without sending more, and members still open become cancelled."""
        async with self.control_lock:
            if not self.cancelled:
                self.cancelled = True
                await self._change("cancelled", control, CANCELLED_SIGNAL)
                ref = CampaignRef(self.input.campaign_id)
                await self._store(CampaignControlActivities.cancel_campaign_members, ref)
                self.refresh_requested = True  # the run loop sees every member settled and completes
        return self.status()

    @cancel.validator
    def _validate_cancel(self, control: CampaignControl) -> None:
        self._refuse(CampaignAction.CANCEL, control)

    async def held(self) -> bool:
        """Before launching more sequences: wait out a pause. True once the campaign is cancelled."""
        if (self.cursor.paused_at is None and not self.cancelled) or not workflow.patched(CONTROLS):
            return False
        await workflow.wait_condition(lambda: self.cursor.paused_at is None or self.cancelled)
        return self.cancelled

    def current_status(self) -> str:
        """``running`` (launching or running), ``paused``, ``completed`` or ``cancelled``."""
        if self.cancelled:
            return "cancelled"
        if self.cursor.paused_at is not None:
            return "paused"
        return "completed" if self.status().phase == "completed" else "running"

    def _refuse(self, action: CampaignAction, control: CampaignControl) -> None:
        if not control.manager.strip():
            raise ApplicationError("a campaign control needs the manager's name", type=REFUSED)
        why = refusal(self.current_status(), action)
        if why is not None:
            raise ApplicationError(why, type=REFUSED)

    async def _change(self, status: str, control: CampaignControl, signal: str) -> None:
        campaign_id, now = self.input.campaign_id, workflow.now()
        change = CampaignStatusChange(campaign_id, status, now, control.manager, control.reason)
        await self._store(CampaignControlActivities.set_campaign_status, change)
        up_to = max(self.launching_up_to, self.cursor.after_prospect_id)
        await workflow.execute_activity_method(
            CampaignControlActivities.signal_campaign_members,
            MemberSignal(campaign_id, signal, now, up_to),
            start_to_close_timeout=SIGNAL_TIMEOUT,
            heartbeat_timeout=SIGNAL_HEARTBEAT,
            retry_policy=STORE_RETRY,
        )
