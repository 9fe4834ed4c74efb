"""PartnerLifecycleWorkflow: one durable workflow per partner, for the whole partnership."""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from partnerflow.activities.store import DecisionRecord, StageChange, StoreActivities
    from partnerflow.domain.lifecycle import (
        ApprovalTimings,
        DecisionInput,
        DecisionResult,
        HistoryEntry,
        LifecycleInput,
        LifecycleState,
        PartnerStatus,
    )
    from partnerflow.domain.stages import Decision, Stage
    from partnerflow.workflows.application import run_application_stage
    from partnerflow.workflows.messaging import email_partner
    from partnerflow.workflows.onboarding import run_onboarding_stage
    from partnerflow.workflows.policies import STORE_RETRY, STORE_TIMEOUT

ALREADY_DECIDED = "AlreadyDecided"


@workflow.defn
class PartnerLifecycleWorkflow:
    """Moves one partner through applied → onboarding → active → reviews, or to rejected."""

    @workflow.init
    def __init__(self, input: LifecycleInput) -> None:
        self.partner_id = input.partner_id
        self.program = input.program
        self.timings: ApprovalTimings = input.approval
        self.state: LifecycleState = input.state or LifecycleState()
        self.decision: DecisionInput | None = None
        self._lock = asyncio.Lock()

    @workflow.run
    async def run(self, input: LifecycleInput) -> PartnerStatus:
        if input.state is None:
            self._note("applied", f"program {self.program}")
        if self.state.stage == Stage.APPLIED:
            await run_application_stage(self)
        if self.state.stage == Stage.REJECTED:
            await self._send_rejection()
        elif self.state.stage == Stage.ONBOARDING:
            await email_partner(self.partner_id, "welcome", "welcome")
            await run_onboarding_stage(self)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status()

    @workflow.query
    def status(self) -> PartnerStatus:
        return PartnerStatus(
            partner_id=self.partner_id,
            stage=self.state.stage,
            checklist=dict(self.state.checklist),
            tier=self.state.tier,
            history=list(self.state.history),
        )

    @workflow.update
    async def decide(self, input: DecisionInput) -> DecisionResult:
        """A manager approves or rejects the application; a second decision is refused."""
        self._refuse_if_decided()  # two updates can pass validation in the same task
        self.decision = input
        async with self._lock:
            await workflow.execute_activity_method(
                StoreActivities.record_decision,
                DecisionRecord(
                    partner_id=self.partner_id,
                    decision=input.decision,
                    manager=input.manager,
                    reason=input.reason,
                    share_reason=input.share_reason,
                    at=workflow.now(),
                ),
                start_to_close_timeout=STORE_TIMEOUT,
                retry_policy=STORE_RETRY,
            )
            verb = "approved" if input.decision == Decision.APPROVE else "rejected"
            self._note(verb, f"by {input.manager}" + (f": {input.reason}" if input.reason else ""))
            next_stage = Stage.ONBOARDING if input.decision == Decision.APPROVE else Stage.REJECTED
            await self.change_stage(next_stage)
        return DecisionResult(partner_id=self.partner_id, stage=self.state.stage)

    @decide.validator
    def _validate_decide(self, input: DecisionInput) -> None:
        self._refuse_if_decided()
        if not input.manager.strip():
            raise ApplicationError("a decision needs the deciding manager's name", type="InvalidDecision")

    async def change_stage(self, stage: Stage) -> None:
        """Move to ``stage``: history, then the store's read model (stage filter, dashboards)."""
        self.state.stage = stage
        self._note("stage", stage.value)
        await workflow.execute_activity_method(
            StoreActivities.record_stage,
            StageChange(partner_id=self.partner_id, stage=stage.value, at=workflow.now()),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
        )

    def _refuse_if_decided(self) -> None:
        if self.decision is not None or self.state.stage != Stage.APPLIED:
            raise ApplicationError(
                f"application of partner {self.partner_id} is already decided "
                f"(stage {self.state.stage.value})",
                type=ALREADY_DECIDED,
            )

    def _note(self, event: str, detail: str = "") -> None:
        self.state.history.append(HistoryEntry(at=workflow.now().isoformat(), event=event, detail=detail))

    async def _send_rejection(self) -> None:
        decision = self.decision
        shared_reason = decision.reason if decision and decision.share_reason else None
        await email_partner(self.partner_id, "rejection", "rejection", {"reason": shared_reason})
