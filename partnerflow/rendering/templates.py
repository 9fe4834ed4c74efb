"""Jinja2 rendering of email and Slack templates (``templates/``)."""

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
    """Renders ``emails/<locale>/<name>.{txt,html}`` and ``slack/<name>.txt``.

    The first line of every email ``.txt`` template is ``Subject: ...``; the rest is the body.
    A locale without its own template falls back to English.
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
        text = self._render_localized(name, "txt", locale, context)
        first, _, body = text.partition("\n")
        if not first.startswith(SUBJECT_PREFIX):
            raise TemplateError(f"email template {name!r} must start with '{SUBJECT_PREFIX} ...'")
        html = self._render_localized(name, "html", locale, context)
        return RenderedEmail(
            subject=first.removeprefix(SUBJECT_PREFIX).strip(), text=body.strip() + "\n", html=html
        )

    def slack(self, name: str, context: dict[str, Any]) -> str:
        try:
            return self._render(f"slack/{name}.txt", context).strip()
        except TemplateNotFound as exc:
            raise TemplateError(f"no Slack template {name!r}") from exc

    def _render_localized(self, name: str, ext: str, locale: str, context: dict[str, Any]) -> str:
        for candidate in dict.fromkeys((locale, DEFAULT_LOCALE)):
            try:
                return self._render(f"emails/{candidate}/{name}.{ext}", {**context, "locale": candidate})
            except TemplateNotFound:
                continue
        raise TemplateError(f"no email template {name!r} ({ext}) for {locale!r} or {DEFAULT_LOCALE!r}")

    def _render(self, path: str, context: dict[str, Any]) -> str:
        try:
            return self.env.get_template(path).render(context)
        except TemplateNotFound:
            raise
        except Exception as exc:  # undefined variable, syntax error: surface the template name
            raise TemplateError(f"template {path}: {exc}") from exc
