"""Tracking links: ``GET /r/<code>`` redirects at once and counts the click afterwards."""

from __future__ import annotations

import logging
import uuid

from fastapi import APIRouter, BackgroundTasks, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from sqlalchemy import Engine

from partnerflow.api.deps import EngineDep, SettingsDep
from partnerflow.api.rate_limits import client_ip, limits_for
from partnerflow.store import onboarding as store
from partnerflow.store.db import session_scope
from partnerflow.store.models import TrackingLink, utcnow

log = logging.getLogger(__name__)
router = APIRouter(tags=["tracking"])


@router.get("/r/{code}", status_code=status.HTTP_302_FOUND, response_class=RedirectResponse)
async def follow_tracking_link(
    code: str, request: Request, engine: EngineDep, settings: SettingsDep, background: BackgroundTasks
) -> RedirectResponse:
    """302 to the program's landing page; the click is stored after the response is sent.

    Over PARTNERFLOW_RATE_LIMIT_REDIRECT from one address the visitor is still redirected, but
    the click is not counted: a person always reaches the page, a click farm earns nothing.
    """
    landing = await run_in_threadpool(_landing_for, engine, settings.default_landing_url, code)
    if landing is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown tracking code {code!r}")
    over = await run_in_threadpool(limits_for(request).hit, "redirect", client_ip(request))
    if over is None:
        background.add_task(_count_click, engine, code, f"click-{uuid.uuid4().hex}")
    else:
        log.info("click on %s from %s not counted: over the redirect rate limit", code, client_ip(request))
    separator = "&" if "?" in landing else "?"
    return RedirectResponse(f"{landing}{separator}ref={code}", status_code=status.HTTP_302_FOUND)


def _landing_for(engine: Engine, default_landing_url: str, code: str) -> str | None:
    with session_scope(engine) as session:
        link = session.get(TrackingLink, code)
        if link is None:
            return None
        return store.ensure_program(session, link.program, default_landing_url).landing_url


def _count_click(engine: Engine, code: str, event_id: str) -> None:
    try:
        with session_scope(engine) as session:
            link = session.get(TrackingLink, code)
            if link:
                store.record_click(session, link, event_id, utcnow())
    except Exception:  # a lost click must never surface to the visitor
        log.exception("could not record a click on %s", code)
