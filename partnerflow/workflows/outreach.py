"""One prospect's outreach sequence, started by ``RecruitmentCampaignWorkflow`` (``recruitment.py``)."""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from partnerflow.activities.recruitment import RecruitmentActivities
    from partnerflow.domain.campaign_controls import OutreachControl
    from partnerflow.domain.prospects import (
        CampaignStep,
        MemberOutcome,
        OutreachInput,
        OutreachResult,
        OutreachSend,
        OutreachStatus,
        ProspectConverted,
        ProspectUnsubscribed,
    )
    from partnerflow.workflows.policies import (
        MESSAGE_ATTEMPT_TIMEOUT,
        MESSAGE_GIVE_UP_AFTER,
        MESSAGE_RETRY,
        STORE_RETRY,
        STORE_TIMEOUT,
    )

OUTREACH_RETRY = dataclasses.replace(
    MESSAGE_RETRY,
    non_retryable_error_types=[
        *(MESSAGE_RETRY.non_retryable_error_types or []),
        "ProspectNotFound",
        "LookupError",
    ],
)
# Patch id of pause/resume/cancel: the run loops wait out a pause where they did not wait before.
# Only a workflow that was paused (or whose send found its campaign paused) reaches the patched
# code, so histories from before it replay unchanged.
CONTROLS = "campaign-controls"
# A send that found the campaign paused before its signal came looks again at least this often.
RECHECK_PAUSED = timedelta(days=1)


@workflow.defn
class ProspectOutreachWorkflow:
    """One prospect's sequence: each step after its delay, until they sign up, opt out or bounce.

    While its campaign is paused it sends nothing, and the waits still ahead stretch by the pause,
    so the campaign's rate limit holds after it resumes. A cancelled campaign ends it.
    """

    @workflow.init
    def __init__(self, input: OutreachInput) -> None:
        self.input = input
        self.outcome: str | None = None
        self.sent_at: list[datetime] = []
        self.paused_at: datetime | None = None
        self.resumes = 0  # resume signals so far (a send's "paused" answer may predate one)

    @workflow.signal
    def converted(self, signal: ProspectConverted) -> None:
        """The prospect signed up as a partner."""
        self.outcome = self.outcome or "converted"

    @workflow.signal
    def unsubscribed(self, signal: ProspectUnsubscribed) -> None:
        """The prospect used the unsubscribe link (of this or another campaign)."""
        self.outcome = self.outcome or "unsubscribed"

    @workflow.signal
    def campaign_paused(self, control: OutreachControl) -> None:
        """The campaign was paused: send nothing until it resumes."""
        self.paused_at = self.paused_at or workflow.now()

    @workflow.signal
    def campaign_resumed(self, control: OutreachControl) -> None:
        """The campaign resumed: carry on where the sequence was, its waits moved by the pause."""
        self.paused_at = None
        self.resumes += 1

    @workflow.signal
    def campaign_cancelled(self, control: OutreachControl) -> None:
        """The campaign was cancelled: the sequence ends without sending more."""
        self.outcome = self.outcome or "cancelled"

    @workflow.query
    def status(self) -> OutreachStatus:
        sent = list(self.sent_at)
        return OutreachStatus(
            self.input.prospect_id, len(sent), sent, self.outcome, self.input.first_send_at, self.paused_at
        )

    @workflow.run
    async def run(self, input: OutreachInput) -> OutreachStatus:
        if input.first_send_at is not None:
            await self._wait(input.first_send_at - workflow.now())
        for number, step in enumerate(input.steps, start=1):
            await self._wait(timedelta(days=step.delay_days))
            await self._hold()
            if self.outcome:
                break
            try:
                send, result = await self._send(input, number, step)
            except ActivityError as err:
                workflow.logger.warning(
                    "outreach step %s to prospect %s failed: %s", number, input.prospect_id, err.cause
                )
                self.outcome = "failed"
                break
            if result is None:  # ended while held
                break
            if result.status not in ("sent", "duplicate"):
                self.outcome = self.outcome or result.status
                break
            self.sent_at.append(send.at)
        self.outcome = self.outcome or "completed"
        await workflow.execute_activity_method(
            RecruitmentActivities.finish_outreach,
            MemberOutcome(input.campaign_id, input.prospect_id, self.outcome, len(self.sent_at)),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
        )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status()

    async def _send(
        self, input: OutreachInput, number: int, step: CampaignStep
    ) -> tuple[OutreachSend, OutreachResult | None]:
        """Send one step; while the store says the campaign is paused, hold and try again."""
        while True:
            resumes = self.resumes
            send = OutreachSend(input.campaign_id, input.prospect_id, number, step.template, workflow.now())
            result = await workflow.execute_activity_method(
                RecruitmentActivities.send_outreach,
                send,
                retry_policy=OUTREACH_RETRY,
                start_to_close_timeout=MESSAGE_ATTEMPT_TIMEOUT,
                schedule_to_close_timeout=MESSAGE_GIVE_UP_AFTER,
            )
            if result.status != "paused" or not workflow.patched(CONTROLS):
                return send, result
            if self.resumes != resumes:
                continue  # resumed while the send looked
            # Paused before our signal came (it is on its way): hold like a signalled pause, and
            # look again after a while in case it never comes.
            self.paused_at = self.paused_at or workflow.now()
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self.paused_at is None or self.outcome is not None, timeout=RECHECK_PAUSED
                )
            if self.outcome:
                return send, None
            self.paused_at = None

    async def _hold(self) -> bool:
        """While the campaign is paused, wait until it resumes (or the sequence ends); True if it held."""
        if self.paused_at is None or self.outcome or not workflow.patched(CONTROLS):
            return False
        await workflow.wait_condition(lambda: self.paused_at is None or self.outcome is not None)
        return True

    async def _wait(self, delay: timedelta) -> None:
        """Sleep ``delay``, cut short by a signal that ends the sequence; time paused does not count."""
        remaining = delay
        while remaining > timedelta(0) and not self.outcome:
            if self.paused_at is not None:
                if not await self._hold():
                    return
                continue
            started = workflow.now()
            try:
                await workflow.wait_condition(
                    lambda: self.outcome is not None or self.paused_at is not None, timeout=remaining
                )
            except TimeoutError:
                return
            remaining -= workflow.now() - started
