"""'Send me a fresh link': an expired portal link asks the partner's workflow to email a new one."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.concurrency import run_in_threadpool

from partnerflow.api.deps import EngineDep, SettingsDep, TemporalDep
from partnerflow.api.errors import responses
from partnerflow.api.portal.access import as_pages, load_partner, notice
from partnerflow.domain.stages import Stage
from partnerflow.rendering.tokens import PortalTokenExpired, PortalTokenInvalid, read_portal_token
from partnerflow.services.portal import NoPortal, request_portal_link

log = logging.getLogger(__name__)
router = APIRouter()
_HTML: dict[str, dict[str, str]] = {"text/html": {}}


@router.post(
    "/resend",
    response_class=Response,  # the pages are HTML; a 422 is FastAPI's JSON
    responses={
        200: {"description": "'check your email' (for any partner: it reveals nothing)", "content": _HTML},
        **as_pages(
            responses(
                forbidden="not a portal link (tampered or foreign)",
                conflict="the partnership has no portal (any more): nothing to send",
                service_unavailable="the request could not reach the partner's workflow; try again later",
            )
        ),
        **responses(unprocessable_entity="no `token` field"),
    },
)
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
        return notice(request, None, 403, "invalid")
    partner = await run_in_threadpool(load_partner, engine, partner_id)
    if partner is None or partner.stage == Stage.REJECTED:  # same answer: reveal nothing
        return notice(request, None, 200, "resent")
    try:
        await request_portal_link(client, partner.id)
    except NoPortal as exc:
        log.info("no fresh portal link for partner %s: %s", partner.id, exc)
        return notice(request, partner, 409, "resend_failed")
    except Exception:
        log.exception("could not ask for a fresh portal link for partner %s", partner.id)
        return notice(request, partner, 503, "resend_failed")
    return notice(request, partner, 200, "resent")
