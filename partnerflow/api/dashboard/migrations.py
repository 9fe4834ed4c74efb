"""Migrations: upload an export, see its dry run (columns, sample, problems), start it, follow its phases.

The file is kept (``store.uploads``, a day, only for the manager who uploaded it) between the
preview and the start, so the start imports exactly what the preview showed.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import Engine
from sqlmodel import col, select
from temporalio.service import RPCError

from partnerflow.api.bounds import RowId
from partnerflow.api.dashboard import auth, forms
from partnerflow.api.dashboard.views import not_found, render
from partnerflow.api.deps import EngineDep, SettingsDep
from partnerflow.api.routes import migrations as api
from partnerflow.domain.migration import Source, migration_workflow_id, parse_pause
from partnerflow.services.migration import (
    live_progress,
    preview_import,
    run_import,
    start_migration_workflow,
)
from partnerflow.store import migration_import
from partnerflow.store import uploads as staged
from partnerflow.store.db import session_scope
from partnerflow.store.models import MigrationRun

log = logging.getLogger(__name__)
router = APIRouter()
BASE = f"{auth.PATH}/migrations"
PURPOSE = "migration"
SOURCES = [source.value for source in Source]
PROBLEMS_SHOWN = 50


@router.get("/migrations")
def migrations(request: Request, session: auth.SessionDep, engine: EngineDep) -> Response:
    """Every run with its phases, and the upload form."""
    return _list(request, session, engine)


def _list(
    request: Request,
    session: auth.DashboardSession,
    engine: Engine,
    form: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    with session_scope(engine) as db:
        runs = list(db.exec(select(MigrationRun).order_by(col(MigrationRun.id).desc()).limit(50)))
        phases = {run.id: migration_import.progress(db, run.id or 0) for run in runs}
    values = form or {
        "source": "generic",
        "program": "default",
        "pause": "P7D",
        "map": "",
        "segment_column": "",
    }
    return render(
        request,
        "migrations",
        session,
        active="migrations",
        status_code=status_code,
        runs=runs,
        phases=phases,
        sources=SOURCES,
        form=values,
        error=error,
    )


@router.post("/migrations/preview")
async def preview(
    request: Request,
    session: auth.CsrfSessionDep,
    engine: EngineDep,
    file: Annotated[UploadFile, File()],
    source: Annotated[str, Form()] = "generic",
    program: Annotated[str, Form()] = "default",
    pause: Annotated[str, Form()] = "P7D",
    mapping: Annotated[str, Form(alias="map")] = "",
    segment_column: Annotated[str, Form()] = "",
) -> Response:
    """The dry run of an uploaded export: nothing is imported until the manager starts it."""
    form = {
        "source": source,
        "program": program,
        "pause": pause,
        "map": mapping,
        "segment_column": segment_column,
    }
    try:
        chosen, columns = _options(source, program, pause, mapping, segment_column)
        content = await api.read_upload(file)
        plan = await run_in_threadpool(preview_import, engine, content, chosen, program, columns)
    except (ValueError, HTTPException) as exc:
        return _list(request, session, engine, form, _why(exc), 422)
    upload = await run_in_threadpool(_stage, engine, content, file.filename or "", session.manager)
    described = api.describe_plan(plan, program, chosen)
    return render(
        request,
        "migration_preview",
        session,
        active="migrations",
        preview=described,
        problems=described.problems[:PROBLEMS_SHOWN],
        upload_id=upload,
        form=form,
        filename=file.filename or "export.csv",
    )


@router.post("/migrations/start")
async def start(
    request: Request,
    session: auth.CsrfSessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    upload_id: Annotated[str, Form()] = "",
    source: Annotated[str, Form()] = "generic",
    program: Annotated[str, Form()] = "default",
    pause: Annotated[str, Form()] = "P7D",
    mapping: Annotated[str, Form(alias="map")] = "",
    segment_column: Annotated[str, Form()] = "",
) -> Response:
    """Import the previewed file and start its phased migration (the same file again changes nothing)."""
    client = forms.temporal(request)
    if client is None:
        return forms.redirect(settings, BASE, "error", forms.NO_TEMPORAL)
    content = await run_in_threadpool(_staged, engine, upload_id, session.manager)
    if content is None:
        return forms.redirect(
            settings, BASE, "error", "That upload is gone (kept a day): upload the file again."
        )
    try:
        chosen, columns = _options(source, program, pause, mapping, segment_column)
        report = await run_in_threadpool(run_import, engine, content, chosen, program, columns)
    except (ValueError, HTTPException) as exc:
        return forms.redirect(settings, BASE, "error", f"Nothing was imported: {_why(exc)}")
    try:
        started = await start_migration_workflow(client, settings, report, parse_pause(pause))
    except RPCError as exc:  # stored; the same upload started again starts it (the import is idempotent)
        log.warning("migration run %s stored but not started: %s", report.run_id, exc)
        return forms.redirect(settings, BASE, "error", forms.RETRY)
    await run_in_threadpool(_discard, engine, upload_id)
    counts = ", ".join(f"{n} {status}" for status, n in report.counts.items())
    if report.created or started:
        message = f"Migration {report.run_id} started: {counts}. Top partners first."
    else:
        message = f"This file was imported before (run {report.run_id}); nothing new was started."
    return forms.redirect(settings, f"{BASE}/{report.run_id}", "success", message)


@router.get("/migrations/{run_id}")
async def migration_page(
    run_id: RowId, request: Request, session: auth.SessionDep, engine: EngineDep
) -> Response:
    """A run's phases: partners, lifecycles started, terms accepted; and what its workflow does now."""
    found = await run_in_threadpool(_run, engine, run_id)
    if found is None:
        return not_found(request, session, f"Migration run {run_id}")
    run, phases = found
    workflow_id = migration_workflow_id(run_id, run.file_sha256)
    client = forms.temporal(request)
    live = await live_progress(client, workflow_id) if client is not None else None
    return render(
        request,
        "migration",
        session,
        active="migrations",
        run=run,
        phases=phases,
        live=live,
        workflow_id=workflow_id,
    )


def _options(
    source: str, program: str, pause: str, mapping: str, segment_column: str
) -> tuple[Source, dict[str, str]]:
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    if not program.strip() or len(program) > 64 or not all(c.isalnum() or c in "_.-" for c in program):
        raise ValueError("the program id takes letters, digits, '_', '.' and '-' (up to 64)")
    parse_pause(pause)
    pairs = [line for line in (part.strip() for part in mapping.splitlines()) if line]
    return Source(source), api.overrides(pairs, segment_column.strip() or None)


def _why(exc: Exception) -> str:
    detail: Any = exc.detail if isinstance(exc, HTTPException) else str(exc)
    return str(detail)


def _stage(engine: Engine, content: bytes, filename: str, manager: str) -> str:
    with session_scope(engine) as db:
        return staged.stage(db, PURPOSE, content, filename, manager).id


def _staged(engine: Engine, upload_id: str, manager: str) -> bytes | None:
    with session_scope(engine) as db:
        upload = staged.find(db, upload_id, PURPOSE, manager)
        return bytes(upload.content) if upload else None


def _discard(engine: Engine, upload_id: str) -> None:
    with session_scope(engine) as db:
        staged.discard(db, upload_id)


def _run(engine: Engine, run_id: int) -> tuple[MigrationRun, list[Any]] | None:
    with session_scope(engine) as db:
        run = db.get(MigrationRun, run_id)
        return (run, migration_import.progress(db, run_id)) if run else None
