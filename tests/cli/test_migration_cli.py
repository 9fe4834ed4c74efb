"""`partnerflow migrate import/status` against the dev server: progress bars until done, then status."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from service import Service, running_service
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from partnerflow.cli.migration import migrate_app

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.fixture
async def service(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Service]:
    async with running_service(dev_env, tmp_path) as running:
        yield running


async def test_cli_import_shows_progress_until_done_and_status(
    service: Service, dev_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = service.settings
    monkeypatch.setenv("PARTNERFLOW_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PARTNERFLOW_TASK_QUEUE", settings.task_queue)
    monkeypatch.setenv("PARTNERFLOW_TEMPORAL_ADDRESS", dev_env.client.service_client.config.target_host)
    monkeypatch.setenv("PARTNERFLOW_PORTAL_SECRET", "portal-test-secret")
    fixture = str(FIXTURES / "migration_tapfiliate.csv")
    runner = CliRunner()
    with ThreadPoolExecutor(1) as pool:  # the CLI runs its own event loop
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(
            pool,
            lambda: runner.invoke(migrate_app, ["import", fixture, "--source", "tapfiliate", "--pause", "1"]),
        )
        status = await loop.run_in_executor(pool, lambda: runner.invoke(migrate_app, ["status", "1"]))

    assert result.exit_code == 0, result.output
    assert "run 1 (new): 5 imported, 0 duplicate, 2 invalid" in result.output
    assert "line 8 invalid: - (no email)" in result.output and "migration run 1 done" in result.output
    assert status.exit_code == 0, status.output
    assert "completed" in status.output and "long_tail" in status.output
