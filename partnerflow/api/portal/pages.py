"""The partner's portal page and their webinar invitation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine
from sqlmodel import select
from temporalio.client import Client

from partnerflow.api.deps import EngineDep, SettingsDep
from partnerflow.api.errors import responses
from partnerflow.api.portal.access import (
    LINK_REFUSED,
    PRIVATE,
    Denied,
    as_pages,
    notice,
    partner_for,
    render,
)
from partnerflow.config import Settings
from partnerflow.domain.lifecycle import PartnerStatus
from partnerflow.domain.locales import locale_for
from partnerflow.domain.stages import CHECKLIST_ITEMS, Stage, empty_checklist
from partnerflow.rendering.calendar import webinar_context, webinar_ics
from partnerflow.services.partners import live_status
from partnerflow.store import onboarding
from partnerflow.store.db import session_scope
from partnerflow.store.models import Partner, TrackingLink, Webinar

router = APIRouter()

_QUERY_TIMEOUT = timedelta(seconds=3)


@router.get(
    "/{token}",
    response_class=HTMLResponse,
    responses={**as_pages(responses(forbidden=LINK_REFUSED)), **responses(422)},
)
async def portal_page(token: str, request: Request, settings: SettingsDep, engine: EngineDep) -> Response:
    """The partner's portal page (HTML): checklist, terms, tracking link, webinar, resources."""
    try:
        partner = await partner_for(request, settings, engine, token)
        live = await live_or_stored(request.app.state.temporal, partner)
        if live.stage == Stage.REJECTED:
            raise Denied(notice(request, partner, 403, "rejected"))
    except Denied as denied:
        return denied.response
    context = await run_in_threadpool(_page_context, engine, settings, partner, live)
    return render("page", locale_for(partner.locale), base_url=f"/portal/{token}", **context)


@router.get(
    "/{token}/webinar.ics",
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}},
        **as_pages(responses(forbidden=LINK_REFUSED)),
        **responses(422, not_found="no upcoming webinar"),
    },
)
async def webinar_calendar(
    token: str, request: Request, settings: SettingsDep, engine: EngineDep
) -> Response:
    """The partner's upcoming webinar as an iCalendar invitation."""
    try:
        partner = await partner_for(request, settings, engine, token)
    except Denied as denied:
        return denied.response
    webinar = await run_in_threadpool(_upcoming_webinar, engine, partner.id)
    if webinar is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no upcoming webinar")
    ics = webinar_ics(webinar, partner.email, partner.name, settings, sequence=webinar.sequence)
    headers = PRIVATE | {"Content-Disposition": 'attachment; filename="webinar.ics"'}
    return Response(ics, media_type="text/calendar; charset=utf-8", headers=headers)


async def live_or_stored(client: Client | None, partner: Partner) -> PartnerStatus:
    """Stage and checklist from the workflow; the stored stage, nothing ticked, if it can't answer."""
    stored = PartnerStatus(partner.id, Stage(partner.stage), empty_checklist(), partner.tier, [])
    return await live_status(client, partner.id, stored, _QUERY_TIMEOUT, tolerate_errors=True)


def _page_context(
    engine: Engine, settings: Settings, partner: Partner, live: PartnerStatus
) -> dict[str, Any]:
    """What ``templates/portal/_page.html`` shows; the words are the locale template's."""
    with session_scope(engine) as session:
        terms = onboarding.current_terms(session, partner.program)
        accepted = onboarding.acceptance_of(session, partner.id, terms) if terms else None
        latest = onboarding.latest_acceptance(session, partner.id)
        tier = live.tier or partner.tier
        resources = onboarding.resources_for(session, partner.program, partner.locale, tier)
        link = session.exec(select(TrackingLink).where(TrackingLink.partner_id == partner.id)).first()
        seat = onboarding.upcoming_seat(session, partner.id)
    # The store knows of an acceptance before the workflow has taken the signal (or when it can't answer).
    done = live.checklist | ({"terms_accepted": True} if accepted else {})
    checklist = [{"key": key, "done": bool(done.get(key))} for key in CHECKLIST_ITEMS]
    outdated = terms and not accepted and latest and latest.version < terms.version
    return {
        "partner_name": partner.name,
        "stage": live.stage.value,
        "checklist": checklist,
        "done": sum(item["done"] for item in checklist),
        "total": len(checklist),
        "terms": terms,
        "accepted": accepted
        and {"version": accepted.version, "date": accepted.accepted_at.date().isoformat()},
        "outdated_version": latest.version if outdated and latest else None,
        "resources": resources,
        "tracking_url": settings.tracking_url(link.code) if link else None,
        "webinar": webinar_context(seat[0], partner.locale) if seat else None,
    }


def _upcoming_webinar(engine: Engine, partner_id: str) -> Webinar | None:
    with session_scope(engine) as session:
        found = onboarding.upcoming_seat(session, partner_id)
    return found[0] if found else None
