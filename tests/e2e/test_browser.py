"""The dashboard and the partner portal in a real headless Chromium, against `partnerflow dev`.

Pages are checked with axe-core (tests/support/a11y.py); screenshots land in ``test-artifacts/``. Needs Debian's ``chromium`` (installed
by .ci/run) and Playwright's Python package (a dev dependency; no browser download).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from a11y import assert_accessible
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

from playwright.async_api import Browser, Locator, Page, async_playwright, expect  # noqa: E402


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


def signup(
    http: httpx.Client, secrets: dict[str, str], email: str, name: str, program: str = "default"
) -> str:
    body = json.dumps(
        {"email": email, "name": name, "company": "Lovelace Media", "program": program}
    ).encode()
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
    """Check the page with axe-core, then screenshot it."""
    await assert_accessible(page, context=name)
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def test_manager_signs_in_and_approves_a_pending_partner(dev, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    http, secrets = dev
    auth = {"Authorization": f"Bearer {secrets['manager_token']}"}
    partner_id = signup(http, secrets, "ada.browser@example.com", "Ada Browser")
    page, complaints = await watched_page(browser, str(http.base_url))

    await page.goto("/dashboard")
    await expect(page.locator("form#login")).to_be_visible()  # every page needs a session
    await assert_accessible(page, context="dashboard sign-in")
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
    await assert_accessible(page, context="program page")
    assert csp_violations(complaints) == [], complaints


async def test_partner_accepts_terms_in_the_portal(dev, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    http, secrets = dev
    auth = {"Authorization": f"Bearer {secrets['manager_token']}"}
    published = http.post(
        "/programs/default/terms", json={"body_markdown": "## Partner terms\n\nBe **honest**."}, headers=auth
    ).json()  # a fresh `partnerflow dev` has demo terms (v1): these are the next version
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
    await expect(page.locator("main")).to_contain_text(f"You accepted version {published['version']}")
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


# --- manager actions ------------------------------------------------------------------------------


async def sign_in(page: Page, token: str) -> None:
    await page.goto("/dashboard/login")
    await page.get_by_label("Manager token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#manager-name")).to_be_visible()


async def until(check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.3)


def flash(page: Page) -> Locator:
    return page.locator("#flash")


async def test_manager_confirms_a_tier_pauses_resumes_and_offboards(dev, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    http, secrets = dev
    auth = {"Authorization": f"Bearer {secrets['manager_token']}"}
    rules = {"review_period_days": 0.0003, "tier_confirmation_days": 1}  # a review ~26 s after activation
    assert http.put("/programs/browser-tiers/engagement", json=rules, headers=auth).status_code == 200
    partner_id = signup(http, secrets, "tina.browser@example.com", "Tina Tiers", program="browser-tiers")
    assert (
        http.post(f"/partners/{partner_id}/decision", json={"decision": "approve"}, headers=auth).status_code
        == 200
    )
    for item in ({"item": "terms_accepted"}, {"item": "webinar_attended", "waive": True}):
        await until(lambda item=item: http.post(f"/partners/{partner_id}/checklist", json=item, headers=auth).status_code == 200,  # type: ignore[misc]
                    "the checklist update was refused")  # fmt: skip
    await until(lambda: stage_of(http, auth, partner_id) == "active", "the partner did not become active")
    await asyncio.sleep(1.5)  # inside the first review period
    now = datetime.now(UTC).isoformat()
    events = [{"event_id": f"browser-{partner_id}-{i}", "partner_id": partner_id, "type": "conversion",
               "amount": 100.0, "currency": "USD", "occurred_at": now} for i in range(60)]  # fmt: skip
    assert http.post("/events", json={"events": events}, headers=auth).json()["accepted"] == 60

    def detail() -> dict[str, Any]:
        return dict(http.get(f"/partners/{partner_id}", headers=auth).json())

    await until(lambda: detail()["tier_proposal"] == "silver", "the review proposed no tier", timeout=90)
    page = await browser.new_page(base_url=str(http.base_url))
    await sign_in(page, secrets["manager_token"])
    await page.goto(f"/dashboard/partners/{partner_id}")
    await expect(page.locator("#tier-proposal")).to_contain_text("to silver")
    await shot(page, "dashboard-tier-proposal")
    await page.get_by_role("button", name="Confirm silver").click()
    await expect(flash(page)).to_contain_text("silver confirmed for Tina Tiers")
    await until(lambda: detail()["tier"] == "silver", "the tier did not change")

    await page.get_by_role("button", name="Pause nudges").click()
    await expect(flash(page)).to_contain_text("Paused Tina Tiers")
    await expect(page.locator("#paused-note")).to_have_text("Nudges paused")
    await expect(page.locator("#timeline")).to_contain_text("Paused")
    await shot(page, "dashboard-partner-paused")
    await page.get_by_role("button", name="Resume nudges").click()
    await expect(flash(page)).to_contain_text("Resumed Tina Tiers")
    assert detail()["paused"] is False

    await page.get_by_role("link", name="Offboard…").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Offboard Tina Tiers")
    await page.get_by_label("Reason").fill("Stopped promoting us")
    await shot(page, "dashboard-offboard-confirm")
    offboard = page.get_by_role("button", name="Offboard Tina Tiers")
    await offboard.click()  # the box is not ticked: the browser does not submit
    await expect(page.get_by_role("heading", level=1)).to_have_text("Offboard Tina Tiers")
    assert stage_of(http, auth, partner_id) == "active"
    await page.get_by_label("I understand: offboard Tina Tiers now").check()
    await offboard.click()
    await expect(flash(page)).to_contain_text("Offboarded Tina Tiers")
    await expect(page.locator("#timeline")).to_contain_text("Stopped promoting us")
    await until(lambda: stage_of(http, auth, partner_id) == "offboarded", "the partner was not offboarded")


async def test_manager_pauses_resumes_and_cancels_a_campaign(dev, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    http, secrets = dev
    auth = {"Authorization": f"Bearer {secrets['manager_token']}"}
    csv = "email,name\n" + "".join(f"lead{n}@browser.example.com,Lead {n}\n" for n in range(5))
    imported = http.post("/prospects/import", params={"program": "browser-campaign"}, content=csv,
                         headers={**auth, "Content-Type": "text/csv"})  # fmt: skip
    assert imported.json()["imported"] == 5, imported.text
    page = await browser.new_page(base_url=str(http.base_url))
    await sign_in(page, secrets["manager_token"])

    await page.goto("/dashboard/campaigns")
    await assert_accessible(page, context="campaigns")
    await page.get_by_label("Name").fill("Browser outreach")
    await page.get_by_label("Program").select_option("browser-campaign")
    await page.get_by_label("First emails per minute").fill("1")
    await page.get_by_role("button", name="Start campaign").click()
    await expect(flash(page)).to_contain_text("Campaign “Browser outreach” started")
    campaign_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    await expect(page.locator("#campaign-status")).to_have_text("Status: Running")
    await shot(page, "dashboard-campaign")

    await page.get_by_role("button", name="Pause campaign").click()
    await expect(flash(page)).to_contain_text("paused: nothing is sent until you resume it")
    await expect(page.locator("#campaign-status")).to_have_text("Status: Paused")
    await shot(page, "dashboard-campaign-paused")
    await page.get_by_role("button", name="Resume campaign").click()
    await expect(flash(page)).to_contain_text("resumed")
    await expect(page.locator("#campaign-status")).to_have_text("Status: Running")

    await page.get_by_role("link", name="Cancel campaign…").click()
    await page.get_by_label("Reason").fill("Wrong audience")
    await page.get_by_label("I understand: cancel “Browser outreach” now").check()
    await shot(page, "dashboard-campaign-cancel")
    await page.get_by_role("button", name="Cancel campaign").click()
    await expect(flash(page)).to_contain_text("cancelled")
    await expect(page.locator("#campaign-status")).to_have_text("Status: Cancelled")
    campaign = http.get(f"/campaigns/{campaign_id}", headers=auth).json()
    assert (campaign["status"], campaign["cancel_reason"]) == ("cancelled", "Wrong audience")
