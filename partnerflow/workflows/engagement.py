"""Active stage (seam): engagement nudges and periodic reviews arrive with the engagement issue.

The lifecycle workflow calls ``run_active_stage`` once onboarding is complete; it returns when
the partner leaves ``active``. Until then the workflow stays open for signals (new terms).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from partnerflow.domain.stages import Stage

if TYPE_CHECKING:
    from partnerflow.workflows.lifecycle import PartnerLifecycleWorkflow


async def run_active_stage(wf: PartnerLifecycleWorkflow) -> None:
    await workflow.wait_condition(lambda: wf.state.stage != Stage.ACTIVE)
