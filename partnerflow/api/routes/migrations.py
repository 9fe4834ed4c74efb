"""Migrations (manager token): upload another platform's partner export, follow its phases."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Response, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from partnerflow.api.bounds import RowId
from partnerflow.api.deps import EngineDep, ManagerDep, SettingsDep, TemporalDep
from partnerflow.api.errors import unprocessable
from partnerflow.domain.migration import (
    MappingError,
    Source,
    migration_workflow_id,
    parse_mapping,
    parse_pause,
)
from partnerflow.services.migration import run_import, start_migration_workflow
from partnerflow.store import migration_import as store
from partnerflow.store.db import session_scope
from partnerflow.store.models import MigrationRun

router = APIRouter(prefix="/migrations", tags=["migrations"])
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # ~300,000 export rows


class RowOut(BaseModel):
    line: int
    email: str
    status: str
    reason: str = ""
    partner_id: str | None = None
    segment: str | None = None


class PhaseOut(BaseModel):
    phase: int
    segment: str
    total: int
    started: int
    accepted: int


class MigrationOut(BaseModel):
    run_id: int
    workflow_id: str
    created: bool
    program: str
    source: str
    counts: dict[str, int]
    rows: list[RowOut]


class MigrationStatus(BaseModel):
    run_id: int
    workflow_id: str
    program: str
    source: str
    status: str
    created_at: datetime
    phases: list[PhaseOut]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=MigrationOut,
    responses={
        200: {"description": "this file was imported before: the existing run"},
        413: {"description": "file too large"},
        422: {"description": "unmappable file or bad pause"},
    },
)
async def start_migration(
    response: Response,
    engine: EngineDep,
    client: TemporalDep,
    settings: SettingsDep,
    _manager: ManagerDep,
    file: Annotated[UploadFile, File(description="the old platform's partner export (CSV)")],
    source: Annotated[Source, Form()] = Source.GENERIC,
    program: Annotated[str, Form(min_length=1, max_length=64, pattern=r"^[\w.-]+$")] = "default",
    pause: Annotated[str, Form(description="between phases: ISO 8601 (P7D) or seconds")] = "P7D",
    mapping: Annotated[list[str] | None, Form(alias="map", description="column=field, repeatable")] = None,
    segment_column: Annotated[str | None, Form(description="column holding top/middle/long_tail")] = None,
) -> MigrationOut:
    """Import the export (per-row report) and start its phased migration; the same file again is a no-op."""
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "the export is over 50 MB")
    try:
        between = parse_pause(pause)
        overrides = parse_mapping(
            list(mapping or []) + ([f"{segment_column}=segment"] if segment_column else [])
        )
        report = await run_in_threadpool(run_import, engine, content, source, program, overrides)
    except (MappingError, ValueError) as exc:  # bad file, mapping or pause: nothing was stored
        raise unprocessable(str(exc), "body") from exc
    await start_migration_workflow(client, settings, report, between)
    if not report.created:
        response.status_code = status.HTTP_200_OK
    return MigrationOut(
        run_id=report.run_id,
        workflow_id=migration_workflow_id(report.run_id, report.file_sha256),
        created=report.created,
        program=report.program,
        source=report.source,
        counts=report.counts,
        rows=[RowOut(**row.__dict__) for row in report.rows],
    )


@router.get("/{run_id}", response_model=MigrationStatus, responses={404: {"description": "unknown run"}})
def migration_status(run_id: RowId, engine: EngineDep, _manager: ManagerDep) -> MigrationStatus:
    """Progress per phase from the store: partners, lifecycles started, terms accepted."""
    with session_scope(engine) as session:
        run = session.get(MigrationRun, run_id)
        if run is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"migration run {run_id} not found")
        phases = store.progress(session, run_id)
    return MigrationStatus(
        run_id=run_id,
        workflow_id=migration_workflow_id(run_id, run.file_sha256),
        program=run.program,
        source=run.source,
        status=run.status,
        created_at=run.created_at,
        phases=[PhaseOut(**phase.__dict__) for phase in phases],
    )
