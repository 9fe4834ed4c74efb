"""Partner portal: one signed link shows a partner their onboarding, terms, tracking link and webinar.

The partner id comes only from the verified token, so a link never shows or changes anyone else's data.
Pages are server-rendered HTML that work without JavaScript.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Engine
from temporalio.client import Client

from partnerflow.api.deps import EngineDep, SettingsDep, TemporalDep
from partnerflow.api.portal_page import page_context
from partnerflow.api.portal_text import locale_for, texts
from partnerflow.config import Settings
from partnerflow.domain.lifecycle import PartnerStatus
from partnerflow.domain.limits import MAX_ID
from partnerflow.domain.onboarding import TermsAccepted
from partnerflow.domain.stages import Stage, empty_checklist
from partnerflow.rendering.calendar import webinar_ics
from partnerflow.rendering.templates import Renderer
from partnerflow.rendering.tokens import PortalTokenExpired, PortalTokenInvalid, read_portal_token
from partnerflow.services.partners import live_status, signal_terms_accepted
from partnerflow.services.portal import NoPortal, request_portal_link
from partnerflow.store import onboarding
from partnerflow.store.db import session_scope
from partnerflow.store.models import Partner, TermsAcceptance, Webinar

log = logging.getLogger(__name__)
router = APIRouter(prefix="/portal", tags=["portal"])

_renderer = Renderer()  # one Jinja environment (autoescaped) for portal pages and the resend email
_QUERY_TIMEOUT = timedelta(seconds=3)
# The token is in the URL: keep it out of caches, search engines and other sites' Referer headers.
_PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
_DENIED: dict[int | str, dict[str, Any]] = {403: {"description": "invalid, expired or not-approved link"}}
_DETAILS = {  # JSON answers (``detail``); pages use the partner's language instead
    "invalid": "this link is not valid",
    "expired": "this link has expired; POST it as `token` to /portal/resend for a fresh one",
    "rejected": "this portal is for approved partners",
    "conflict": "terms changed, please review version %(version)s",
    "no_terms": "no terms published yet",
}


class AcceptBody(BaseModel):
    version: int | None = Field(None, ge=1, le=MAX_ID)  # the version read; refused if no longer current


class TermsAcceptedResponse(BaseModel):
    partner_id: str
    version: int
    accepted_at: datetime
    already_accepted: bool


class _Denied(Exception):
    """Stop handling the request and answer with ``response``."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


@router.get("/{token}", response_class=HTMLResponse, responses=_DENIED)
async def portal_page(token: str, request: Request, settings: SettingsDep, engine: EngineDep) -> Response:
    """The partner's portal page (HTML): checklist, terms, tracking link, webinar, resources."""
    try:
        partner = await _partner_for(request, settings, engine, token)
        live = await _live_status(request.app.state.temporal, partner)
        if live.stage == Stage.REJECTED:
            raise _Denied(_notice(request, partner, 403, "rejected"))
    except _Denied as denied:
        return denied.response
    context = await run_in_threadpool(page_context, engine, settings, partner, live)
    return _render("page", partner.locale, base_url=f"/portal/{token}", **context)


@router.post(
    "/{token}/terms/accept",
    response_model=TermsAcceptedResponse,
    responses={303: {"description": "form post: back to the portal"}, 409: {}, **_DENIED},
)
async def accept_terms(
    token: str, request: Request, settings: SettingsDep, engine: EngineDep, client: TemporalDep
) -> Response:
    """Accept the current terms (form or JSON, optional ``version``); idempotent."""
    as_json = request.headers.get("content-type", "").startswith("application/json")
    try:
        partner = await _partner_for(request, settings, engine, token, as_json)
        body = await _accept_body(request, as_json)
        acceptance, created = await run_in_threadpool(
            _accept, engine, partner, body.version, _client_ip(request), request.headers.get("user-agent")
        )
    except _Denied as denied:
        return denied.response
    except _Conflict as conflict:
        back = f"/portal/{token}"
        return _notice(request, partner, 409, conflict.kind, as_json, back_url=back, values=conflict.values)
    await _signal_acceptance(client, acceptance)
    if not as_json:
        return RedirectResponse(f"/portal/{token}", status.HTTP_303_SEE_OTHER, headers=_PRIVATE)
    result = TermsAcceptedResponse(
        partner_id=partner.id,
        version=acceptance.version,
        accepted_at=acceptance.accepted_at,
        already_accepted=not created,
    )
    return JSONResponse(result.model_dump(mode="json"), headers=_PRIVATE)


@router.get(
    "/{token}/webinar.ics",
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}},
        404: {"description": "no upcoming webinar"},
        **_DENIED,
    },
)
async def webinar_calendar(
    token: str, request: Request, settings: SettingsDep, engine: EngineDep
) -> Response:
    """The partner's upcoming webinar as an iCalendar invitation."""
    try:
        partner = await _partner_for(request, settings, engine, token)
    except _Denied as denied:
        return denied.response
    webinar = await run_in_threadpool(_upcoming_webinar, engine, partner.id)
    if webinar is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no upcoming webinar")
    ics = webinar_ics(webinar, partner.email, partner.name, settings)
    headers = _PRIVATE | {"Content-Disposition": 'attachment; filename="webinar.ics"'}
    return Response(ics, media_type="text/calendar; charset=utf-8", headers=headers)


