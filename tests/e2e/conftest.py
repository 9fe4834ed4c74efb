"""Fixtures of the browser tests (tests/e2e/test_browser*.py): `partnerflow dev` once per module,
and a fresh headless Chromium per test. Their helpers are in tests/support/browser.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from browser import Dev, chromium, dev_stack
from playwright.async_api import Browser


@pytest.fixture(scope="module")
def dev(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dev]:
    """`partnerflow dev` for the module's tests: its API client and dev secrets."""
    with dev_stack(tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]) / "data") as stack:
        yield stack


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as browser:
        yield browser
