"""What every portal route shares: reading the signed link, and answering with a page in the
partner's language (or, for JSON requests, a ``{"detail"}`` body)."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import Engine

from partnerflow.config import Settings
from partnerflow.domain.locales import locale_for
from partnerflow.domain.stages import Stage
from partnerflow.rendering.templates import Renderer
from partnerflow.rendering.tokens import PortalTokenExpired, PortalTokenInvalid, read_portal_token
from partnerflow.store.db import session_scope
from partnerflow.store.models import Partner

_renderer = Renderer()  # one Jinja environment (autoescaped), the same fallback as emails
# The token is in the URL: keep it out of caches, search engines and other sites' Referer headers.
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
LINK_REFUSED = "tampered, foreign or expired link, or a rejected partner's (expired: it offers a fresh one)"
_DETAILS = {  # JSON answers (``detail``); pages use the partner's language instead
    "invalid": "this link is not valid",
    "expired": "this link has expired; POST it as `token` to /portal/resend for a fresh one",
    "rejected": "this portal is for approved partners",
    "conflict": "terms changed, please review version %(version)s",
    "no_terms": "no terms published yet",
}


class Denied(Exception):
    """Stop handling the request and answer with ``response``."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


Answers = dict[int | str, dict[str, Any]]


def as_pages(answers: Answers, json_too: bool = False) -> Answers:
    """Error ``answers`` (``api.errors.responses``) that a browser gets as an HTML page; with
    ``json_too``, a JSON request gets the ``{"detail"}`` body instead."""
    pages: Answers = {}
    for code, answer in answers.items():
        pages[code] = {"description": answer["description"], "content": {"text/html": {}}}
        if json_too:
            pages[code]["model"] = answer["model"]
    return pages


async def partner_for(
    request: Request, settings: Settings, engine: Engine, token: str, as_json: bool = False
) -> Partner:
    """The token's partner; raises Denied (403) for bad, expired or rejected-partner links."""
    try:
        partner_id = read_portal_token(settings.portal_signing_key, token, settings.portal_link_ttl)
    except PortalTokenExpired as exc:
        partner = await run_in_threadpool(load_partner, engine, exc.partner_id)
        raise Denied(notice(request, partner, 403, "expired", as_json, resend_token=token)) from exc
    except PortalTokenInvalid as exc:
        raise Denied(notice(request, None, 403, "invalid", as_json)) from exc
    partner = await run_in_threadpool(load_partner, engine, partner_id)
    if partner is None:
        raise Denied(notice(request, None, 403, "invalid", as_json))
    if partner.stage == Stage.REJECTED:
        raise Denied(notice(request, partner, 403, "rejected", as_json))
    return partner


def notice(
    request: Request,
    partner: Partner | None,
    status_code: int,
    kind: str,
    as_json: bool = False,
    resend_token: str | None = None,
    back_url: str | None = None,
    values: dict[str, object] | None = None,
) -> Response:
    """A one-message page (``templates/portal/<locale>/<kind>.html``), or its JSON ``detail``."""
    if as_json:
        detail = _DETAILS.get(kind, kind) % (values or {})
        return JSONResponse({"detail": detail}, status_code, headers=PRIVATE)
    locale = locale_for(partner.locale if partner else None, request.headers.get("accept-language"))
    context = {"resend_token": resend_token, "back_url": back_url, **(values or {})}
    return render(kind, locale, status_code, **context)


def render(name: str, locale: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The portal page ``name`` in ``locale`` (English when it has no such template)."""
    page = _renderer.page(f"portal/{name}", locale, context)
    return HTMLResponse(page, status_code, headers=PRIVATE)


def load_partner(engine: Engine, partner_id: str) -> Partner | None:
    with session_scope(engine) as session:
        return session.get(Partner, partner_id)
