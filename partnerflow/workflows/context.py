"""What a stage module may see of the partner's workflow: a small protocol, not the workflow class.

Stage modules (application, onboarding, engagement, review, offboarding) take a ``PartnerContext``;
``PartnerLifecycleWorkflow`` satisfies it. So no stage imports the lifecycle module, and the
lifecycle module imports the stages: no import cycle.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from partnerflow.domain.lifecycle import ApprovalTimings, DecisionInput, LifecycleState
    from partnerflow.domain.onboarding import OnboardingTimings
    from partnerflow.domain.review import TierDecision
    from partnerflow.domain.stages import Stage


class PartnerContext(Protocol):
    """The partner's identity, timings and state, and the few operations stages perform on it."""

    partner_id: str
    program: str
    timings: ApprovalTimings
    onboarding_timings: OnboardingTimings
    state: LifecycleState
    tracking_url: str | None
    offboarded_by: str
    tier_proposal: str | None
    tier_decision: TierDecision | None
    webinar_lock: asyncio.Lock  # held while emailing about a webinar session (invitation, change)

    def note(self, event: str, detail: str = "") -> None:
        """Add an entry to the partner's timeline."""

    def check(self, item: str, detail: str = "") -> None:
        """Tick an onboarding checklist item (once)."""

    async def change_stage(self, stage: Stage) -> None:
        """Move to ``stage`` and record it in the store."""

    async def decide_automatically(self, input: DecisionInput) -> bool:
        """Decide the application as ``input.manager`` (a rule) unless someone decided first."""
