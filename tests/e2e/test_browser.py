"""The dashboard and the partner portal in a real headless Chromium, against `partnerflow dev`.

Pages are checked with axe-core (tests/support/a11y.py) before each screenshot (test-artifacts/ and
docs/screenshots/). Needs Debian's ``chromium`` (installed by .ci/run) and Playwright's Python
package (a dev dependency; no browser download). Fixtures: tests/e2e/conftest.py.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

from a11y import assert_accessible
from browser import (
    Dev,
    auth,
    csp_violations,
    flash,
    manager_page,
    onboarding_partner,
    partner,
    portal_path,
    reload_until,
    shot,
    signup,
    skip_without_chromium,
    stage_of,
    until,
    watched_page,
)
from playwright.async_api import Browser, expect

skip_without_chromium()


async def test_manager_signs_in_and_approves_a_pending_partner(dev: Dev, browser: Browser) -> None:
    http, secrets = dev
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

    await until(lambda: stage_of(dev, partner_id) == "onboarding", "the approval did not reach the workflow")
    await page.goto(f"/dashboard/partners/{partner_id}")
    await expect(page.locator("main")).to_contain_text("onboarding")
    await shot(page, "dashboard-partner")
    await page.goto("/dashboard/programs/default")  # the funnel bars are SVG: no inline style
    await expect(page.locator("#funnel")).to_be_visible()
    await assert_accessible(page, context="program page")
    assert csp_violations(complaints) == [], complaints


async def test_partner_accepts_terms_in_the_portal(dev: Dev, browser: Browser) -> None:
    http = dev[0]
    published = http.post(
        "/programs/default/terms",
        json={"body_markdown": "## Partner terms\n\nBe **honest**."},
        headers=auth(dev),
    ).json()  # a fresh `partnerflow dev` has demo terms (v1): these are the next version
    partner_id = await onboarding_partner(dev, "grace.browser@example.com", "Grace Browser")
    portal = await portal_path(dev, "grace.browser@example.com")

    page, complaints = await watched_page(browser, str(http.base_url))
    await page.goto(portal)
    await expect(page.locator("main")).to_contain_text("Grace Browser")
    await expect(page.locator("main strong", has_text="honest")).to_be_visible()
    await shot(page, "portal-before")
    await page.get_by_role("button", name="I accept").click()
    await expect(page.locator("main")).to_contain_text(f"You accepted version {published['version']}")
    await shot(page, "portal-after")

    await until(
        lambda: partner(dev, partner_id)["checklist"]["terms_accepted"],
        "the acceptance did not reach the workflow",
    )

    # The tracking link comes next; /static/portal.js (no inline script under the CSP) shows its button.
    await reload_until(page, page.locator("#tracking-heading"), r"\w")
    await expect(page.locator("#copy-tracking")).to_be_visible()
    assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(243, 244, 246)"
    assert csp_violations(complaints) == [], complaints


# --- manager actions ------------------------------------------------------------------------------


async def test_manager_confirms_a_tier_pauses_resumes_and_offboards(dev: Dev, browser: Browser) -> None:
    http = dev[0]
    rules = {"review_period_days": 0.0003, "tier_confirmation_days": 1}  # a review ~26 s after activation
    assert http.put("/programs/browser-tiers/engagement", json=rules, headers=auth(dev)).status_code == 200
    partner_id, overridden_id = [  # Tina's proposal is confirmed, Otto's overridden
        await onboarding_partner(dev, email, name, program="browser-tiers")
        for email, name in (("tina.browser@example.com", "Tina Tiers"), ("otto.browser@example.com", "Otto Kept"))
    ]  # fmt: skip
    for pid in (partner_id, overridden_id):
        for item in ({"item": "terms_accepted"}, {"item": "webinar_attended", "waive": True}):
            await until(lambda item=item, pid=pid: http.post(f"/partners/{pid}/checklist", json=item, headers=auth(dev)).status_code == 200,
                        "the checklist update was refused")  # fmt: skip
    for pid in (partner_id, overridden_id):
        await until(lambda pid=pid: stage_of(dev, pid) == "active", "the partner did not become active")
    await asyncio.sleep(1.5)  # inside the first review period
    now = datetime.now(UTC).isoformat()
    events = [{"event_id": f"browser-{pid}-{i}", "partner_id": pid, "type": "conversion",
               "amount": 100.0, "currency": "USD", "occurred_at": now}
              for pid in (partner_id, overridden_id) for i in range(60)]  # fmt: skip
    assert http.post("/events", json={"events": events}, headers=auth(dev)).json()["accepted"] == 120

    for pid in (partner_id, overridden_id):
        await until(
            lambda pid=pid: partner(dev, pid)["tier_proposal"] == "silver",
            "the review proposed no tier",
            timeout=90,
        )
    page = await manager_page(browser, dev)
    await page.goto(f"/dashboard/partners/{overridden_id}")
    tier_before = partner(dev, overridden_id)["tier"]
    await page.get_by_role("button", name="Keep current tier").click()
    await expect(flash(page)).to_contain_text(
        "Kept the current tier of Otto Kept (otto.browser@example.com) (not silver)"
    )
    await until(lambda: partner(dev, overridden_id)["tier_proposal"] is None, "the proposal stayed open")
    assert partner(dev, overridden_id)["tier"] == tier_before != "silver"
    await expect(page.locator("#tier-proposal")).to_have_count(0)
    await page.goto(f"/dashboard/partners/{partner_id}")
    await expect(page.locator("#tier-proposal")).to_contain_text("to silver")
    await shot(page, "dashboard-tier-proposal")
    await page.get_by_role("button", name="Confirm silver").click()
    await expect(flash(page)).to_contain_text("silver confirmed for Tina Tiers")
    await until(lambda: partner(dev, partner_id)["tier"] == "silver", "the tier did not change")

    await page.get_by_role("button", name="Pause nudges").click()
    await expect(flash(page)).to_contain_text("Paused Tina Tiers")
    await expect(page.locator("#paused-note")).to_have_text("Nudges paused")
    await expect(page.locator("#timeline")).to_contain_text("Paused")
    await shot(page, "dashboard-partner-paused")
    await page.get_by_role("button", name="Resume nudges").click()
    await expect(flash(page)).to_contain_text("Resumed Tina Tiers")
    assert partner(dev, partner_id)["paused"] is False

    await page.get_by_role("link", name="Offboard…").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Offboard Tina Tiers")
    await page.get_by_label("Reason").fill("Stopped promoting us")
    await shot(page, "dashboard-offboard-confirm")
    offboard = page.get_by_role("button", name="Offboard Tina Tiers")
    await offboard.click()  # the box is not ticked: the browser does not submit
    await expect(page.get_by_role("heading", level=1)).to_have_text("Offboard Tina Tiers")
    assert stage_of(dev, partner_id) == "active"
    await page.get_by_label("I understand: offboard Tina Tiers now").check()
    await offboard.click()
    await expect(flash(page)).to_contain_text("Offboarded Tina Tiers")
    await expect(page.locator("#timeline")).to_contain_text("Stopped promoting us")
    await until(lambda: stage_of(dev, partner_id) == "offboarded", "the partner was not offboarded")


async def test_manager_pauses_resumes_and_cancels_a_campaign(dev: Dev, browser: Browser) -> None:
    http = dev[0]
    csv = "email,name\n" + "".join(f"lead{n}@browser.example.com,Lead {n}\n" for n in range(5))
    imported = http.post("/prospects/import", params={"program": "browser-campaign"}, content=csv,
                         headers={**auth(dev), "Content-Type": "text/csv"})  # fmt: skip
    assert imported.json()["imported"] == 5, imported.text
    page = await manager_page(browser, dev)

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
    campaign = http.get(f"/campaigns/{campaign_id}", headers=auth(dev)).json()
    assert (campaign["status"], campaign["cancel_reason"]) == ("cancelled", "Wrong audience")
