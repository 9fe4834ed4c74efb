"""Onboarding stage (seam): terms, resources, webinars arrive with the onboarding issue.

The lifecycle workflow calls ``run_onboarding_stage`` once the partner is approved and welcomed;
it returns when the partner leaves ``onboarding``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from partnerflow.domain.stages import Stage

if TYPE_CHECKING:
    from partnerflow.workflows.lifecycle import PartnerLifecycleWorkflow


async def run_onboarding_stage(wf: PartnerLifecycleWorkflow) -> None:
    await workflow.wait_condition(lambda: wf.state.stage != Stage.ONBOARDING)
