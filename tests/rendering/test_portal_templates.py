"""The partner portal's pages: one template per locale over a locale-neutral layout, with the same
fallback to English as emails (``Renderer.page``)."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jinja2 import nodes

from partnerflow.domain.stages import CHECKLIST_ITEMS, DEFAULT_LOCALE, LOCALES, Stage
from partnerflow.rendering.templates import TEMPLATES_DIR, Renderer

PORTAL = TEMPLATES_DIR / "portal"
NOTICES = ("invalid", "expired", "resent", "resend_failed", "rejected", "conflict", "no_terms")
TERMS = SimpleNamespace(title="Partner terms", version=2, body_html="<p><strong>Be nice.</strong></p>")
WEBINAR = {
    "title": "Onboarding 101",
    "starts_at_local": "Thu 01.05.2025, 10:00 (Europe/Paris)",
    "join_url": "https://meet.example/onboarding",
}
# Between them, these two pages show every text of the portal page.
BUSY = {
    "partner_name": "Ada Lovelace",
    "stage": "onboarding",
    "checklist": [{"key": key, "done": i % 2 == 0} for i, key in enumerate(CHECKLIST_ITEMS)],
    "done": 2,
    "total": len(CHECKLIST_ITEMS),
    "terms": TERMS,
    "accepted": None,
    "outdated_version": 1,
    "resources": [SimpleNamespace(url="https://example.com/kit.pdf", title="Brand kit", kind="pdf")],
    "tracking_url": "http://partnerflow.test/r/abc123",
    "webinar": WEBINAR,
    "base_url": "/portal/TOKEN",
}
QUIET = BUSY | {
    "stage": "active",
    "terms": None,
    "outdated_version": None,
    "resources": [],
    "tracking_url": None,
    "webinar": None,
}
ACCEPTED = BUSY | {"accepted": {"version": 2, "date": "2025-04-01"}, "outdated_version": None}
# Between them, these two show every text of the self-serve page.
ACCOUNT: dict[str, Any] = {
    "partner_name": "Ada Lovelace",
    "base_url": "/portal/TOKEN",
    "saved": True,
    "period": {"start": "2025-04-01", "review": "2025-06-30"},
    "currency": "EUR",
    "kpis": [
        {"key": key, "value": "12", "direction": direction, "change": "5.0"}
        for key, direction in (
            ("clicks", "up"),
            ("conversions", "down"),
            ("revenue", "same"),
            ("commission", None),
            ("epc", None),
        )
    ],
    "money": {"revenue", "commission", "epc"},
    "tier": {
        "name": "bronze",
        "rate": "10.0",
        "next": {"name": "silver", "rate": "15.0"},
        "revenue": {"now": "150.00", "needed": "5,000.00", "percent": 3},
        "conversions": {"now": "1", "needed": "50", "percent": 2},
    },
    "links": {
        "tracking_url": "http://partnerflow.test/r/abc",
        "host": "shop.example",
        "to": "https://evil.example/",
        "built": {
            "tracking": "http://partnerflow.test/r/abc?to=/x",
            "direct": "https://shop.example/x?ref=abc",
        },
        "error": "off_site",
    },
    "webinars": [
        {"title": "Kick-off", "when": "Thu", "status": s}
        for s in ("attended", "missed", "upcoming", "cancelled")
    ],
    "resources": [{"title": "Brand kit", "kind": "logo", "href": "https://cdn.example/kit.zip"}],
    "subscribed": True,
}
ACCOUNT_QUIET = ACCOUNT | {
    "saved": False,
    "tier": {"name": "gold", "rate": "20.0", "next": None, "revenue": None, "conversions": None},
    "links": {"tracking_url": None, "host": "shop.example", "to": "", "built": None, "error": None},
    "webinars": [],
    "resources": [],
    "subscribed": False,
}
NOTICE_CONTEXT: dict[str, Any] = {"resend_token": "TOKEN", "back_url": "/portal/TOKEN", "version": 3}


def visible_text(page: str) -> str:
    """What a reader sees (and what a screen reader says): text, titles, labels, data attributes."""
    attributes = " ".join(re.findall(r'(?:aria-label|data-copied)="([^"]*)"', page))
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body) + " " + attributes).split())


def render_all(renderer: Renderer, locale: str) -> dict[str, str]:
    pages = {
        f"page/{name}": renderer.page("portal/page", locale, context)
        for name, context in (("busy", BUSY), ("quiet", QUIET), ("accepted", ACCEPTED))
    } | {
        f"account/{name}": renderer.page("portal/account", locale, context)
        for name, context in (("busy", ACCOUNT), ("quiet", ACCOUNT_QUIET))
    }
    return pages | {kind: renderer.page(f"portal/{kind}", locale, NOTICE_CONTEXT) for kind in NOTICES}


def _status(page: str) -> str:
    """The 'Status: ...' line under the heading."""
    return page.split('<p class="muted">', 1)[1].split("</p>", 1)[0]


def test_every_portal_template_exists_in_every_locale() -> None:
    english = sorted(path.name for path in (PORTAL / DEFAULT_LOCALE).glob("*.html"))
    expected = ["page.html", "account.html", "_message.html", *(f"{kind}.html" for kind in NOTICES)]
    assert english == sorted(expected)
    for locale in LOCALES:
        assert sorted(path.name for path in (PORTAL / locale).glob("*.html")) == english, locale


def _text_blocks(renderer: Renderer, *layouts: str) -> set[str]:
    """Blocks the layouts (outermost first) leave empty: each one a text the locale must write."""
    empty: set[str] = set()
    for layout in layouts:
        source = renderer.env.loader.get_source(renderer.env, layout)[0]  # type: ignore[union-attr]
        for block in renderer.env.parse(source).find_all(nodes.Block):
            if block.body:
                empty.discard(block.name)
            else:
                empty.add(block.name)
    return empty


def _filled_blocks(renderer: Renderer, *names: str) -> set[str]:
    return {block for name in names for block in renderer.env.get_template(name).blocks}


@pytest.mark.parametrize("locale", LOCALES)
def test_each_locale_writes_every_text_of_the_layout(renderer: Renderer, locale: str) -> None:
    """An unwritten block would be a blank heading or button for that locale's partners."""
    page = _text_blocks(renderer, "portal/_base.html", "portal/_page.html")
    message = _text_blocks(renderer, "portal/_base.html", "portal/_message.html")
    assert {"title", "skip", "heading", "status", "item_label", "accept", "copied"} <= page
    assert {"skip", "heading", "message", "resend", "back"} <= message and "title" not in message

    assert page - _filled_blocks(renderer, f"portal/{locale}/page.html") == set()
    account = _text_blocks(renderer, "portal/_base.html", "portal/_account.html")
    assert {"kpi_label", "webinar_status", "link_error", "nudges_off"} <= account
    assert account - _filled_blocks(renderer, f"portal/{locale}/account.html") == set()
    for kind in NOTICES:
        filled = _filled_blocks(renderer, f"portal/{locale}/{kind}.html", f"portal/{locale}/_message.html")
        assert message - filled == set(), kind


