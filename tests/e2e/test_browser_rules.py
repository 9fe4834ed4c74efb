"""Approval rules edited in a real headless Chromium against `partnerflow dev`, deciding an
application made on the hosted apply page; every page is checked with axe-core, and the
screenshots refresh docs/screenshots/.

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
PROGRAM = "rules-shop"

if not Path(CHROMIUM).exists():
    reason = f"Chromium not found at {CHROMIUM}: `apt-get install chromium` (.ci/run does it)"
    if os.environ.get("CI"):
        raise RuntimeError(reason + "; CI requires it")
    pytest.skip(reason, allow_module_level=True)

from playwright.async_api import Browser, Page, async_playwright, expect  # noqa: E402


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    data_dir = tmp_path_factory.mktemp("browser-rules") / "data"
    with partnerflow_dev(data_dir, free_ports(3)) as (_process, http):
        secrets = json.loads((data_dir / "dev-secrets.json").read_text())
        auth = {"Authorization": f"Bearer {secrets['manager_token']}"}
        program = {"name": "Rules Shop", "landing_url": "https://shop.example/"}
        assert http.put(f"/programs/{PROGRAM}", json=program, headers=auth).status_code == 200
        yield http, secrets


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


async def shot(page: Page, name: str) -> None:
    """Check the page with axe-core, then screenshot it."""
    await assert_accessible(page, context=name)
    for folder in SHOTS:
        folder.mkdir(exist_ok=True)
        await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


async def add_rule(page: Page, name: str, **fields: str) -> None:
    await page.get_by_label("Name", exact=True).fill(name)
    for label, value in fields.items():
        await page.get_by_label(label, exact=True).fill(value)


async def test_a_rule_added_in_the_dashboard_approves_an_application(dev, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    http, secrets = dev
    auth = {"Authorization": f"Bearer {secrets['manager_token']}"}
    page = await browser.new_page(base_url=str(http.base_url))
    await page.goto("/dashboard/login")
    await page.get_by_label("Manager token").fill(secrets["manager_token"])
    await page.get_by_role("button", name="Sign in").click()
    await page.goto(f"/dashboard/programs/{PROGRAM}")
    await page.get_by_role("link", name="Approval rules").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Approval rules of {PROGRAM}")
    await expect(page.locator("#no-rules")).to_be_visible()
    await assert_accessible(page, context="approval rules, none yet")

    # A throwaway-address rule, then the domain rule with a delay the domain refuses: the form
    # comes back with the error on the field and everything typed still there.
    await add_rule(page, "Throwaway")
    await page.get_by_label("Disposable email").select_option("yes")
    await page.get_by_role("radio", name="Reject").check()
    await page.get_by_role("button", name="Add rule").click()
    await expect(page.locator("#flash")).to_contain_text("Added rule “Throwaway”")
    await add_rule(page, "Example staff", **{"Email domain is one of": "example.com", "Delay": "P1M"})
    await page.get_by_role("button", name="Add rule").click()
    await expect(page.locator("#delay-error")).to_contain_text("years and months have no fixed length")
    await expect(page.get_by_label("Email domain is one of")).to_have_value("example.com")
    await expect(page.get_by_label("Delay", exact=True)).to_have_attribute("aria-invalid", "true")
    await shot(page, "dashboard-approval-rules-error")
    await page.locator("#error-summary a").click()  # the summary links to the field
    assert await page.evaluate("document.activeElement.id") == "delay"
    await page.get_by_label("Delay", exact=True).fill("PT0S")
    await page.get_by_role("button", name="Add rule").click()
    await expect(page.locator("#flash")).to_contain_text("Added rule “Example staff”")

    # First matching rule wins: move it first, then delete the other through its confirmation.
    await page.get_by_role("button", name="Move up rule Example staff").click()
    await expect(page.locator("#flash")).to_contain_text("it is now rule 1 of 2")
    await expect(page.locator("#rule-1 th")).to_have_text("Example staff")
    await shot(page, "dashboard-approval-rules")
    await page.get_by_role("link", name=re.compile(r"^Edit rule Throwaway")).click()
    await expect(page.get_by_label("Disposable email")).to_have_value("yes")  # the form, filled in
    await assert_accessible(page, context="edit rule")
    await page.get_by_role("link", name="Back to the rules, unchanged").click()
    await page.get_by_role("link", name=re.compile(r"^Delete rule Throwaway\W*$")).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Delete rule “Throwaway” of {PROGRAM}")
    await page.get_by_role("button", name="Delete rule").click()  # not ticked: the browser does not submit
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Delete rule")
    await page.get_by_label("I understand: delete rule “Throwaway” now").check()
    await shot(page, "dashboard-approval-rule-delete")
    await page.get_by_role("button", name="Delete rule").click()
    await expect(page.locator("#flash")).to_contain_text("Deleted rule “Throwaway”")
    await expect(page.locator("#rules tbody tr")).to_have_count(1)
    rules = http.get(f"/programs/{PROGRAM}/approval-rules", headers=auth).json()["rules"]
    assert [(rule["name"], rule["delay"]) for rule in rules] == [("Example staff", "PT0S")]

    applicant = await browser.new_page(base_url=str(http.base_url))
    await applicant.goto(f"/apply/{PROGRAM}?lang=en")
    await applicant.get_by_label("Email address").fill("ada.rules@example.com")
    await applicant.get_by_label("Your name").fill("Ada Rules")
    await applicant.get_by_role("button", name="Send my application").click()
    await expect(applicant.get_by_role("heading", level=1)).to_have_text("Thank you for applying")

    partner_id, deadline = "", time.monotonic() + 30
    while not partner_id or http.get(f"/partners/{partner_id}", headers=auth).json()["stage"] == "applied":
        assert time.monotonic() < deadline, "the rule did not decide the application"
        items = http.get("/partners", params={"program": PROGRAM}, headers=auth).json()["items"]
        partner_id = next((p["partner_id"] for p in items if p["email"] == "ada.rules@example.com"), "")
        await asyncio.sleep(0.3)
    await page.goto(f"/dashboard/partners/{partner_id}")
    await expect(page.locator("#timeline")).to_contain_text("rule:Example staff")
    await shot(page, "dashboard-partner-approved-by-rule")


async def test_the_accessibility_check_fails_on_a_page_with_violations(browser: Browser) -> None:
    page = await browser.new_page()
    await page.set_content('<html lang="en"><title>t</title><main><h1>Bad</h1><img src="x.png">'
                           '<input type="text"></main></html>')  # fmt: skip
    with pytest.raises(AssertionError) as failure:
        await assert_accessible(page, context="a broken page")
    message = str(failure.value)
    assert "accessibility violation(s) on a broken page" in message
    assert "- image-alt [critical]: Images must have alternative text" in message
    assert "- label [critical]: Form elements must have labels" in message and "at input:" in message
