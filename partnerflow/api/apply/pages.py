"""The hosted application page: ``GET /apply/{program}`` shows the program and its form,
``POST`` applies (the signup webhook's use case) and answers 303 to the thank-you page.

Every answer is a page in the visitor's language (``?lang=``, else ``Accept-Language``), one
template per locale (``templates/apply/<locale>/``, see docs/i18n.md).
"""

from __future__ import annotations

import logging
import math
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import Engine

from partnerflow.api.apply import fields, guard
from partnerflow.api.deps import EngineDep, SettingsDep
from partnerflow.api.errors import responses
from partnerflow.api.metrics import record_signup
from partnerflow.api.portal.access import as_pages
from partnerflow.api.rate_limits import client_ip, limits_for
from partnerflow.config import Settings
from partnerflow.domain.lifecycle import workflow_id_for
from partnerflow.domain.locales import locale_for
from partnerflow.domain.stages import LOCALES
from partnerflow.observability import context as log_context
from partnerflow.rendering.countries import country_options
from partnerflow.rendering.templates import Renderer
from partnerflow.services import signups
from partnerflow.store.db import session_scope
from partnerflow.store.models import Partner, Program, ProgramPage
from partnerflow.store.program_pages import page_for

log = logging.getLogger(__name__)
router = APIRouter(prefix="/apply", tags=["apply"])
_renderer = Renderer()

HEADERS = {
    "Cache-Control": "no-store",  # each render carries its own form token
    "Vary": "Accept-Language, Cookie",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # Never inside another site's frame, where a visitor could be tricked into applying.
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
}
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "de": "Deutsch", "pl": "Polski"}
LANG = Query(None, description="the page's language: en, fr, de or pl (else Accept-Language)")
_UNKNOWN = "no such program (a page in the visitor's language)"


@router.get(
    "/{program}",
    response_class=HTMLResponse,
    responses={**as_pages(responses(not_found=_UNKNOWN)), **responses(422)},
)
async def application_page(
    program: str, request: Request, settings: SettingsDep, engine: EngineDep, lang: str | None = LANG
) -> Response:
    """The program's page (name, description, commission, terms summary) with the application form."""
    locale = visitor_locale(request, lang)
    found = await run_in_threadpool(_program, engine, program, locale)
    if found is None:
        return notice("unknown", locale, status.HTTP_404_NOT_FOUND)
    return form_page(request, settings, found, locale, {"locale": locale}, {})


