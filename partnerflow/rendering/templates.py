"""Jinja2 rendering of emails, web pages and Slack messages (``templates/``), one template per locale."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)

from partnerflow.domain.stages import DEFAULT_LOCALE
from partnerflow.rendering import links

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
SUBJECT_PREFIX = "Subject:"


@dataclass
class RenderedEmail:
    subject: str
    text: str
    html: str


class TemplateError(Exception):
    """A template is missing or malformed: a bug to fix, not a reason to retry."""


class Renderer:
    """Renders ``emails/<locale>/<name>.{txt,html}``, ``<section>/<locale>/<name>.html`` pages
    (the partner portal) and ``slack/<name>.txt``.

    The first line of every email ``.txt`` template is ``Subject: ...``; the rest is the body.
    A locale without its own template falls back to English; templates see the locale they were
    rendered in as ``locale``.
    """

    def __init__(self, templates_dir: Path = TEMPLATES_DIR) -> None:
        self.env = Environment(
            loader=FileSystemLoader(templates_dir),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        links.install(self.env)  # safe_url: every href/src built from a value goes through it

    def email(self, name: str, locale: str, context: dict[str, Any]) -> RenderedEmail:
        text = self._render_localized("emails", f"{name}.txt", locale, context)
        first, _, body = text.partition("\n")
        if not first.startswith(SUBJECT_PREFIX):
            raise TemplateError(f"email template {name!r} must start with '{SUBJECT_PREFIX} ...'")
        html = self._render_localized("emails", f"{name}.html", locale, context)
        return RenderedEmail(
            subject=first.removeprefix(SUBJECT_PREFIX).strip(), text=body.strip() + "\n", html=html
        )

    def page(self, name: str, locale: str, context: dict[str, Any]) -> str:
        """The web page ``<section>/<locale>/<page>.html`` for ``name="<section>/<page>"``."""
        section, _, page = name.rpartition("/")
        return self._render_localized(section, f"{page}.html", locale, context)

    def slack(self, name: str, context: dict[str, Any]) -> str:
        try:
            return self._render(f"slack/{name}.txt", context).strip()
        except TemplateNotFound as exc:
            raise TemplateError(f"no Slack template {name!r}") from exc

    def _render_localized(self, section: str, file: str, locale: str, context: dict[str, Any]) -> str:
        """``<section>/<locale>/<file>``, else the English one (the same fallback for every channel)."""
        for candidate in dict.fromkeys((locale, DEFAULT_LOCALE)):
            try:
                return self._render(f"{section}/{candidate}/{file}", {**context, "locale": candidate})
            except TemplateNotFound:
                continue
        raise TemplateError(f"no template {section}/<locale>/{file} for {locale!r} or {DEFAULT_LOCALE!r}")

    def _render(self, path: str, context: dict[str, Any]) -> str:
        try:
            return self.env.get_template(path).render(context)
        except TemplateNotFound:
            raise
        except Exception as exc:  # undefined variable, syntax error: surface the template name
            raise TemplateError(f"template {path}: {exc}") from exc