@router.post("/resend", response_class=HTMLResponse, responses={403: {"description": "not a portal link"}})
async def resend_link(
    request: Request,
    settings: SettingsDep,
    engine: EngineDep,
    client: TemporalDep,
    token: Annotated[str, Form()],
) -> Response:
    """Email a fresh portal link for an (expired) link; at most one per partner per day."""
    try:
        partner_id = read_portal_token(settings.portal_signing_key, token, settings.portal_link_ttl)
    except PortalTokenExpired as exc:
        partner_id = exc.partner_id
    except PortalTokenInvalid:
        return _notice(request, None, 403, "invalid")
    partner = await run_in_threadpool(_load_partner, engine, partner_id)
    if partner is None or partner.stage == Stage.REJECTED:  # same answer: reveal nothing
        return _notice(request, None, 200, "resent")
    try:
        await request_portal_link(client, partner.id)
    except NoPortal as exc:
        log.info("no fresh portal link for partner %s: %s", partner.id, exc)
        return _notice(request, partner, 409, "resend_failed")
    except Exception:
        log.exception("could not ask for a fresh portal link for partner %s", partner.id)
        return _notice(request, partner, 503, "resend_failed")
    return _notice(request, partner, 200, "resent")


# --- helpers ---------------------------------------------------------------------------------------


async def _partner_for(
    request: Request, settings: Settings, engine: Engine, token: str, as_json: bool = False
) -> Partner:
    """The token's partner; raises _Denied (403) for bad, expired or rejected-partner links."""
    try:
        partner_id = read_portal_token(settings.portal_signing_key, token, settings.portal_link_ttl)
    except PortalTokenExpired as exc:
        partner = await run_in_threadpool(_load_partner, engine, exc.partner_id)
        raise _Denied(_notice(request, partner, 403, "expired", as_json, resend_token=token)) from exc
    except PortalTokenInvalid as exc:
        raise _Denied(_notice(request, None, 403, "invalid", as_json)) from exc
    partner = await run_in_threadpool(_load_partner, engine, partner_id)
    if partner is None:
        raise _Denied(_notice(request, None, 403, "invalid", as_json))
    if partner.stage == Stage.REJECTED:
        raise _Denied(_notice(request, partner, 403, "rejected", as_json))
    return partner


def _notice(
    request: Request,
    partner: Partner | None,
    status_code: int,
    kind: str,
    as_json: bool = False,
    resend_token: str | None = None,
    back_url: str | None = None,
    values: dict[str, object] | None = None,
) -> Response:
    """A one-message page (``<kind>_title``/``<kind>_body`` strings), or its JSON ``detail``."""
    locale = locale_for(partner.locale if partner else None, request.headers.get("accept-language"))
    if as_json:
        detail = _DETAILS.get(kind, kind) % (values or {})
        return JSONResponse({"detail": detail}, status_code, headers=_PRIVATE)
    t = texts(locale)
    return _render(
        "message",
        locale,
        status_code,
        heading=t[f"{kind}_title"],
        message=t[f"{kind}_body"] % (values or {}),
        resend_token=resend_token,
        back_url=back_url,
    )


def _render(name: str, locale: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    locale = locale_for(locale)
    page = _renderer.env.get_template(f"portal/{name}.html").render(locale=locale, t=texts(locale), **context)
    return HTMLResponse(page, status_code, headers=_PRIVATE)


async def _live_status(client: Client | None, partner: Partner) -> PartnerStatus:
    """Stage and checklist from the workflow; the stored stage, nothing ticked, if it can't answer."""
    stored = PartnerStatus(partner.id, Stage(partner.stage), empty_checklist(), partner.tier, [])
    return await live_status(client, partner.id, stored, _QUERY_TIMEOUT, tolerate_errors=True)


async def _accept_body(request: Request, as_json: bool) -> AcceptBody:
    if as_json:
        raw = await request.body()
        data: Any = await request.json() if raw.strip() else {}
    else:
        data = {key: value for key, value in (await request.form()).items() if value != ""}
    try:
        return AcceptBody.model_validate(data if isinstance(data, dict) else {"version": data})
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from exc


def _accept(
    engine: Engine, partner: Partner, version: int | None, ip: str | None, user_agent: str | None
) -> tuple[TermsAcceptance, bool]:
    with session_scope(engine) as session:
        terms = onboarding.current_terms(session, partner.program)
        if terms is None:
            raise _Conflict("no_terms")
        if version is not None and version != terms.version:
            raise _Conflict("conflict", version=terms.version)
        return onboarding.record_acceptance(session, partner.id, terms, ip=ip, user_agent=user_agent)


class _Conflict(Exception):
    def __init__(self, kind: str, **values: object) -> None:
        super().__init__(kind)
        self.kind, self.values = kind, values


async def _signal_acceptance(client: Client, acceptance: TermsAcceptance) -> None:
    """Tell the workflow (again, harmlessly, on a repeat: it may have missed the first signal)."""
    accepted = TermsAccepted(acceptance.version, acceptance.accepted_at)
    await signal_terms_accepted(client, acceptance.partner_id, accepted)


def _client_ip(request: Request) -> str | None:
    forwarded = request.headers.get("x-forwarded-for", "").split(",")[0].strip()
    return (forwarded or (request.client.host if request.client else ""))[:64] or None


def _load_partner(engine: Engine, partner_id: str) -> Partner | None:
    with session_scope(engine) as session:
        return session.get(Partner, partner_id)


def _upcoming_webinar(engine: Engine, partner_id: str) -> Webinar | None:
    with session_scope(engine) as session:
        found = onboarding.upcoming_seat(session, partner_id)
    return found[0] if found else None
