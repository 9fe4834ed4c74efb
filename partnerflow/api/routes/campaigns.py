"""Outreach campaigns (manager token): create, list, follow, and pause, resume or cancel them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, HTTPException, Query, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from temporalio.client import Client

from partnerflow.api.bounds import Offset, RowId
from partnerflow.api.deps import MANAGER_AUTH, EngineDep, ManagerDep, SettingsDep, TemporalDep
from partnerflow.api.errors import responses, unprocessable
from partnerflow.domain.campaign_controls import CampaignAction
from partnerflow.services.campaign_controls import CampaignConflict, control_campaign, list_campaigns
from partnerflow.services.campaigns import (
    CampaignIn,
    CampaignNotFound,
    CampaignRefused,
    CampaignView,
    campaign_view,
    start_campaign,
)

Status = Literal["running", "paused", "completed", "cancelled"]
router = APIRouter(prefix="/campaigns", tags=["recruitment"], responses=MANAGER_AUTH)
_CONTROL_ERRORS = responses(
    422, 503, not_found="unknown campaign", conflict="not possible in the campaign's status"
)


class CampaignList(BaseModel):
    items: list[CampaignView]


class ControlIn(BaseModel):
    reason: str | None = Field(default=None, max_length=500, description="kept with the campaign")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CampaignView,
    responses=responses(503, unprocessable_entity="invalid body, or nobody to contact"),
)
async def create_campaign(
    body: CampaignIn, engine: EngineDep, client: TemporalDep, settings: SettingsDep, _manager: ManagerDep
) -> CampaignView:
    """Create an outreach campaign and start its workflow."""
    try:
        campaign_id = await start_campaign(engine, client, settings, body)
    except CampaignRefused as exc:
        raise unprocessable(str(exc), "body", "prospect_ids") from exc
    return await run_in_threadpool(campaign_view, engine, campaign_id)


@router.get("", response_model=CampaignList, responses=responses(422))
def get_campaigns(
    engine: EngineDep,
    _manager: ManagerDep,
    program: str | None = Query(None, max_length=64),
    campaign_status: Annotated[Status | None, Query(alias="status")] = None,
    limit: int = Query(50, ge=1, le=500),
    offset: Offset = 0,
) -> CampaignList:
    """Campaigns, newest first, with their progress; optionally of one program or status."""
    return CampaignList(items=list_campaigns(engine, program, campaign_status, limit, offset))


@router.get(
    "/{campaign_id}", response_model=CampaignView, responses=responses(422, not_found="unknown campaign")
)
def get_campaign(campaign_id: RowId, engine: EngineDep, _manager: ManagerDep) -> CampaignView:
    """A campaign and its progress, counted from the store."""
    try:
        return campaign_view(engine, campaign_id)
    except CampaignNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "campaign not found") from exc


Reason = Annotated[ControlIn | None, Body()]


@router.post("/{campaign_id}/pause", response_model=CampaignView, responses=_CONTROL_ERRORS)
async def pause_campaign(
    campaign_id: RowId, engine: EngineDep, client: TemporalDep, manager: ManagerDep, body: Reason = None
) -> CampaignView:
    """Pause a running campaign: nothing is sent until it resumes (409 unless running)."""
    return await _control(engine, client, campaign_id, CampaignAction.PAUSE, manager, body)


@router.post("/{campaign_id}/resume", response_model=CampaignView, responses=_CONTROL_ERRORS)
async def resume_campaign(
    campaign_id: RowId, engine: EngineDep, client: TemporalDep, manager: ManagerDep, body: Reason = None
) -> CampaignView:
    """Resume a paused campaign; its waits and send slots move by the pause (409 unless paused)."""
    return await _control(engine, client, campaign_id, CampaignAction.RESUME, manager, body)


@router.post("/{campaign_id}/cancel", response_model=CampaignView, responses=_CONTROL_ERRORS)
async def cancel_campaign(
    campaign_id: RowId, engine: EngineDep, client: TemporalDep, manager: ManagerDep, body: Reason = None
) -> CampaignView:
    """Cancel for good: sequences stop and members not done become cancelled (409 once it has ended)."""
    return await _control(engine, client, campaign_id, CampaignAction.CANCEL, manager, body)


async def _control(
    engine: Engine,
    client: Client,
    campaign_id: RowId,
    action: CampaignAction,
    manager: str,
    body: ControlIn | None,
) -> CampaignView:
    try:
        reason = (body.reason if body else None) or ""
        return await control_campaign(engine, client, campaign_id, action, manager, reason)
    except CampaignNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "campaign not found") from exc
    except CampaignConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
