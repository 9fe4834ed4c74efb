"""`partnerflow migrate`: import another platform's partner export and follow the phased migration."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table
from sqlalchemy import Engine
from temporalio.client import Client, WorkflowExecutionStatus

from partnerflow.config import Settings
from partnerflow.domain.migration import (
    MigrationProgress,
    PhaseProgress,
    Source,
    migration_workflow_id,
    parse_pause,
)
from partnerflow.domain.migration_presets import parse_mapping
from partnerflow.services.migration import live_progress

if TYPE_CHECKING:
    from partnerflow.store.migration_plan import ImportPlan

migrate_app = typer.Typer(
    help="Bring an existing partner base over from another platform.", no_args_is_help=True
)
console = Console()
T = TypeVar("T")
POLL_SECONDS = 2.0
SHOWN_PROBLEMS = 50


@migrate_app.command("import")
def import_export(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The partner export (CSV).")],
    source: Annotated[Source, typer.Option(help="Which platform exported it (sets the column preset).")],
    program: Annotated[str, typer.Option(help="Program id.")] = "default",
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="column=field (email, name, company, tier, revenue, "
            "conversions, tracking_code, joined_at, locale, segment); repeatable.",
        ),
    ] = None,
    segment_column: Annotated[str | None, typer.Option(help="Column with top/middle/long_tail.")] = None,
    pause: Annotated[str, typer.Option(help="Pause between phases: ISO 8601 (P7D) or seconds.")] = "P7D",
    wait: Annotated[bool, typer.Option(help="Show progress until done (Ctrl-C stops watching).")] = True,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show the column mapping, sample rows and problems; write nothing."),
    ] = False,
) -> None:
    """Import the export (per-row report), start the phased migration and show its progress."""
    from partnerflow.services.migration import preview_import, run_import, start_migration_workflow

    try:
        between = parse_pause(pause)
        overrides = parse_mapping(
            list(mapping or []) + ([f"{segment_column}=segment"] if segment_column else [])
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    content = file.read_bytes()
    if dry_run:
        plan = _with_engine(lambda engine: preview_import(engine, content, source, program, overrides))
        _show_preview(file.name, plan)
        return

    async def work(engine: Engine, client: Client, settings: Settings) -> None:
        try:
            report = await asyncio.to_thread(run_import, engine, content, source, program, overrides)
        except ValueError as exc:  # the file cannot be read or mapped
            raise typer.BadParameter(str(exc)) from exc
        for note in report.mapping.notes if report.mapping else []:
            console.print(f"note: {note}", highlight=False)
        counts = ", ".join(f"{n} {status}" for status, n in report.counts.items())
        console.print(f"run {report.run_id} ({'new' if report.created else 'imported before'}): {counts}")
        problems = [row for row in report.rows if row.status != "imported"]
        for row in problems[:SHOWN_PROBLEMS]:
            console.print(
                f"  line {row.line} {row.status}: {row.email or '-'} ({row.reason})", highlight=False
            )
        if len(problems) > SHOWN_PROBLEMS:
            console.print(f"  ... and {len(problems) - SHOWN_PROBLEMS} more (GET /migrations lists them all)")
        started = await start_migration_workflow(client, settings, report, between)
        workflow_id = migration_workflow_id(report.run_id, report.file_sha256)
        console.print(f"workflow {workflow_id} {'started' if started else 'already runs'}")
        if wait:
            await _follow(engine, client, report.run_id)

    try:
        _with_services(work)
    except KeyboardInterrupt:
        console.print("stopped watching; the migration carries on in Temporal (`partnerflow migrate status`)")


@migrate_app.command("status")
def status(run_id: Annotated[int, typer.Argument(help="Migration run id.")]) -> None:
    """Progress per phase (store) and what the workflow is doing now."""

    async def work(engine: Engine, client: Client, settings: Settings) -> None:
        workflow_id, phases = await asyncio.to_thread(_store_progress, engine, run_id)
        live = await live_progress(client, workflow_id)
        table = Table(title=f"migration run {run_id}" + (f": {_describe(live)}" if live else ""))
        for column in ("phase", "segment", "partners", "started", "accepted terms"):
            table.add_column(column, justify="right" if column != "segment" else "left")
        for p in phases:
            table.add_row(str(p.phase), p.segment, str(p.total), str(p.started), str(p.accepted))
        console.print(table)

    _with_services(work)


async def _follow(engine: Engine, client: Client, run_id: int) -> None:
    """A bar per phase (started of total, terms accepted) until the workflow is done."""
    workflow_id, _ = await asyncio.to_thread(_store_progress, engine, run_id)
    handle = client.get_workflow_handle(workflow_id)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
    )
    with Progress(*columns, console=console) as bars:
        tasks: dict[int, TaskID] = {}
        said = ""
        while True:
            for p in (await asyncio.to_thread(_store_progress, engine, run_id))[1]:
                if p.phase not in tasks:
                    tasks[p.phase] = bars.add_task(
                        f"phase {p.phase} {p.segment}", total=p.total or 1, note=""
                    )
                bars.update(
                    tasks[p.phase], completed=p.started if p.total else 1, note=f"{p.accepted} accepted"
                )
            live = await live_progress(client, workflow_id)
            if live and _describe(live) != said:
                said = _describe(live)
                bars.console.print(f"[dim]{said}[/dim]")
            if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
                break
            await asyncio.sleep(POLL_SECONDS)
    console.print(f"migration run {run_id} done")


def _describe(live: MigrationProgress) -> str:
    until = f" until {live.next_step_at:%Y-%m-%d %H:%M} UTC" if live.next_step_at else ""
    return f"{live.status}{until} (phase {live.phase})"


def _store_progress(engine: Engine, run_id: int) -> tuple[str, list[PhaseProgress]]:
    """The run's workflow id and its progress per phase."""
    from partnerflow.store import migration_import as store
    from partnerflow.store.db import session_scope
    from partnerflow.store.models import MigrationRun

    with session_scope(engine) as session:
        run = session.get(MigrationRun, run_id)
        if run is None:
            raise typer.BadParameter(f"migration run {run_id} not found")
        return migration_workflow_id(run_id, run.file_sha256), store.progress(session, run_id)


