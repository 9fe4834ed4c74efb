"""Migration use cases shared by the API and the CLI: import a platform export, start its run."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from partnerflow.config import Settings
from partnerflow.domain.migration import MigrationInput, MigrationProgress, Source, migration_workflow_id
from partnerflow.store import migration_import as store
from partnerflow.store.db import session_scope
from partnerflow.store.migration_plan import ImportPlan
from partnerflow.workflows.migration import MigrationWorkflow


def run_import(
    engine: Engine, content: bytes, source: Source, program: str, overrides: Mapping[str, str]
) -> store.ImportReport:
    with session_scope(engine) as session:
        return store.import_csv(session, content, source, program, overrides)


def preview_import(
    engine: Engine, content: bytes, source: Source, program: str, overrides: Mapping[str, str]
) -> ImportPlan:
    """The dry run: what the import would do. Its session is never committed, so nothing is written."""
    with Session(engine, expire_on_commit=False) as session:
        return store.preview_csv(session, content, source, program, overrides)


async def start_migration_workflow(
    client: Client, settings: Settings, report: store.ImportReport, pause: timedelta
) -> bool:
    """Start the run's workflow; False when it already runs or ran (business-key id)."""
    try:
        await client.start_workflow(
            MigrationWorkflow.run,
            MigrationInput(run_id=report.run_id, program=report.program, pause=pause),
            id=migration_workflow_id(report.run_id, report.file_sha256),
            task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
        return True
    except WorkflowAlreadyStartedError:
        return False


async def live_progress(client: Client, workflow_id: str) -> MigrationProgress | None:
    """The run's progress as its workflow tells it; None if not started or no worker answers."""
    try:
        handle = client.get_workflow_handle(workflow_id)
        return await handle.query(MigrationWorkflow.progress)
    except Exception:  # the store's numbers still stand
        return None
