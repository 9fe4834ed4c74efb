"""The hosted application page: one template per locale over locale-neutral layouts, like the portal."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from jinja2 import nodes

from partnerflow.domain.stages import DEFAULT_LOCALE, LOCALES
from partnerflow.rendering.countries import country_options
from partnerflow.rendering.templates import TEMPLATES_DIR, Renderer

APPLY = TEMPLATES_DIR / "apply"
NOTICES = ("thanks", "unknown", "busy")
LANGUAGES = [(code, code.upper(), f"/apply/acme?lang={code}") for code in LOCALES]
FORM: dict[str, Any] = {
    "program_name": "Acme Shoes",
    "page": {
        "lang": "en",
        "description": ["Sell shoes.", "Earn."],
        "commission": "20 %",
        "terms": "Be fair.",
    },
    "values": {
        "email": "ada@example",
        "name": "",
        "website": "javascript:x",
        "country": "XX",
        "locale": "fr",
    },
    "errors": {
        "email": "email_invalid",
        "name": "required",
        "company": "too_long",
        "website": "website_invalid",
        "country": "country_invalid",
        "locale": "locale_invalid",
    },
    "form_error": "expired",
    "action": "/apply/acme?lang=en",
    "token_field": "form_token",
    "token": "TOKEN",
    "honeypot": "fax",
    "countries": country_options("en")[:5],
    "languages": LANGUAGES,
}
CALM = FORM | {"page": None, "values": {}, "errors": {}, "form_error": None}
NOTICE: dict[str, Any] = {"program_name": "Acme Shoes", "minutes": 3, "back_url": "/apply/acme?lang=en"}


def visible_text(page: str) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def render_all(renderer: Renderer, locale: str) -> dict[str, str]:
    pages = {
        name: renderer.page("apply/form", locale, context)
        for name, context in (("form", FORM), ("calm", CALM))
    }
    return pages | {kind: renderer.page(f"apply/{kind}", locale, NOTICE) for kind in NOTICES}


def _text_blocks(renderer: Renderer, *layouts: str) -> set[str]:
    empty: set[str] = set()
    for layout in layouts:
        source = renderer.env.loader.get_source(renderer.env, layout)[0]  # type: ignore[union-attr]
        for block in renderer.env.parse(source).find_all(nodes.Block):
            (empty.discard if block.body else empty.add)(block.name)
    return empty


def test_every_apply_template_exists_in_every_locale() -> None:
    english = sorted(path.name for path in (APPLY / DEFAULT_LOCALE).glob("*.html"))
    assert english == sorted(["form.html", "_message.html", *(f"{kind}.html" for kind in NOTICES)])
    for locale in LOCALES:
        assert sorted(path.name for path in (APPLY / locale).glob("*.html")) == english, locale


@pytest.mark.parametrize("locale", LOCALES)
def test_each_locale_writes_every_text_of_the_layouts(renderer: Renderer, locale: str) -> None:
    form = _text_blocks(renderer, "portal/_base.html", "apply/_form.html")
    message = _text_blocks(renderer, "portal/_base.html", "apply/_message.html")
    assert {"heading", "field_label", "field_error", "summary_item", "submit", "honeypot_label"} <= form

    assert form - set(renderer.env.get_template(f"apply/{locale}/form.html").blocks) == set()
    for kind in NOTICES:
        filled = {*renderer.env.get_template(f"apply/{locale}/{kind}.html").blocks}
        filled |= {*renderer.env.get_template(f"apply/{locale}/_message.html").blocks}
        assert message - filled == set(), kind


@pytest.mark.parametrize("locale", LOCALES)
def test_pages_render_in_the_locale_with_every_error_named(renderer: Renderer, locale: str) -> None:
    pages = render_all(renderer, locale)

    for name, page in pages.items():
        assert f'<html lang="{locale}"' in page, name
        assert "{{" not in page and "None" not in visible_text(page), name
    form = pages["form"]
    assert form.count('class="error"') == 6 and form.count(' aria-invalid="true"') == 6
    assert form.count('<li><a href="#') == 6 and 'id="form-error"' in form
    assert 'value="ada@example"' in form and '<option value="fr" lang="fr" selected>' in form
    assert 'name="form_token" value="TOKEN"' in form and 'content="index, follow"' in form
    assert "Acme Shoes" in pages["thanks"] and " 3 " in f" {visible_text(pages['busy'])} "


@pytest.mark.parametrize("locale", [locale for locale in LOCALES if locale != DEFAULT_LOCALE])
def test_every_page_is_translated(renderer: Renderer, locale: str) -> None:
    english, translated = render_all(renderer, DEFAULT_LOCALE), render_all(renderer, locale)
    for name in english:
        assert visible_text(translated[name]) != visible_text(english[name]), name


def test_program_text_is_escaped(renderer: Renderer) -> None:
    hostile = FORM | {"program_name": "<script>x</script>", "page": FORM["page"] | {"terms": "<img src=x>"}}
    page = renderer.page("apply/form", "pl", hostile)
    assert "<script>x" not in page and "<img src=x>" not in page and "&lt;img src=x&gt;" in page
