"""Start-up warns when the public URL that emails link to is not https on a real host."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from conftest import make_settings
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from partnerflow import worker
from partnerflow.api.main import create_app
from partnerflow.config import warn_insecure_public_url

WARNING = "PARTNERFLOW_PUBLIC_URL"


def warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.WARNING and WARNING in r.getMessage()]


@pytest.mark.parametrize(
    "url",
    ["http://partners.example.com", "http://partners.example.com:8000/app/", "HTTP://Partners.Example.com",
     "http://10.0.0.5:8000", "ftp://partners.example.com"],
)  # fmt: skip
def test_plain_http_on_a_real_host_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture, url: str) -> None:
    with caplog.at_level(logging.WARNING, logger="partnerflow.config"):
        assert warn_insecure_public_url(make_settings(tmp_path, public_url=url)) is True

    [record] = warnings(caplog)
    assert url in record.getMessage() and "https" in record.getMessage()


@pytest.mark.parametrize(
    "url",
    ["https://partners.example.com", "http://localhost:8000", "http://127.0.0.1:8000/", "http://[::1]:8000",
     "http://LOCALHOST"],
)  # fmt: skip
def test_https_or_this_machine_is_quiet(tmp_path: Path, caplog: pytest.LogCaptureFixture, url: str) -> None:
    with caplog.at_level(logging.WARNING, logger="partnerflow.config"):
        assert warn_insecure_public_url(make_settings(tmp_path, public_url=url)) is False

    assert warnings(caplog) == []


async def test_api_start_up_warns(tmp_path: Path, engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    settings = make_settings(tmp_path, public_url="http://partners.example.com")
    app = create_app(settings, engine, temporal=object())  # type: ignore[arg-type]  # no Temporal needed

    with caplog.at_level(logging.WARNING, logger="partnerflow.config"):
        async with app.router.lifespan_context(app):
            pass

    assert len(warnings(caplog)) == 1


async def test_worker_start_up_warns(
    tmp_path: Path, engine: Engine, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Started(Exception):
        pass

    async def stop_here(*_: Any) -> None:
        raise Started  # the next start-up step talks to Temporal; the warning came before it

    monkeypatch.setattr(worker, "ensure_digest_schedule", stop_here)
    settings = make_settings(tmp_path, public_url="http://partners.example.com")

    with caplog.at_level(logging.WARNING, logger="partnerflow.config"), pytest.raises(Started):
        await worker.run_worker(object(), settings, engine, asyncio.Event())  # type: ignore[arg-type]

    assert len(warnings(caplog)) == 1


@pytest.mark.parametrize("passthrough", [True, False])
async def test_worker_takes_its_tuning_from_the_settings(
    dev_env: WorkflowEnvironment, tmp_path: Path, engine: Engine, passthrough: bool
) -> None:
    settings = make_settings(
        tmp_path,
        worker_max_cached_workflows=7,
        worker_max_concurrent_workflow_tasks=3,
        worker_sandbox_passthrough=passthrough,
    )
    with ThreadPoolExecutor(max_workers=2) as executor:
        config = worker.build_worker(dev_env.client, settings, engine, executor).config()

    assert (config["max_cached_workflows"], config["max_concurrent_workflow_tasks"]) == (7, 3)
    runner = config["workflow_runner"]
    assert isinstance(runner, SandboxedWorkflowRunner)
    assert ("partnerflow" in runner.restrictions.passthrough_modules) is passthrough
