"""Migrations (manager token): upload another platform's partner export, follow its phases."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, Response, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import Engine

from partnerflow.api.bounds import RowId
from partnerflow.api.deps import MANAGER_AUTH, EngineDep, ManagerDep, SettingsDep, get_temporal
from partnerflow.api.errors import responses, unprocessable
from partnerflow.domain.kpis import Segment
from partnerflow.domain.migration import MigrationRow, Source, migration_workflow_id, parse_pause
from partnerflow.domain.migration_presets import ExportMapping, parse_mapping
from partnerflow.services.migration import preview_import, run_import, start_migration_workflow
from partnerflow.store import migration_import as store
from partnerflow.store.db import session_scope
from partnerflow.store.migration_plan import ImportPlan
from partnerflow.store.models import MigrationRun

router = APIRouter(prefix="/migrations", tags=["migrations"], responses=MANAGER_AUTH)
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # ~300,000 export rows


class RowOut(BaseModel):
    line: int
    email: str
    status: str
    reason: str = ""
    partner_id: str | None = None
    segment: str | None = None


class ColumnOut(BaseModel):
    column: str
    field: str | None  # None: not imported
    detected_by: str | None  # map | preset | header | values
    note: str = ""


class SampleRowOut(BaseModel):
    line: int
    email: str
    name: str
    company: str | None
    tier: str | None
    revenue: float
    conversions: int
    tracking_code: str | None
    other_codes: list[str]
    joined_at: datetime | None
    locale: str
    segment: str | None


class MigrationPreview(BaseModel):
    """What the import would do; nothing is written."""

    dry_run: bool = True
    program: str
    source: str
    imported_before: int | None  # the run this same file already made in this program
    counts: dict[str, int]
    columns: list[ColumnOut]
    notes: list[str]
    sample: list[SampleRowOut]
    problems: list[RowOut]  # rows not imported as they are: duplicate, invalid, or with a note


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
    columns: list[ColumnOut] = []
    notes: list[str] = []


class MigrationStatus(BaseModel):
    run_id: int
    workflow_id: str
    program: str
    source: str
    status: str
    created_at: datetime
    phases: list[PhaseOut]


Upload = Annotated[UploadFile, File(description="the old platform's partner export (CSV)")]
SourceForm = Annotated[Source, Form()]
ProgramForm = Annotated[str, Form(min_length=1, max_length=64, pattern=r"^[\w.-]+$")]
MapForm = Annotated[list[str] | None, Form(alias="map", description="column=field, repeatable")]
SegmentForm = Annotated[str | None, Form(description="column holding top/middle/long_tail")]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=MigrationOut | MigrationPreview,
    responses={
        200: {"description": "this file was imported before: the existing run; or the dry run"},
        **responses(
            503,
            request_entity_too_large="the export is over 50 MB",
            unprocessable_entity="unmappable file, bad mapping or bad pause",
        ),
    },
)
async def start_migration(
    request: Request,
    response: Response,
    engine: EngineDep,
    settings: SettingsDep,
    _manager: ManagerDep,
    file: Upload,
    source: SourceForm = Source.GENERIC,
    program: ProgramForm = "default",
    pause: Annotated[str, Form(description="between phases: ISO 8601 (P7D) or seconds")] = "P7D",
    mapping: MapForm = None,
    segment_column: SegmentForm = None,
    dry_run: Annotated[bool, Query(description="only show what the import would do")] = False,
) -> MigrationOut | MigrationPreview:
    """Import the export (per-row report) and start its phased migration; the same file again is a no-op.

    With ``?dry_run=true``: the column mapping, sample rows and per-row problems; nothing is written.
    """
    if dry_run:
        try:
            parse_pause(pause)
        except ValueError as exc:
            raise unprocessable(str(exc), "body") from exc
        response.status_code = status.HTTP_200_OK
        return await _preview(engine, file, source, program, mapping, segment_column)
    client = get_temporal(request)  # before importing: a run is only stored when its workflow can start
    content = await read_upload(file)
    try:
        between = parse_pause(pause)
        columns_given = overrides(mapping, segment_column)
        report = await run_in_threadpool(run_import, engine, content, source, program, columns_given)
    except ValueError as exc:  # bad file, mapping or pause: nothing was stored
        raise unprocessable(str(exc), "body") from exc
    await start_migration_workflow(client, settings, report, between)
    if not report.created:
        response.status_code = status.HTTP_200_OK
    columns, notes = _mapping_out(report.mapping)
    return MigrationOut(
        run_id=report.run_id,
        workflow_id=migration_workflow_id(report.run_id, report.file_sha256),
        created=report.created,
        program=report.program,
        source=report.source,
        counts=report.counts,
        rows=[RowOut(**row.__dict__) for row in report.rows],
        columns=columns,
        notes=notes,
    )


@router.post(
    "/preview",
    response_model=MigrationPreview,
    responses=responses(
        request_entity_too_large="the export is over 50 MB",
        unprocessable_entity="unmappable file or bad mapping",
    ),
)
async def preview_migration(
    engine: EngineDep,
    _manager: ManagerDep,
    file: Upload,
    source: SourceForm = Source.GENERIC,
    program: ProgramForm = "default",
    mapping: MapForm = None,
    segment_column: SegmentForm = None,
) -> MigrationPreview:
    """The dry run: which field each column feeds and why, sample rows, per-row problems; writes nothing."""
    return await _preview(engine, file, source, program, mapping, segment_column)


async def _preview(
    engine: Engine,
    file: UploadFile,
    source: Source,
    program: str,
    mapping: list[str] | None,
    segment_column: str | None,
) -> MigrationPreview:
    content = await read_upload(file)
    try:
        plan = await run_in_threadpool(
            preview_import, engine, content, source, program, overrides(mapping, segment_column)
        )
    except ValueError as exc:
        raise unprocessable(str(exc), "body") from exc
    return describe_plan(plan, program, source)


def describe_plan(plan: ImportPlan, program: str, source: Source) -> MigrationPreview:
    """The dry run's answer (also shown by the dashboard before a migration starts)."""
    rows = plan.all_reports()
    columns, notes = _mapping_out(plan.mapping)
    return MigrationPreview(
        program=program,
        source=source.value,
        imported_before=plan.run_id,
        counts={s: sum(1 for r in rows if r.status == s) for s in ("imported", "duplicate", "invalid")},
        columns=columns,
        notes=notes,
        sample=[_sample(row, plan.placed.get(row.line)) for row in plan.sample],
        problems=[RowOut(**row.__dict__) for row in rows if row.status != "imported" or row.reason],
    )


def _sample(row: MigrationRow, segment: Segment | None) -> SampleRowOut:
    fields = {name: value for name, value in row.__dict__.items() if name in SampleRowOut.model_fields}
    return SampleRowOut(**fields | {"segment": segment.value if segment else None})


async def read_upload(file: UploadFile) -> bytes:
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "the export is over 50 MB")
    return content


def overrides(mapping: list[str] | None, segment_column: str | None) -> dict[str, str]:
    try:
        return parse_mapping(list(mapping or []) + ([f"{segment_column}=segment"] if segment_column else []))
    except ValueError as exc:
        raise unprocessable(str(exc), "body") from exc


def _mapping_out(mapping: ExportMapping | None) -> tuple[list[ColumnOut], list[str]]:
    if mapping is None:
        return [], []
    return [ColumnOut(**match.__dict__) for match in mapping.matches], list(mapping.notes)


@router.get("/{run_id}", response_model=MigrationStatus, responses=responses(422, not_found="unknown run"))
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
