"""Approval rules and bans edited in a real headless Chromium against `partnerflow dev`, deciding
or turning away applications made on the hosted apply page; every page is checked with axe-core,
and the screenshots refresh docs/screenshots/.

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
    flash,
    manager_page,
    partner,
    partner_id_of,
    reload_until,
    set_up_program,
    shot,
    skip_without_chromium,
    until,
)
from playwright.async_api import Browser, Page, expect

skip_without_chromium()
PROGRAM = "rules-shop"


@pytest.fixture(scope="module", autouse=True)
def rules_shop(dev: Dev) -> None:
    set_up_program(dev, PROGRAM, "Rules Shop")


async def add_rule(page: Page, name: str, **fields: str) -> None:
    await page.get_by_label("Name", exact=True).fill(name)
    for label, value in fields.items():
        await page.get_by_label(label, exact=True).fill(value)


async def test_a_rule_added_in_the_dashboard_approves_an_application(dev: Dev, browser: Browser) -> None:
    http = dev[0]
    page = await manager_page(browser, dev)
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
    await expect(flash(page)).to_contain_text("Added rule “Throwaway”")
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
    await expect(flash(page)).to_contain_text("Added rule “Example staff”")

    # First matching rule wins: move it first, then delete the other through its confirmation.
    await page.get_by_role("button", name="Move up rule Example staff").click()
    await expect(flash(page)).to_contain_text("it is now rule 1 of 2")
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
    await expect(flash(page)).to_contain_text("Deleted rule “Throwaway”")
    await expect(page.locator("#rules tbody tr")).to_have_count(1)
    rules = http.get(f"/programs/{PROGRAM}/approval-rules", headers=auth(dev)).json()["rules"]
    assert [(rule["name"], rule["delay"]) for rule in rules] == [("Example staff", "PT0S")]

    applicant = await browser.new_page(base_url=str(http.base_url))
    await apply(applicant, PROGRAM, "ada.rules@example.com", "Ada Rules")

    partner_id = await partner_id_of(dev, PROGRAM, "ada.rules@example.com")
    await until(
        lambda: partner(dev, partner_id)["stage"] != "applied", "the rule did not decide the application"
    )
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


async def test_a_banned_email_is_turned_away_by_the_apply_page_until_the_ban_is_lifted(
    dev: Dev, browser: Browser
) -> None:
    set_up_program(dev, "ban-shop", "Ban Shop")
    page = await manager_page(browser, dev)
    await page.goto("/dashboard/programs/ban-shop")
    await page.get_by_role("link", name="Banned emails").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Banned emails of ban-shop")
    await expect(page.locator("#no-bans")).to_be_visible()

    # An address the API's model refuses comes back on its field, with what was typed.
    await page.get_by_label("Email address").fill("mallory-at-example.com")
    await page.get_by_label("Reason").fill("cookie stuffing")
    await page.get_by_role("button", name="Ban email").click()
    await expect(page.locator("#email-error")).to_contain_text("not a valid email address")
    await expect(page.get_by_label("Email address")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("Reason")).to_have_value("cookie stuffing")
    await shot(page, "dashboard-bans-error")
    await page.get_by_label("Email address").fill(" Mallory@Example.com ")
    await page.get_by_role("button", name="Ban email").click()
    await expect(flash(page)).to_contain_text("Banned mallory@example.com: a signup from it starts nothing.")

    # The hosted page answers as it always does (no hint to the applicant); nothing reaches a manager.
    applicant = await browser.new_page(base_url=str(dev[0].base_url))
    await apply(applicant, "ban-shop", "mallory@example.com", "Mallory")
    turned_away = await partner_id_of(dev, "ban-shop", "mallory@example.com")
    assert partner(dev, turned_away)["stage"] == "rejected"
    await reload_until(page, page.locator("#ban-1"), r"cookie stuffing\s+dev\s+.+\s+1 ")
    await shot(page, "dashboard-bans")
    await page.goto("/dashboard/applications")
    await expect(page.locator("main")).not_to_contain_text("mallory@example.com")

    await page.goto("/dashboard/programs/ban-shop/bans")
    await page.get_by_role("link", name=re.compile(r"^Lift the ban of mallory@example\.com")).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Lift the ban of mallory@example.com in ban-shop"
    )
    await page.get_by_role("button", name="Lift the ban").click()  # not ticked: the browser does not submit
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Lift the ban")
    await page.get_by_label("I understand: mallory@example.com may apply again").check()
    await shot(page, "dashboard-ban-lift")
    await page.get_by_role("button", name="Lift the ban").click()
    await expect(flash(page)).to_contain_text("Lifted the ban of mallory@example.com")
    await expect(page.locator("#no-bans")).to_be_visible()

    await apply(applicant, "ban-shop", "mallory@example.com", "Mallory")
    await until(lambda: partner(dev, turned_away)["stage"] == "applied", "the application did not start")
    await page.goto("/dashboard/applications")
    await expect(page.locator("main")).to_contain_text("mallory@example.com")