@router.post(
    "/{program}",
    status_code=status.HTTP_303_SEE_OTHER,
    response_class=Response,
    responses={
        303: {"description": "applied (or a repeat, or caught by the honeypot): to the thank-you page"},
        **as_pages(
            responses(
                bad_request="the form's token is missing, altered, expired or from another browser",
                not_found=_UNKNOWN,
                unprocessable_entity="a field is invalid: the form again, with the errors and the values",
                too_many_requests="too many posts from this address (with Retry-After)",
                service_unavailable="Temporal not reachable: the form again, to retry",
            )
        ),
    },
)
async def apply(
    program: str, request: Request, settings: SettingsDep, engine: EngineDep, lang: str | None = LANG
) -> Response:
    """Apply (form-encoded): starts the partner's workflow like the signup webhook, once per email."""
    locale = visitor_locale(request, lang)
    retry_after = limits_for(request).hit("apply", client_ip(request))
    if retry_after is not None:
        wait = math.ceil(retry_after)
        back = f"/apply/{quote(program, safe='')}?lang={locale}"
        page = notice("busy", locale, 429, minutes=-(-wait // 60), back_url=back)
        page.headers["Retry-After"] = str(wait)
        return page
    found = await run_in_threadpool(_program, engine, program, locale)
    if found is None:
        return notice("unknown", locale, status.HTTP_404_NOT_FOUND)
    form = await request.form()
    thanks = RedirectResponse(
        f"/apply/{quote(program, safe='')}/thanks?lang={locale}", status.HTTP_303_SEE_OTHER, headers=HEADERS
    )
    if str(form.get(guard.HONEYPOT_FIELD) or "").strip():
        log.info("application form for %s: honeypot filled, nothing recorded", program)
        return thanks
    values = fields.read(form)
    token = form.get(guard.TOKEN_FIELD)
    problem = guard.check_token(settings, program, token if isinstance(token, str) else "", request)
    if problem is not None:
        return form_page(
            request, settings, found, locale, values, {}, problem.value, status.HTTP_400_BAD_REQUEST
        )
    signup, errors = fields.check(values, program)
    if signup is None:
        return form_page(request, settings, found, locale, values, errors, status_code=422)
    client = request.app.state.temporal
    try:
        if client is None:
            raise ConnectionError("Temporal is not reachable yet")
        await signups.apply(engine, client, settings, signup, on_recorded=_observe(request))
    except Exception:
        log.exception("application to %s could not start its workflow", program)
        return form_page(request, settings, found, locale, values, {}, "unavailable", 503)
    return thanks


@router.get(
    "/{program}/thanks",
    response_class=HTMLResponse,
    responses={**as_pages(responses(not_found=_UNKNOWN)), **responses(422)},
)
async def thanks_page(program: str, request: Request, engine: EngineDep, lang: str | None = LANG) -> Response:
    """The thank-you page (the same whether the email was new, a repeat or a bot's)."""
    locale = visitor_locale(request, lang)
    found = await run_in_threadpool(_program, engine, program, locale)
    if found is None:
        return notice("unknown", locale, status.HTTP_404_NOT_FOUND)
    return notice("thanks", locale, program_name=found[0].name, back_url=None)


def _observe(request: Request) -> signups.OnRecorded:
    """Once the application is recorded: the partner's ids on later log lines, the signup counted."""

    def recorded(partner: Partner, created: bool) -> None:
        log_context.bind(partner_id=partner.id, workflow_id=workflow_id_for(partner.id))
        record_signup(request, partner.program, created)

    return recorded


def visitor_locale(request: Request, lang: str | None) -> str:
    """``?lang=`` when it is one of ours, else the browser's first supported language, else English."""
    chosen = (lang or "").strip().lower()
    return locale_for(chosen if chosen in LOCALES else None, request.headers.get("accept-language"))


def form_page(
    request: Request,
    settings: Settings,
    found: tuple[Program, ProgramPage | None],
    locale: str,
    values: dict[str, str],
    errors: dict[str, str],
    form_error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The page with a fresh form token (and the browser's nonce cookie, when it has none yet)."""
    program, text = found
    nonce, new = guard.browser_nonce(request)
    base = f"/apply/{quote(program.id, safe='')}"
    context: dict[str, Any] = {
        "program_name": program.name,
        "page": _text(text),
        "values": values,
        "errors": errors,
        "form_error": form_error,
        "action": f"{base}?lang={locale}",
        "token_field": guard.TOKEN_FIELD,
        "token": guard.form_token(settings, program.id, nonce),
        "honeypot": guard.HONEYPOT_FIELD,
        "countries": country_options(locale),
        "languages": [(code, LANGUAGE_NAMES[code], f"{base}?lang={code}") for code in LOCALES],
    }
    response = HTMLResponse(_renderer.page("apply/form", locale, context), status_code, headers=HEADERS)
    if new:
        guard.remember_nonce(response, settings, nonce)
    return response


def notice(kind: str, locale: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A one-message page (``templates/apply/<locale>/<kind>.html``)."""
    page = _renderer.page(f"apply/{kind}", locale, {"back_url": None} | context)
    return HTMLResponse(page, status_code, headers=HEADERS)


def _text(page: ProgramPage | None) -> dict[str, Any] | None:
    """The program's own words, paragraph by paragraph (shown escaped), and their language."""
    if page is None:
        return None
    paragraphs = [" ".join(part.split()) for part in page.description.split("\n\n") if part.strip()]
    return {
        "lang": page.locale,
        "description": paragraphs,
        "commission": page.commission_summary.strip(),
        "terms": page.terms_summary.strip(),
    }


def _program(engine: Engine, program: str, locale: str) -> tuple[Program, ProgramPage | None] | None:
    """The program (None when no one set it up) and its page text in ``locale`` (or a fallback)."""
    with session_scope(engine) as session:
        row = session.get(Program, program)
        return (row, page_for(session, program, locale)) if row else None