def _show_preview(name: str, plan: ImportPlan) -> None:
    """The dry run: each column and the field it feeds, sample rows, then every row with a problem."""
    console.print(f"dry run of {name} ({plan.source.value} preset): nothing is written", highlight=False)
    columns = Table(title="columns")
    for heading in ("column", "field", "detected by", "note"):
        columns.add_column(heading)
    for match in plan.mapping.matches:
        columns.add_row(match.column, match.field or "-", match.detected_by or "-", match.note)
    console.print(columns)
    for note in plan.mapping.notes:
        console.print(f"note: {note}", highlight=False)
    sample = Table(title=f"first {len(plan.sample)} rows as they would be imported")
    for heading in ("line", "email", "name", "tier", "revenue", "old codes", "joined", "segment"):
        sample.add_column(heading)
    for row in plan.sample:
        codes = ", ".join(filter(None, [row.tracking_code, *row.other_codes]))
        segment = plan.placed[row.line].value if row.line in plan.placed else "-"
        joined = f"{row.joined_at:%Y-%m-%d}" if row.joined_at else "-"
        sample.add_row(str(row.line), row.email, row.name, row.tier or "-", f"{row.revenue:,.2f}",
                       codes or "-", joined, segment)  # fmt: skip
    console.print(sample)
    rows = plan.all_reports()
    counts = {
        status: sum(1 for r in rows if r.status == status) for status in ("imported", "duplicate", "invalid")
    }
    console.print("would import: " + ", ".join(f"{n} {status}" for status, n in counts.items()))
    problems = [report for report in rows if report.status != "imported" or report.reason]
    for report in problems[:SHOWN_PROBLEMS]:
        console.print(
            f"  line {report.line} {report.status}: {report.email or '-'} ({report.reason})", highlight=False
        )
    if len(problems) > SHOWN_PROBLEMS:
        console.print(
            f"  ... and {len(problems) - SHOWN_PROBLEMS} more (POST /migrations/preview lists them all)"
        )


def _with_engine(work: Callable[[Engine], T]) -> T:
    """Run ``work(engine)`` against the configured database (no Temporal needed)."""
    from partnerflow.store.db import make_engine

    engine = make_engine(Settings().effective_database_url)
    try:
        return work(engine)
    except ValueError as exc:  # the file cannot be read or mapped
        raise typer.BadParameter(str(exc)) from exc
    finally:
        engine.dispose()


def _with_services(work: Callable[[Engine, Client, Settings], Awaitable[T]]) -> T:
    """Run ``work(engine, client, settings)`` against the configured database and Temporal."""
    from partnerflow.services.temporal import connect
    from partnerflow.store.db import make_engine

    settings = Settings()

    async def main() -> Any:
        engine = make_engine(settings.effective_database_url)
        try:
            return await work(engine, await connect(settings), settings)
        finally:
            engine.dispose()

    return asyncio.run(main())
