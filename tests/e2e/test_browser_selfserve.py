"""The hosted application page and the partner's self-serve page in a real headless Chromium,
against `partnerflow dev`: keyboard use, labels, and screenshots for docs/screenshots/.

Needs Debian's ``chromium`` and Playwright's Python package, like tests/e2e/test_browser.py.
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
from a11y import assert_accessible
from devproc import free_ports, partnerflow_dev

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
SHOTS = (ROOT / "test-artifacts", ROOT / "docs" / "screenshots")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip

if not Path(CHROMIUM).exists():
    reason = f"Chromium not found at {CHROMIUM}: `apt-get install chromium` (.ci/run does it)"
    if os.environ.get("CI"):
        raise RuntimeError(reason + "; CI requires it")
    pytest.skip(reason, allow_module_level=True)

from playwright.async_api import Browser, Page, async_playwright, expect  # noqa: E402


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    data_dir = tmp_path_factory.mktemp("browser-selfserve") / "data"
    with partnerflow_dev(data_dir, free_ports(3)) as (_process, http):
        secrets = json.loads((data_dir / "dev-secrets.json").read_text())
        auth = {"Authorization": f"Bearer {secrets['manager_token']}"}
        program = {"name": "Acme Shoes", "landing_url": "https://shop.example/"}
        assert http.put("/programs/acme", json=program, headers=auth).status_code == 200
        text = {"description": "Recommend running shoes that last.\n\nEvery pair sold through your link pays.",
                "commission_summary": "10 % of net revenue, 15 % from silver, 20 % from gold.",
                "terms_summary": "No paid search on our brand; disclose the partnership."}  # fmt: skip
        assert http.put("/programs/acme/page", json=text, headers=auth).status_code == 200
        terms = {"body_markdown": "## Acme partner terms\n\nBe **honest** with your readers."}
        assert http.post("/programs/acme/terms", json=terms, headers=auth).status_code == 201
        yield http, auth


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


async def shot(page: Page, name: str) -> None:
    """Check the page with axe-core (tests/support/a11y.py), then screenshot it."""
    await assert_accessible(page, context=name)
    for folder in SHOTS:
        folder.mkdir(exist_ok=True)
        await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


async def focused_id(page: Page) -> str:
    return str(await page.evaluate("document.activeElement && document.activeElement.id"))


async def test_apply_with_the_keyboard_then_the_partner_appears(dev, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    http, auth = dev
    page = await browser.new_page(base_url=str(http.base_url), locale="fr-FR")

    await page.goto("/apply/acme")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Candidater au programme partenaires Acme Shoes"
    )
    await assert_accessible(page, context="apply page (French)")
    await page.get_by_role("link", name="English").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Apply to the Acme Shoes partner program")
    await shot(page, "apply-page")

    # Every field is reached by its label and by Tab, in order; the honeypot never is.
    await page.get_by_label("Email address").focus()
    order = []
    for _ in range(5):
        await page.keyboard.press("Tab")
        order.append(await focused_id(page))
    assert order == ["name", "company", "website", "country", "locale"]
    await page.get_by_label("Email address").focus()
    await page.keyboard.press("Shift+Tab")
    assert await focused_id(page) != "fax"

    await page.get_by_label("Email address").fill("ada.apply@example.com")
    await page.get_by_label("Your name").fill("Ada Apply")
    await page.get_by_label("Company (optional)").fill("Lovelace Running")
    await page.get_by_label("Website (optional)").fill("javascript:alert(1)")
    await page.get_by_label("Country (optional)").select_option("FR")
    await page.get_by_label("Website (optional)").press("Enter")  # submits, like any form
    await expect(page.locator("#error-summary")).to_contain_text("Website (optional): Enter a web address")
    await expect(page.get_by_label("Email address")).to_have_value("ada.apply@example.com")
    await shot(page, "apply-errors")

    await page.locator("#error-summary a").click()  # the summary links to the field
    assert await focused_id(page) == "website"
    await page.keyboard.press("Control+A")
    await page.keyboard.type("lovelace-running.example")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for applying")
    await shot(page, "apply-thanks")

    deadline = time.monotonic() + 20
    while not (found := http.get("/partners", params={"program": "acme"}, headers=auth).json()["items"]):
        assert time.monotonic() < deadline, "the application did not create a partner"
        await asyncio.sleep(0.2)
    assert (found[0]["email"], found[0]["stage"]) == ("ada.apply@example.com", "applied")
    detail = http.get(f"/partners/{found[0]['partner_id']}", headers=auth).json()
    assert "applied" in [entry["event"] for entry in detail["history"]]  # its workflow runs


async def test_the_partner_uses_the_self_serve_page(dev, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    http, auth = dev
    page = await browser.new_page(base_url=str(http.base_url))
    await page.goto("/apply/acme?lang=en")
    await page.get_by_label("Email address").fill("grace.self@example.com")
    await page.get_by_label("Your name").fill("Grace Self")
    await page.get_by_role("button", name="Send my application").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for applying")

    partner_id = ""
    deadline = time.monotonic() + 20
    while not partner_id:
        items = http.get("/partners", params={"program": "acme"}, headers=auth).json()["items"]
        partner_id = next((p["partner_id"] for p in items if p["email"] == "grace.self@example.com"), "")
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)
    assert (
        http.post(f"/partners/{partner_id}/decision", json={"decision": "approve"}, headers=auth).status_code
        == 200
    )
    portal = ""
    while not portal:
        outbox = http.get("/outbox", params={"to": "grace.self@example.com"}, headers=auth).json()["items"]
        welcome = [m for m in outbox if m["template"] == "welcome"]
        portal = (
            re.search(r"https?://[^/\s]+(/portal/\S+)", welcome[0]["body_text"]).group(1) if welcome else ""
        )  # type: ignore[union-attr]
        assert time.monotonic() < deadline + 20, "no welcome email"
        await asyncio.sleep(0.2)
    await page.goto(portal)
    await assert_accessible(page, context="portal before the terms")
    await page.get_by_role("button", name="I accept").click()  # the tracking link comes after the terms
    while not http.get(f"/partners/{partner_id}", headers=auth).json()["checklist"]["tracking_link_issued"]:
        assert time.monotonic() < deadline + 60, "no tracking link"
        await asyncio.sleep(0.2)
    await page.get_by_role("link", name="Performance and tools").click()
    await expect(page.get_by_role("heading", name="Your results")).to_be_visible()
    await page.get_by_label("Page to link to").fill("/running/trail?size=42")
    await page.get_by_label("Page to link to").press("Enter")
    await expect(page.get_by_label("Direct link to this page (with your code)")).to_have_value(
        re.compile(r"^https://shop\.example/running/trail\?size=42&ref=\w+")
    )
    await shot(page, "portal-selfserve")

    await page.get_by_role("button", name="Stop tips and reminders").click()
    await expect(page.get_by_role("status")).to_have_text("Your email preferences are saved.")
    await expect(page.locator("#nudges-state")).to_have_text("You are unsubscribed from tips and reminders.")
