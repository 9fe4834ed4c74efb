"""The hosted application page and the partner's self-serve page in a real headless Chromium,
against `partnerflow dev`: keyboard use, labels, and screenshots for docs/screenshots/.

Needs Debian's ``chromium`` and Playwright's Python package, like tests/e2e/test_browser.py.
"""

from __future__ import annotations

import re

import pytest
from a11y import assert_accessible
from browser import (
    Dev,
    apply,
    auth,
    focused_id,
    partner,
    partner_id_of,
    portal_path,
    set_up_program,
    shot,
    skip_without_chromium,
    until,
)
from playwright.async_api import Browser, expect

skip_without_chromium()


@pytest.fixture(scope="module", autouse=True)
def acme(dev: Dev) -> None:
    """The Acme Shoes program, with its application page's text and terms."""
    http = dev[0]
    set_up_program(dev, "acme", "Acme Shoes")
    text = {"description": "Recommend running shoes that last.\n\nEvery pair sold through your link pays.",
            "commission_summary": "10 % of net revenue, 15 % from silver, 20 % from gold.",
            "terms_summary": "No paid search on our brand; disclose the partnership."}  # fmt: skip
    assert http.put("/programs/acme/page", json=text, headers=auth(dev)).status_code == 200
    terms = {"body_markdown": "## Acme partner terms\n\nBe **honest** with your readers."}
    assert http.post("/programs/acme/terms", json=terms, headers=auth(dev)).status_code == 201


async def test_apply_with_the_keyboard_then_the_partner_appears(dev: Dev, browser: Browser) -> None:
    http = dev[0]
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

    detail = partner(dev, await partner_id_of(dev, "acme", "ada.apply@example.com"))
    assert detail["stage"] == "applied"
    assert "applied" in [entry["event"] for entry in detail["history"]]  # its workflow runs


async def test_the_partner_uses_the_self_serve_page(dev: Dev, browser: Browser) -> None:
    http = dev[0]
    page = await browser.new_page(base_url=str(http.base_url))
    await apply(page, "acme", "grace.self@example.com", "Grace Self")

    partner_id = await partner_id_of(dev, "acme", "grace.self@example.com")
    decision = http.post(f"/partners/{partner_id}/decision", json={"decision": "approve"}, headers=auth(dev))
    assert decision.status_code == 200, decision.text
    portal = await portal_path(dev, "grace.self@example.com")
    await page.goto(portal)
    await assert_accessible(page, context="portal before the terms")
    await page.get_by_role("button", name="I accept").click()  # the tracking link comes after the terms
    await until(lambda: partner(dev, partner_id)["checklist"]["tracking_link_issued"], "no tracking link", 60)
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
