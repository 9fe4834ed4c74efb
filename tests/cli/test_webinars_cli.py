"""`partnerflow webinars reschedule|cancel` against the dev server: same rules as the API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import Result
from service import Service, running_service
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from partnerflow.cli.webinars import webinars_app
from partnerflow.store.db import session_scope
from partnerflow.store.models import Webinar


@pytest.fixture
async def service(
    dev_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Service]:
    async with running_service(dev_env, tmp_path) as running:
        monkeypatch.setenv("PARTNERFLOW_DATA_DIR", str(running.settings.data_dir))
        monkeypatch.setenv("PARTNERFLOW_TASK_QUEUE", running.settings.task_queue)
        monkeypatch.setenv("PARTNERFLOW_TEMPORAL_ADDRESS", dev_env.client.service_client.config.target_host)
        yield running


async def invoke(*args: str) -> Result:
    with ThreadPoolExecutor(1) as pool:  # the CLI runs its own event loop
        return await asyncio.get_running_loop().run_in_executor(
            pool, lambda: CliRunner().invoke(webinars_app, list(args))
        )


async def test_reschedule_then_cancel_then_refuse(service: Service) -> None:
    with session_scope(service.engine) as session:
        webinar = Webinar(title="Kickoff", starts_at=datetime.now(UTC) + timedelta(days=2),
                          join_url="https://meet.example/k", capacity=5)  # fmt: skip
        session.add(webinar)
        session.flush()
        wid = str(webinar.id)
    new_start = (datetime.now(UTC) + timedelta(days=3)).isoformat()

    moved = await invoke("reschedule", wid, "--starts-at", new_start, "--duration-minutes", "90")
    same = await invoke("reschedule", wid, "--duration-minutes", "90")
    invalid = await invoke("reschedule", wid)
    cancelled = await invoke("cancel", wid, "--reason", "trainer ill")
    again = await invoke("cancel", wid)
    unknown = await invoke("reschedule", "999", "--title", "X")

    assert moved.exit_code == 0, moved.output
    assert f"webinar {wid} changed (starts_at, duration_minutes), sequence 1; 0 invited" in moved.output
    assert same.exit_code == 0 and "nothing changed" in same.output
    assert invalid.exit_code != 0 and "at least one" in invalid.output
    assert cancelled.exit_code == 0 and f"webinar {wid} cancelled" in cancelled.output
    assert again.exit_code == 1 and "was cancelled" in again.output
    assert unknown.exit_code == 1 and "not found" in unknown.output
    with session_scope(service.engine) as session:
        stored = session.get(Webinar, int(wid))
        assert stored is not None
        assert (stored.sequence, stored.duration_minutes, stored.cancel_reason) == (2, 90, "trainer ill")
