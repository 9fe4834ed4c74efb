"""Recruitment: prospect import, outreach campaigns, and the prospects' one-click unsubscribe."""

from __future__ import annotations

import logging
from html import escape
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine
from starlette.datastructures import UploadFile

from partnerflow.api.bounds import RowId
from partnerflow.api.deps import EngineDep, ManagerDep, SettingsDep, TemporalDep
from partnerflow.api.errors import unprocessable
from partnerflow.api.routes.unsubscribe import _PAGE
from partnerflow.config import Settings
from partnerflow.domain.prospects import (
    CsvFormatError,
    ImportReport,
    decode_csv,
    parse_mapping,
    read_outreach_token,
)
from partnerflow.services.campaigns import (
    CampaignIn,
    CampaignNotFound,
    CampaignRefused,
    CampaignView,
    campaign_view,
    start_campaign,
)
from partnerflow.services.recruitment import unsubscribe_prospect
from partnerflow.store import prospects as store
from partnerflow.store.db import session_scope

log = logging.getLogger(__name__)
router = APIRouter(prefix="/prospects", tags=["recruitment"])
campaigns_router = APIRouter(prefix="/campaigns", tags=["recruitment"])
outreach_router = APIRouter(prefix="/outreach/unsubscribe", tags=["recruitment"])
routers = (router, campaigns_router, outreach_router)
MAX_UPLOAD = 20 * 1024 * 1024
PROGRAM = Query("default", pattern=r"^[\w.-]+$", max_length=64)


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
        raise unprocessable(str(exc), "body") from exc


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
            raise unprocessable("send the CSV in a form field named file", "body", "file")
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
        raise unprocessable(str(exc), "body") from exc


@campaigns_router.post("", status_code=status.HTTP_201_CREATED, response_model=CampaignView)
async def create_campaign(
    body: CampaignIn, engine: EngineDep, client: TemporalDep, settings: SettingsDep, _manager: ManagerDep
) -> CampaignView:
    """Create an outreach campaign and start its workflow."""
    try:
        campaign_id = await start_campaign(engine, client, settings, body)
    except CampaignRefused as exc:
        raise unprocessable(str(exc), "body", "prospect_ids") from exc
    return await run_in_threadpool(campaign_view, engine, campaign_id)


@campaigns_router.get("/{campaign_id}", response_model=CampaignView)
def get_campaign(campaign_id: RowId, engine: EngineDep, _manager: ManagerDep) -> CampaignView:
    """A campaign and its progress, counted from the store."""
    try:
        return campaign_view(engine, campaign_id)
    except CampaignNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "campaign not found") from exc


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
