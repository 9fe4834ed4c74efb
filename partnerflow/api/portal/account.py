"""The partner's self-serve page (results, tier, link builder, webinars, resources, email
preferences) and the preferences form."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import Engine

from partnerflow.api.deps import EngineDep, SettingsDep
from partnerflow.api.errors import responses
from partnerflow.api.portal.access import LINK_REFUSED, PRIVATE, Denied, as_pages, partner_for, render
from partnerflow.api.portal.pages import live_or_stored
from partnerflow.api.portal.selfserve import account_context
from partnerflow.config import Settings
from partnerflow.domain.deep_links import MAX_TARGET
from partnerflow.domain.locales import locale_for
from partnerflow.store.db import session_scope
from partnerflow.store.models import Partner
from partnerflow.store.partners import set_nudges

router = APIRouter()
TO = Query(max_length=MAX_TARGET, description="link builder: a page of the landing site (path or URL)")


@router.get(
    "/{token}/account",
    response_class=HTMLResponse,
    responses={**as_pages(responses(forbidden=LINK_REFUSED)), **responses(422)},
)
async def account_page(
    token: str,
    request: Request,
    settings: SettingsDep,
    engine: EngineDep,
    to: Annotated[str | None, TO] = None,
    saved: bool = False,
) -> Response:
    """The partner's results and tier for the current period, link builder, webinars and preferences."""
    try:
        partner = await partner_for(request, settings, engine, token)
    except Denied as denied:
        return denied.response
    live = await live_or_stored(request.app.state.temporal, partner)
    context = await run_in_threadpool(_context, engine, settings, partner, live.tier, to)
    return render("account", locale_for(partner.locale), base_url=f"/portal/{token}", saved=saved, **context)


@router.post(
    "/{token}/preferences",
    status_code=status.HTTP_303_SEE_OTHER,
    response_class=Response,
    responses={
        303: {"description": "saved: back to the self-serve page"},
        **as_pages(responses(forbidden=LINK_REFUSED)),
        **responses(unprocessable_entity="`nudges` is not on or off"),
    },
)
async def set_preferences(
    token: str,
    request: Request,
    settings: SettingsDep,
    engine: EngineDep,
    nudges: Annotated[Literal["on", "off"], Form(description="tips and reminders: on or off")],
) -> Response:
    """Unsubscribe from, or resubscribe to, tips and reminders (the unsubscribe link's switch)."""
    try:
        partner = await partner_for(request, settings, engine, token)
    except Denied as denied:
        return denied.response
    await run_in_threadpool(_save, engine, partner.id, nudges == "on")
    target = f"/portal/{token}/account?saved=true#preferences"
    return RedirectResponse(target, status.HTTP_303_SEE_OTHER, headers=PRIVATE)


def _context(
    engine: Engine, settings: Settings, partner: Partner, tier: str | None, to: str | None
) -> dict[str, Any]:
    with session_scope(engine) as session:
        return account_context(session, settings, partner, tier, to)


def _save(engine: Engine, partner_id: str, subscribed: bool) -> None:
    with session_scope(engine) as session:
        set_nudges(session, partner_id, subscribed)
