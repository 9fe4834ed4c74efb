"""Fixtures of the dashboard's form tests: the real app with the dashboard on the dev server, and a
manager signed in to it (a module defining its own ``service`` takes precedence)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from dashboard_client import Browser, signed_in
from service import Service, running_service
from temporalio.testing import WorkflowEnvironment

from partnerflow.api.dashboard import router


@pytest.fixture
async def service(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Service]:
    async with running_service(dev_env, tmp_path, routers=[router]) as running:
        yield running


@pytest.fixture
async def alice(service: Service) -> AsyncIterator[Browser]:
    async with signed_in(service.http.base_url) as browser:
        yield browser
