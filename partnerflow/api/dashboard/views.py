"""Rendering of dashboard pages: one autoescaped Jinja environment, filters, pagination."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from partnerflow.api.dashboard.auth import CSRF_FIELD, FLASH_COOKIE, PATH, DashboardSession, read_flash
from partnerflow.domain import cursors
from partnerflow.domain.cursors import Position
from partnerflow.rendering import links
from partnerflow.rendering.templates import TEMPLATES_DIR
from partnerflow.store.models import utcnow

PAGE_SIZE = 50
# Pages show who decided what: keep them out of caches and other sites' frames. The Content-Security-
# Policy and nosniff come from api/security.py, like every page's; links out send no Referer at all.
HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}
NAV = (
    ("pipeline", "Pipeline", PATH),
    ("applications", "Applications", f"{PATH}/applications"),
    ("programs", "Programs", f"{PATH}/programs"),
    ("campaigns", "Campaigns", f"{PATH}/campaigns"),
    ("migrations", "Migrations", f"{PATH}/migrations"),
    ("webinars", "Webinars", f"{PATH}/webinars"),
    ("webhooks", "Webhooks", f"{PATH}/webhooks"),
    ("outbox", "Outbox", f"{PATH}/outbox"),
)


@dataclass(frozen=True)
class Page:
    """One page of a list: ``number`` is 1-based and clamped to the pages that exist."""

    number: int
    total: int
    size: int = PAGE_SIZE

    @classmethod
    def of(cls, requested: int, total: int, size: int = PAGE_SIZE) -> Page:
        last = max(1, math.ceil(total / size))
        return cls(min(max(requested, 1), last), total, size)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def first_item(self) -> int:
        return self.offset + 1 if self.total else 0

    @property
    def last_item(self) -> int:
        return min(self.offset + self.size, self.total)

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


@dataclass(frozen=True)
class KeysetNav:
    """Links of a keyset-paged list: the next page (by cursor) and, past the first, the first."""

    next_url: str | None
    first_url: str | None

    @classmethod
    def of(
        cls, base: str, kind: str, next: Position | None, after: Position | None, **params: object
    ) -> KeysetNav:
        query = {key: value for key, value in params.items() if value not in (None, "")}
        more = f"{base}?{urlencode({**query, 'cursor': cursors.encode(kind, next)})}" if next else None
        first = (f"{base}?{urlencode(query)}" if query else base) if after else None
        return cls(more, first)


def page_url(base: str, page: int, **params: object) -> str:
    query = {key: value for key, value in params.items() if value not in (None, "")}
    return f"{base}?{urlencode({**query, 'page': page})}"


def age(moment: datetime | None, now: datetime | None = None) -> str:
    """How long ago, in the largest sensible unit: ``3 d``, ``5 h``, ``12 min``."""
    if moment is None:
        return "—"
    delta = (now or utcnow()) - moment
    if delta >= timedelta(days=1):
        return f"{delta.days} d"
    if delta >= timedelta(hours=1):
        return f"{delta.seconds // 3600} h"
    return f"{max(delta.seconds // 60, 0)} min"


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def number(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def trend(value: float | None) -> str:
    """A change in words and sign, never colour alone."""
    if value is None:
        return "no comparison"
    if value == 0:
        return "unchanged"
    return f"{'up' if value > 0 else 'down'} {abs(value):.1f} %"


_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html", "svg"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_quote = _env.filters["urlencode"]


@lru_cache(maxsize=1024)
def _quote_text(value: str) -> str:
    return str(_quote(value))


def quote_url(value: Any) -> str:
    """Jinja's ``urlencode``, remembered for strings: the board quotes the same few programs 300 times."""
    return _quote_text(value) if isinstance(value, str) else str(_quote(value))


_env.filters.update(age=age, when=when, number=number, percent=percent, trend=trend, urlencode=quote_url)
links.install(_env)
_env.globals.update(page_url=page_url, csrf_field=CSRF_FIELD, nav=NAV)


def render(
    request: Request,
    template: str,
    session: DashboardSession | None,
    *,
    active: str = "",
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A dashboard page (``templates/dashboard/<template>.html``) with the flash message, if any."""
    settings = request.app.state.settings
    message = read_flash(request, settings)
    html = _env.get_template(f"dashboard/{template}.html").render(
        manager=session.manager if session else None,
        csrf_token=session.csrf_token if session else "",
        flash=message,
        active=active,
        **context,
    )
    response = HTMLResponse(html, status_code, headers=HEADERS)
    if request.cookies.get(FLASH_COOKIE):
        response.delete_cookie(FLASH_COOKIE, path=PATH)
    return response


def not_found(request: Request, session: DashboardSession, what: str) -> HTMLResponse:
    return render(request, "not_found", session, status_code=404, what=what)
