"""Campaign listing and the managers' controls (pause, resume, cancel), for the API and the dashboard."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import Engine
from sqlmodel import col, func, select
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from partnerflow.domain.campaign_controls import CampaignAction, CampaignControl, refusal
from partnerflow.domain.prospects import campaign_workflow_id
from partnerflow.services.campaigns import CampaignNotFound, CampaignView, campaign_view
from partnerflow.store.db import session_scope
from partnerflow.store.models import Campaign
from partnerflow.workflows.recruitment import RecruitmentCampaignWorkflow

log = logging.getLogger(__name__)

UPDATES = {
    CampaignAction.PAUSE: RecruitmentCampaignWorkflow.pause,
    CampaignAction.RESUME: RecruitmentCampaignWorkflow.resume,
    CampaignAction.CANCEL: RecruitmentCampaignWorkflow.cancel,
}


class CampaignConflict(Exception):
    """The campaign cannot do that in its current status (HTTP 409)."""


async def control_campaign(
    engine: Engine, client: Client, campaign_id: int, action: CampaignAction, manager: str, reason: str = ""
) -> CampaignView:
    """Pause, resume or cancel through the campaign's workflow; answers once it has taken effect.

    Raises ``CampaignNotFound`` (404) or ``CampaignConflict`` (409).
    """
    view = await asyncio.to_thread(campaign_view, engine, campaign_id)
    if view.status in ("completed", "cancelled"):  # its workflow may be gone already
        raise CampaignConflict(refusal(view.status, action) or f"the campaign is {view.status}")
    handle = client.get_workflow_handle(campaign_workflow_id(campaign_id))
    try:
        await handle.execute_update(UPDATES[action], CampaignControl(manager, reason.strip()))
    except WorkflowUpdateFailedError as exc:
        raise CampaignConflict(getattr(exc.cause, "message", None) or str(exc.cause or exc)) from exc
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        raise CampaignConflict(f"campaign {campaign_id} has ended") from exc
    log.info("campaign %s: %s by %s", campaign_id, action.value, manager)
    return await asyncio.to_thread(campaign_view, engine, campaign_id)


def count_campaigns(engine: Engine, program: str | None = None, status: str | None = None) -> int:
    with session_scope(engine) as session:
        statement = select(func.count()).select_from(Campaign)
        if program:
            statement = statement.where(Campaign.program == program)
        if status:
            statement = statement.where(Campaign.status == status)
        return int(session.exec(statement).one())


def list_campaigns(
    engine: Engine, program: str | None = None, status: str | None = None, limit: int = 50, offset: int = 0
) -> list[CampaignView]:
    """Campaigns, newest first, each with its progress counted from the store."""
    with session_scope(engine) as session:
        statement = select(Campaign.id).order_by(col(Campaign.id).desc()).offset(offset).limit(limit)
        if program:
            statement = statement.where(Campaign.program == program)
        if status:
            statement = statement.where(Campaign.status == status)
        ids = [campaign_id for campaign_id in session.exec(statement) if campaign_id is not None]
    views = []
    for campaign_id in ids:
        try:
            views.append(campaign_view(engine, campaign_id))
        except CampaignNotFound:  # deleted meanwhile
            continue
    return views
