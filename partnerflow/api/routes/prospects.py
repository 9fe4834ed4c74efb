"""Recruitment: prospect import, outreach campaigns, and the prospects' one-click unsubscribe."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import Engine
from starlette.datastructures import UploadFile
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from partnerflow.activities.rendering import TEMPLATES_DIR
from partnerflow.api.deps import EngineDep, ManagerDep, SettingsDep, TemporalDep
from partnerflow.api.routes.unsubscribe import _PAGE
from partnerflow.config import Settings
from partnerflow.domain.prospects import (
    DEFAULT_STEPS,
    CampaignInput,
    CampaignProgress,
    CampaignStep,
    CsvFormatError,
    ImportReport,
    campaign_workflow_id,
    decode_csv,
    parse_mapping,
    read_outreach_token,
)
from partnerflow.recruitment import unsubscribe_prospect
from partnerflow.store import prospects as store
from partnerflow.store.db import session_scope
from partnerflow.store.models import Campaign
from partnerflow.workflows.recruitment import RecruitmentCampaignWorkflow

log = logging.getLogger(__name__)
router = APIRouter(prefix="/prospects", tags=["recruitment"])
campaigns_router = APIRouter(prefix="/campaigns", tags=["recruitment"])
outreach_router = APIRouter(prefix="/outreach/unsubscribe", tags=["recruitment"])
routers = (router, campaigns_router, outreach_router)
MAX_UPLOAD = 20 * 1024 * 1024
PROGRAM = Query("default", pattern=r"^[\w.-]+$", max_length=64)


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
    prospect_ids: list[int] | None = Field(None, description="default: every `new` prospect of the program")


class CampaignView(BaseModel):
    id: int
    name: str
    program: str
    status: str
    steps: list[StepIn]
    messages_per_minute: int
    created_at: datetime
    workflow_id: str
    progress: CampaignProgress


class CampaignRefused(ValueError):
    """Nobody to contact, or prospect ids that are not reachable prospects of the program."""


@router.post(
    "/import",
    response_model=ImportReport,
    openapi_extra={
        "requestBody": {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
            }
        }
    },
)
async def import_prospects(
    request: Request,
    engine: EngineDep,
    _manager: ManagerDep,
    program: str = PROGRAM,
    mapping: Annotated[
        list[str] | None, Query(alias="map", description="column=field, e.g. Mail=email")
    ] = None,
) -> ImportReport:
    """Import prospects from a CSV (multipart ``file`` or a text/csv body), with a report per row."""
    text = await _csv_text(request)
    try:
        columns = parse_mapping(mapping or [])
        return await run_in_threadpool(_import, engine, program, text, columns)
    except CsvFormatError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc


def _import(engine: Engine, program: str, text: str, mapping: dict[str, str]) -> ImportReport:
    with session_scope(engine) as session:
        report = store.import_csv(session, program, text, mapping)
    log.info(
        "imported %s of %s prospects into %s in %.2f s",
        report.imported,
        report.total,
        program,
        report.seconds,
    )
    return report


async def _csv_text(request: Request) -> str:
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, "send the CSV in a form field named file"
            )
        size = upload.size or 0
        data = await upload.read() if size <= MAX_UPLOAD else b""
    else:
        data = await request.body()
        size = len(data)
    if size > MAX_UPLOAD:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "CSV larger than 20 MB")
    try:
        return decode_csv(data)
    except CsvFormatError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc


@campaigns_router.post("", status_code=status.HTTP_201_CREATED, response_model=CampaignView)
async def create_campaign(
    body: CampaignIn, engine: EngineDep, client: TemporalDep, settings: SettingsDep, _manager: ManagerDep
) -> CampaignView:
    """Create an outreach campaign and start its workflow."""
    try:
        campaign_id = await start_campaign(engine, client, settings, body)
    except CampaignRefused as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    return await run_in_threadpool(campaign_view, engine, campaign_id)


@campaigns_router.get("/{campaign_id}", response_model=CampaignView)
def get_campaign(campaign_id: int, engine: EngineDep, _manager: ManagerDep) -> CampaignView:
    """A campaign and its progress, counted from the store."""
    return campaign_view(engine, campaign_id)


@outreach_router.get("/{token}", response_class=HTMLResponse)
def confirm_unsubscribe(token: str, settings: SettingsDep) -> HTMLResponse:
    """A confirmation page (mail scanners follow GET links; only the POST unsubscribes)."""
    _read_token(settings, token)
    form = (
        "<p>Stop all emails about our partner program to this address?</p>"
        f'<form method="post" action="/outreach/unsubscribe/{escape(token)}">'
        '<button type="submit">Unsubscribe</button></form>'
    )
    return HTMLResponse(_PAGE.format(title="Unsubscribe", body=form))


@outreach_router.post("/{token}", response_class=HTMLResponse)
async def unsubscribe(
    token: str, settings: SettingsDep, engine: EngineDep, client: TemporalDep
) -> HTMLResponse:
    """Suppress the address for good and stop its running sequences (also the one-click POST target)."""
    prospect_id, _campaign_id = _read_token(settings, token)
    if await unsubscribe_prospect(engine, client, prospect_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "prospect not found")
    body = "<p>You will get no more emails about our partner program.</p>"
    return HTMLResponse(_PAGE.format(title="You are unsubscribed", body=body))


def _read_token(settings: Settings, token: str) -> tuple[int, int]:
    try:
        return read_outreach_token(settings.portal_signing_key, token)
    except ValueError as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this unsubscribe link is not valid") from exc


# --- operations shared by the API, the CLI and the signup webhook ----------------------------------


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
            raise HTTPException(status.HTTP_404_NOT_FOUND, "campaign not found")
        progress = store.progress(session, campaign_id)
    steps = [StepIn.model_construct(**vars(step)) for step in store.campaign_steps(campaign)]
    return CampaignView(
        **campaign.model_dump(exclude={"steps"}),
        steps=steps,
        workflow_id=campaign_workflow_id(campaign_id),
        progress=progress,
    )
