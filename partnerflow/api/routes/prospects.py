"""Recruitment: prospect import and the prospects' one-click unsubscribe (campaigns: ``campaigns.py``)."""

from __future__ import annotations

import logging
from html import escape
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Engine
from starlette.datastructures import UploadFile

from partnerflow.api.deps import MANAGER_AUTH, EngineDep, ManagerDep, SettingsDep, TemporalDep
from partnerflow.api.errors import responses, unprocessable
from partnerflow.api.routes.unsubscribe import _PAGE, HTML_PAGE
from partnerflow.config import Settings
from partnerflow.domain.prospect_import import CsvFormatError, ImportReport, decode_csv, parse_mapping
from partnerflow.domain.prospects import read_outreach_token
from partnerflow.services.recruitment import unsubscribe_prospect
from partnerflow.store import prospects as store
from partnerflow.store.db import session_scope

log = logging.getLogger(__name__)
router = APIRouter(prefix="/prospects", tags=["recruitment"], responses=MANAGER_AUTH)
outreach_router = APIRouter(prefix="/outreach/unsubscribe", tags=["recruitment"])
routers = (router, outreach_router)  # campaigns: routes/campaigns.py
MAX_UPLOAD = 20 * 1024 * 1024
_BAD_LINK = "not a valid unsubscribe link"
PROGRAM = Query("default", pattern=r"^[\w.-]+$", max_length=64)


@router.post(
    "/import",
    response_model=ImportReport,
    responses=responses(
        request_entity_too_large="CSV larger than 20 MB",
        unprocessable_entity="not a readable CSV, no file field, or a bad mapping",
    ),
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


@outreach_router.get(
    "/{token}", response_class=Response, responses={**HTML_PAGE, **responses(422, forbidden=_BAD_LINK)}
)
def confirm_unsubscribe(token: str, settings: SettingsDep) -> HTMLResponse:
    """A confirmation page (mail scanners follow GET links; only the POST unsubscribes)."""
    _read_token(settings, token)
    form = (
        "<p>Stop all emails about our partner program to this address?</p>"
        f'<form method="post" action="/outreach/unsubscribe/{escape(token)}">'
        '<button type="submit">Unsubscribe</button></form>'
    )
    return HTMLResponse(_PAGE.format(title="Unsubscribe", body=form))


@outreach_router.post(
    "/{token}",
    response_class=Response,
    responses={**HTML_PAGE, **responses(422, 503, forbidden=_BAD_LINK, not_found="the prospect is gone")},
)
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
