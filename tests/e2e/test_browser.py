"""The dashboard and the partner portal in a real headless Chromium, against `partnerflow dev`.

Screenshots land in ``test-artifacts/`` (CI keeps them). Needs Debian's ``chromium`` (installed
by .ci/run) and Playwright's Python package (a dev dependency; no browser download).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from devproc import free_ports, partnerflow_dev

from partnerflow.rendering import signing

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

if not Path(CHROMIUM).exists():
    reason = f"Chromium not found at {CHROMIUM}: `apt-get install chromium` (.ci/run does it)"
    if os.environ.get("CI"):
        raise RuntimeError(reason + "; CI requires it")
    pytest.skip(reason, allow_module_level=True)

from playwright.async_api import Browser, Page, async_playwright, expect  # noqa: E402


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    data_dir = tmp_path_factory.mktemp("browser") / "data"
    with partnerflow_dev(data_dir, free_ports(3)) as (_process, http):
        yield http, json.loads((data_dir / "dev-secrets.json").read_text())


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


def signup(http: httpx.Client, secrets: dict[str, str], email: str, name: str) -> str:
    body = json.dumps({"email": email, "name": name, "company": "Lovelace Media"}).encode()
    response = http.post("/webhooks/partner-signup", content=body,
                         headers={"Partnerflow-Signature": signing.sign(secrets["webhook_secret"], body)})  # fmt: skip
    assert response.status_code == 202, response.text
    return str(response.json()["partner_id"])


def stage_of(http: httpx.Client, auth: dict[str, str], partner_id: str) -> str:
    return str(http.get(f"/partners/{partner_id}", headers=auth).json()["stage"])


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


async def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def test_manager_signs_in_and_approves_a_pending_partner(dev, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    http, secrets = dev
    auth = {"Authorization": f"Bearer {secrets['manager_token']}"}
    partner_id = signup(http, secrets, "ada.browser@example.com", "Ada Browser")
    page, complaints = await watched_page(browser, str(http.base_url))

    await page.goto("/dashboard")
    await expect(page.locator("form#login")).to_be_visible()  # every page needs a session
    await page.get_by_label("Manager token").fill(secrets["manager_token"])
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    await shot(page, "dashboard-pipeline")

    await page.goto("/dashboard/applications")
    row = page.get_by_role("row").filter(has_text="Ada Browser")
    await expect(row).to_be_visible()
    await shot(page, "dashboard-applications")
    await row.get_by_role("button", name="Approve").click()
    await expect(page.get_by_role("status").or_(page.locator(".flash"))).to_contain_text(
        re.compile("approv", re.I)
    )

    deadline = time.monotonic() + 20
    while stage_of(http, auth, partner_id) != "onboarding":
        assert time.monotonic() < deadline, "the approval did not reach the workflow"
        await asyncio.sleep(0.2)
    await page.goto(f"/dashboard/partners/{partner_id}")
    await expect(page.locator("main")).to_contain_text("onboarding")
    await shot(page, "dashboard-partner")
    await page.goto("/dashboard/programs/default")  # the funnel bars are SVG: no inline style
    await expect(page.locator("#funnel")).to_be_visible()
    assert csp_violations(complaints) == [], complaints


async def test_partner_accepts_terms_in_the_portal(dev, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    http, secrets = dev
    auth = {"Authorization": f"Bearer {secrets['manager_token']}"}
    published = http.post(
        "/programs/default/terms", json={"body_markdown": "## Partner terms\n\nBe **honest**."}, headers=auth
    )
    version = published.json()["version"]  # `partnerflow dev` may have published its demo terms first
    partner_id = signup(http, secrets, "grace.browser@example.com", "Grace Browser")
    assert (
        http.post(f"/partners/{partner_id}/decision", json={"decision": "approve"}, headers=auth).status_code
        == 200
    )

    deadline = time.monotonic() + 20
    while not (
        welcome := [
            m
            for m in http.get("/outbox", params={"to": "grace.browser@example.com"}, headers=auth).json()[
                "items"
            ]
            if m["template"] == "welcome"
        ]
    ):
        assert time.monotonic() < deadline, "no welcome email"
        await asyncio.sleep(0.2)
    portal_path = re.search(r"https?://[^/\s]+(/portal/\S+)", welcome[0]["body_text"]).group(1)  # type: ignore[union-attr]

    page, complaints = await watched_page(browser, str(http.base_url))
    await page.goto(portal_path)
    await expect(page.locator("main")).to_contain_text("Grace Browser")
    await expect(page.locator("main strong", has_text="honest")).to_be_visible()
    await shot(page, "portal-before")
    await page.get_by_role("button", name="I accept").click()
    await expect(page.locator("main")).to_contain_text(f"You accepted version {version}")
    await shot(page, "portal-after")

    deadline = time.monotonic() + 20
    while not http.get(f"/partners/{partner_id}", headers=auth).json()["checklist"]["terms_accepted"]:
        assert time.monotonic() < deadline, "the acceptance did not reach the workflow"
        await asyncio.sleep(0.2)

    # The tracking link comes next; /static/portal.js (no inline script under the CSP) shows its button.
    deadline = time.monotonic() + 20
    while not await page.locator("#tracking-url").count():
        assert time.monotonic() < deadline, "no tracking link on the portal"
        await asyncio.sleep(0.5)
        await page.reload()
    await expect(page.locator("#copy-tracking")).to_be_visible()
    assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(243, 244, 246)"
    assert csp_violations(complaints) == [], complaints