@pytest.mark.parametrize("locale", LOCALES)
def test_pages_render_in_the_locale_with_their_values(renderer: Renderer, locale: str) -> None:
    pages = render_all(renderer, locale)

    for name, page in pages.items():
        assert f'<html lang="{locale}"' in page, name
        assert "{{" not in page and "{%" not in page and "None" not in visible_text(page), name
    busy, accepted = pages["page/busy"], pages["page/accepted"]
    assert re.search(r"<h1>[^<]*Ada Lovelace[^<]*</h1>", busy)
    assert re.search(r"\b2\b.*\b4\b", busy.split('<label for="progress">')[1].split("</label>")[0])
    assert "Thu 01.05.2025, 10:00 (Europe/Paris)" in busy and "<strong>Be nice.</strong>" in busy
    assert "2025-04-01" in accepted
    assert " 3 " in f" {visible_text(pages['conflict'])} "
    assert 'name="token" value="TOKEN"' in pages["expired"] and 'href="/portal/TOKEN"' in pages["conflict"]


@pytest.mark.parametrize("locale", [locale for locale in LOCALES if locale != DEFAULT_LOCALE])
def test_every_page_is_translated(renderer: Renderer, locale: str) -> None:
    english, translated = render_all(renderer, DEFAULT_LOCALE), render_all(renderer, locale)

    for name in english:
        assert visible_text(translated[name]) != visible_text(english[name]), name
    # Every stage has its own words, not the English ones.
    for stage in Stage:
        ours, theirs = (
            _status(renderer.page("portal/page", language, QUIET | {"stage": stage.value}))
            for language in (locale, DEFAULT_LOCALE)
        )
        assert ours != theirs, stage


@pytest.mark.parametrize("locale", LOCALES)
def test_checklist_items_are_named_not_keyed(renderer: Renderer, locale: str) -> None:
    text = visible_text(renderer.page("portal/page", locale, BUSY))

    assert not [key for key in CHECKLIST_ITEMS if key in text]


def test_an_unknown_locale_gets_english(renderer: Renderer) -> None:
    english = render_all(renderer, DEFAULT_LOCALE)
    for name, page in render_all(renderer, "es").items():
        assert page == english[name], name
    assert "Welcome, Ada Lovelace" in renderer.page("portal/page", "es", BUSY)


def test_a_page_missing_in_one_locale_falls_back_to_english(tmp_path: Path) -> None:
    shutil.copytree(PORTAL, tmp_path / "portal")
    (tmp_path / "portal" / "fr" / "expired.html").unlink()
    renderer = Renderer(tmp_path)

    expired = renderer.page("portal/expired", "fr", NOTICE_CONTEXT)
    invalid = renderer.page("portal/invalid", "fr", NOTICE_CONTEXT)

    assert '<html lang="en"' in expired and "This link has expired" in expired
    assert '<html lang="fr"' in invalid and "Ce lien n’est pas valide" in invalid  # noqa: RUF001


def test_values_are_escaped(renderer: Renderer) -> None:
    page = renderer.page("portal/page", "de", BUSY | {"partner_name": '<script>alert("x")</script>'})

    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
