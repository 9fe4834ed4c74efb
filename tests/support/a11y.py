"""axe-core accessibility checks for the browser tests (tests/e2e/test_browser*.py).

``await assert_accessible(page, context="dashboard pipeline")`` runs axe-core (the ``axe.min.js``
bundled by the ``axe-playwright-python`` dev dependency: no npm, no download at test time) on the
page as it is now, against WCAG 2.0/2.1/2.2 A and AA plus axe's best practices, and fails with one
readable line per violation and per offending element.

Rules switched off go in ``DISABLED`` with the reason; there are none today.
"""

from __future__ import annotations

import json
from typing import Any

from axe_playwright_python.base import AXE_SCRIPT
from playwright.async_api import Page

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
DISABLED: dict[str, str] = {}  # rule id -> why it does not apply to our pages
MAX_NODES = 5  # per violation in the report: the rest are counted, not listed


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on ``page``, as axe reports them (id, impact, help, nodes...)."""
    if not await page.evaluate("typeof window.axe === 'object'"):
        # Playwright evaluates over the DevTools protocol: the page's CSP (no inline script) allows it.
        await page.evaluate(AXE_SCRIPT)
    options = {
        "runOnly": {"type": "tag", "values": TAGS},
        "rules": {rule: {"enabled": False} for rule in DISABLED},
        "resultTypes": ["violations"],
    }
    results = await page.evaluate(f"axe.run(document, {json.dumps(options)})")
    return list(results["violations"])


def report(violations: list[dict[str, Any]], context: str, url: str) -> str:
    """One paragraph per violation: rule id, impact, what it asks, then each element it found."""
    lines = [f"{len(violations)} accessibility violation(s) on {context} ({url}):"]
    for violation in violations:
        lines.append(
            f"- {violation['id']} [{violation.get('impact') or 'n/a'}]: {violation['help']}"
            f" ({violation.get('helpUrl', '')})"
        )
        nodes = violation.get("nodes", [])
        for node in nodes[:MAX_NODES]:
            target = " ".join(str(part) for part in node.get("target", []))
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    at {target}: {summary}")
        if len(nodes) > MAX_NODES:
            lines.append(f"    ... and {len(nodes) - MAX_NODES} more element(s)")
    return "\n".join(lines)


async def assert_accessible(page: Page, *, context: str) -> None:
    """Fail, listing every axe-core violation, unless ``page`` has none."""
    violations = await axe_violations(page)
    assert not violations, report(violations, context, page.url)
