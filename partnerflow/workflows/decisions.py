"""Deciding an application: a manager's ``decide`` update, or an approval rule, by one path.

``ApplicationDecisions`` is a mixin of ``PartnerLifecycleWorkflow``. Whoever decides first wins:
a manager's decision while a rule waits out its delay leaves the rule nothing to do, and a rule's
decision makes a later manager decision a 409 like any second decision. Either way the decision is
recorded in the store (``applications.decided_by`` is the manager or ``rule:<name>``), noted in
the partner's history, moves the stage and is published.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from partnerflow.activities.store import DecisionRecord, StoreActivities
    from partnerflow.domain.lifecycle import DecisionInput, DecisionResult
    from partnerflow.domain.stages import Decision, Stage
    from partnerflow.workflows.messaging import email_partner
    from partnerflow.workflows.policies import STORE_RETRY, STORE_TIMEOUT
    from partnerflow.workflows.webhooks import publish

if TYPE_CHECKING:
    from partnerflow.domain.lifecycle import LifecycleState

ALREADY_DECIDED = "AlreadyDecided"


def attempt_purpose(state: LifecycleState, purpose: str) -> str:
    """A message purpose of this application: a reapplication's messages are new messages."""
    return purpose if state.attempt <= 1 else f"{purpose}:attempt-{state.attempt}"


class ApplicationDecisions:
    """The ``decide`` update and automatic decisions of ``PartnerLifecycleWorkflow``."""

    if TYPE_CHECKING:  # provided by the workflow class
        partner_id: str
        state: LifecycleState
        decision: DecisionInput | None
        _lock: asyncio.Lock

        def note(self, event: str, detail: str = "") -> None: ...

        async def change_stage(self, stage: Stage) -> None: ...

    @workflow.update
    async def decide(self, input: DecisionInput) -> DecisionResult:
        """A manager approves or rejects the application; a second decision is refused."""
        self._refuse_if_decided()  # two updates can pass validation in the same task
        await self._take(input)
        return DecisionResult(partner_id=self.partner_id, stage=self.state.stage)

    @decide.validator
    def _validate_decide(self, input: DecisionInput) -> None:
        self._refuse_if_decided()
        if not input.manager.strip():
            raise ApplicationError("a decision needs the deciding manager's name", type="InvalidDecision")

    async def decide_automatically(self, input: DecisionInput) -> bool:
        """Decide as ``input.manager`` (``rule:<name>``) unless someone decided first."""
        if self.decision is not None or self.state.stage != Stage.APPLIED:
            return False
        await self._take(input)
        return True

    async def _take(self, input: DecisionInput) -> None:
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
                    via=input.via,
                ),
                start_to_close_timeout=STORE_TIMEOUT,
                retry_policy=STORE_RETRY,
            )
            verb = "approved" if input.decision == Decision.APPROVE else "rejected"
            self.note(verb, f"by {input.manager}" + (f": {input.reason}" if input.reason else ""))
            next_stage = Stage.ONBOARDING if input.decision == Decision.APPROVE else Stage.REJECTED
            await self.change_stage(next_stage)
            attempt = "" if self.state.attempt <= 1 else f"attempt-{self.state.attempt}"
            await publish(
                f"partner.{verb}",
                {"decided_by": input.manager, "reason": input.reason},
                self.partner_id,
                attempt,
            )

    def _refuse_if_decided(self) -> None:
        if self.decision is not None or self.state.stage != Stage.APPLIED:
            raise ApplicationError(
                f"application of partner {self.partner_id} is already decided "
                f"(stage {self.state.stage.value})",
                type=ALREADY_DECIDED,
            )

    async def send_rejection(self) -> None:
        decision = self.decision
        shared_reason = decision.reason if decision and decision.share_reason else None
        purpose = attempt_purpose(self.state, "rejection")
        await email_partner(self.partner_id, purpose, "rejection", {"reason": shared_reason})
