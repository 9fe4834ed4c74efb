"""Helpers for browser tests: Debian's Chromium under Playwright, `partnerflow dev`, and what a
manager does before and around a click (sign in, sign up a partner, poll, screenshots).

A browser test module calls ``skip_without_chromium()`` first, so a machine without Chromium
skips it (CI, which installs Chromium, fails instead).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import pytest
from devproc import free_ports, partnerflow_dev
from playwright.async_api import Browser, Page, async_playwright

from partnerflow.rendering import signing

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
SHOTS = (ROOT / "test-artifacts", ROOT / "docs" / "screenshots")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def skip_without_chromium() -> None:
    """Skip the calling test module when Chromium is missing (fail under CI, which installs it)."""
    if not Path(CHROMIUM).exists():
        reason = f"Chromium not found at {CHROMIUM}: `apt-get install chromium` (.ci/run does it)"
        if os.environ.get("CI"):
            raise RuntimeError(reason + "; CI requires it")
        pytest.skip(reason, allow_module_level=True)


@contextmanager
def dev_stack(
    data_dir: Path, env: dict[str, str] | None = None
) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    """`partnerflow dev` in ``data_dir``: an HTTP client on its API, and its dev secrets."""
    with partnerflow_dev(data_dir, free_ports(3), env) as (_process, http):
        yield http, json.loads((data_dir / "dev-secrets.json").read_text())


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright (no browser download)."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


def signup(
    http: httpx.Client, secrets: dict[str, str], email: str, name: str, program: str = "default"
) -> str:
    """A signed signup webhook, as the program's site sends it; the new partner's id."""
    body = json.dumps(
        {"email": email, "name": name, "company": "Lovelace Media", "program": program}
    ).encode()
    response = http.post("/webhooks/partner-signup", content=body,
                         headers={"Partnerflow-Signature": signing.sign(secrets["webhook_secret"], body)})  # fmt: skip
    assert response.status_code == 202, response.text
    return str(response.json()["partner_id"])


async def until(check: Callable[[], object], what: str, timeout: float = 30, interval: float = 0.3) -> object:
    """Poll ``check`` until it returns something truthy (returned), or fail saying ``what``."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, what
        await asyncio.sleep(interval)
    return result


async def shot(page: Page, name: str) -> None:
    """A full-page screenshot into test-artifacts/ (kept by CI) and docs/screenshots/."""
    for folder in SHOTS:
        folder.mkdir(exist_ok=True)
        await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
