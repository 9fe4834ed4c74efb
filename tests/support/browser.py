"""Helpers for browser tests: Debian's Chromium under Playwright, `partnerflow dev`, and what a
manager does before and around a click (sign in, sign up a partner, poll, screenshots checked
with axe-core). Their fixtures (``dev``, ``browser``) are in tests/e2e/conftest.py.

A browser test module calls ``skip_without_chromium()`` first, so a machine without Chromium
skips it (CI, which installs Chromium, fails instead).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from a11y import assert_accessible
from devproc import free_ports, partnerflow_dev
from playwright.async_api import Browser, Locator, Page, async_playwright, expect

from partnerflow.rendering import signing

T = TypeVar("T")
Dev = tuple[httpx.Client, dict[str, str]]  # the dev stack's API client, and its dev secrets
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


async def until(check: Callable[[], T], what: str, timeout: float = 30, interval: float = 0.3) -> T:
    """Poll ``check`` until it returns something truthy (returned), or fail saying ``what``."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, what
        await asyncio.sleep(interval)
    return result


async def shot(page: Page, name: str) -> None:
    """Check the page with axe-core (tests/support/a11y.py), then take a full-page screenshot into
    test-artifacts/ (kept by CI) and docs/screenshots/."""
    await assert_accessible(page, context=name)
    for folder in SHOTS:
        folder.mkdir(exist_ok=True)
        await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


async def manager_page(browser: Browser, dev: Dev) -> Page:
    """A page signed in with the dev manager token (the manager is called "dev")."""
    http, secrets = dev
    page = await browser.new_page(base_url=str(http.base_url))
    await page.goto("/dashboard/login")
    await page.get_by_label("Manager token").fill(secrets["manager_token"])
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#manager-name")).to_be_visible()
    return page


async def watched_page(browser: Browser, base_url: str) -> tuple[Page, list[str]]:
    """A page, and the browser's complaints on it: console errors (CSP violations among them)."""
    page = await browser.new_page(base_url=base_url)
    complaints: list[str] = []
    page.on("console", lambda message: message.type == "error" and complaints.append(message.text))
    page.on("pageerror", lambda error: complaints.append(str(error)))
    await page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e =>"
        " console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    return page, complaints


def csp_violations(complaints: list[str]) -> list[str]:
    return [c for c in complaints if "Content Security Policy" in c or "CSP violation" in c]


async def focused_id(page: Page) -> str:
    return str(await page.evaluate("document.activeElement && document.activeElement.id"))


async def apply(page: Page, program: str, email: str, name: str) -> None:
    """Apply on the program's hosted page in English, as a visitor does, up to the thank-you page."""
    await page.goto(f"/apply/{program}?lang=en")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Your name").fill(name)
    await page.get_by_role("button", name="Send my application").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for applying")


def set_up_program(dev: Dev, program: str, name: str, landing_url: str = "https://shop.example/") -> None:
    response = dev[0].put(
        f"/programs/{program}", json={"name": name, "landing_url": landing_url}, headers=auth(dev)
    )
    assert response.status_code == 200, response.text


def auth(dev: Dev) -> dict[str, str]:
    return {"Authorization": f"Bearer {dev[1]['manager_token']}"}


def partner(dev: Dev, partner_id: str) -> dict[str, Any]:
    return dict(dev[0].get(f"/partners/{partner_id}", headers=auth(dev)).json())


async def onboarding_partner(dev: Dev, email: str, name: str, program: str = "default") -> str:
    """Signed up and approved through the API; returned once their workflow is onboarding."""
    http, secrets = dev
    partner_id = signup(http, secrets, email, name, program)
    decision = http.post(f"/partners/{partner_id}/decision", json={"decision": "approve"}, headers=auth(dev))
    assert decision.status_code == 200, decision.text
    await until(lambda: partner(dev, partner_id)["stage"] == "onboarding", f"{name} is not onboarding")
    return partner_id


def stage_of(dev: Dev, partner_id: str) -> str:
    return str(partner(dev, partner_id)["stage"])


async def partner_id_of(dev: Dev, program: str, email: str, timeout: float = 30) -> str:
    """The id of the partner ``email`` became in ``program`` (e.g. after applying on the hosted page)."""

    def found() -> str:
        items = dev[0].get("/partners", params={"program": program}, headers=auth(dev)).json()["items"]
        return next((str(p["partner_id"]) for p in items if p["email"] == email), "")

    return await until(found, f"no partner {email} in {program}", timeout)


def outbox(dev: Dev, email: str, template: str) -> list[dict[str, Any]]:
    items = dev[0].get("/outbox", params={"to": email}, headers=auth(dev)).json()["items"]
    return [m for m in items if m["template"] == template]


async def portal_path(dev: Dev, email: str, timeout: float = 30) -> str:
    """The portal link's path from the partner's welcome email, once it is in the outbox."""
    welcome = await until(lambda: outbox(dev, email, "welcome"), f"no welcome email to {email}", timeout)
    found = re.search(r"https?://[^/\s]+(/portal/\S+)", welcome[0]["body_text"])
    assert found, welcome[0]["body_text"]
    return found.group(1)


async def reload_until(
    page: Page, locator: Locator, text: str | re.Pattern[str], timeout: float = 30
) -> None:
    """Reload (pages do not refresh by themselves) until ``locator`` shows ``text``."""

    async def shows() -> bool:
        await page.reload()
        return bool(await locator.count()) and bool(re.search(text, await locator.first.inner_text()))

    deadline = time.monotonic() + timeout
    while not await shows():
        assert time.monotonic() < deadline, f"{locator} never showed {text!r}"
        await page.wait_for_timeout(300)


def flash(page: Page) -> Locator:
    return page.locator("#flash")
