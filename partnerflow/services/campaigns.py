"""Outreach campaigns, shared by the API and the CLI: validate, store, start the campaign's workflow."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from partnerflow.config import Settings
from partnerflow.domain.limits import MAX_ID
from partnerflow.domain.prospects import (
    DEFAULT_STEPS,
    CampaignInput,
    CampaignProgress,
    CampaignStep,
    campaign_workflow_id,
)
from partnerflow.rendering.templates import TEMPLATES_DIR
from partnerflow.store import prospects as store
from partnerflow.store.db import session_scope
from partnerflow.store.models import Campaign
from partnerflow.workflows.recruitment import RecruitmentCampaignWorkflow

log = logging.getLogger(__name__)
MAX_PROSPECTS = 10_000  # ids in one campaign body (PARTNERFLOW_MAX_JSON_ITEMS); omit for all new ones


class StepIn(BaseModel):
    template: str = Field(pattern=r"^[a-z0-9_]+$", max_length=100)
    delay_days: float = Field(0, ge=0, le=365, description="wait before this step, after the previous one")

    @field_validator("template")
    @classmethod
    def _exists(cls, value: str) -> str:
        if not (TEMPLATES_DIR / "emails" / "en" / f"{value}.txt").is_file():
            raise ValueError(f"no email template {value!r}")
        return value


class CampaignIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    program: str = Field("default", pattern=r"^[\w.-]+$", max_length=64)
    steps: list[StepIn] = Field(
        default_factory=lambda: [StepIn(**vars(s)) for s in DEFAULT_STEPS], min_length=1, max_length=10
    )
    messages_per_minute: int = Field(60, ge=1, le=6000)
    prospect_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(
        None, max_length=MAX_PROSPECTS, description="default: every `new` prospect of the program"
    )


class CampaignView(BaseModel):
    """A campaign: ``status`` is running, paused, completed or cancelled."""

    id: int
    name: str
    program: str
    status: str
    steps: list[StepIn]
    messages_per_minute: int
    created_at: datetime
    workflow_id: str
    progress: CampaignProgress
    status_changed_at: datetime | None = Field(None, description="the last pause, resume or cancellation")
    status_changed_by: str | None = None
    cancel_reason: str | None = None


class CampaignNotFound(LookupError):
    """No campaign with that id."""


class CampaignRefused(ValueError):
    """Nobody to contact, or prospect ids that are not reachable prospects of the program."""


async def start_campaign(
    engine: Engine, client: Client, settings: Settings, body: CampaignIn, **tuning: Any
) -> int:
    """Store the campaign and its members, then start its workflow; returns the campaign id."""

    def write() -> int:
        with session_scope(engine) as session:
            ids, unknown = store.select_prospects(session, body.program, body.prospect_ids)
            if unknown:
                shown = ", ".join(map(str, unknown[:20]))
                raise CampaignRefused(f"not reachable prospects of {body.program}: {shown}")
            if not ids:
                raise CampaignRefused(f"no new prospects in {body.program} to contact")
            steps = [CampaignStep(s.template, s.delay_days) for s in body.steps]
            campaign = store.create_campaign(
                session, body.name, body.program, steps, body.messages_per_minute, ids
            )
            assert campaign.id is not None
            return campaign.id

    campaign_id = await asyncio.to_thread(write)
    try:
        await client.start_workflow(
            RecruitmentCampaignWorkflow.run,
            CampaignInput(campaign_id, **tuning),
            id=campaign_workflow_id(campaign_id),
            task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        log.info("campaign %s already running", campaign_id)
    return campaign_id


def campaign_view(engine: Engine, campaign_id: int) -> CampaignView:
    with session_scope(engine) as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            raise CampaignNotFound(f"campaign {campaign_id} not found")
        progress = store.progress(session, campaign_id)
    steps = [StepIn.model_construct(**vars(step)) for step in store.campaign_steps(campaign)]
    return CampaignView(
        **campaign.model_dump(exclude={"steps"}),
        steps=steps,
        workflow_id=campaign_workflow_id(campaign_id),
        progress=progress,
    )
