"""Tracking links: ``GET /r/<code>`` redirects at once and counts the click afterwards.

Migrated partners' old codes lead to their tracking link too, in the path or in the query-string
forms their old platforms used: ``/r?ref=<code>`` (Tapfiliate) and ``/r?via=<code>`` (Rewardful).
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from sqlalchemy import Engine

from partnerflow.api.deps import EngineDep, SettingsDep
from partnerflow.api.errors import responses
from partnerflow.api.rate_limits import client_ip, limits_for
from partnerflow.domain.deep_links import MAX_TARGET, DeepLinkError, landing_link, landing_path
from partnerflow.store import onboarding as store
from partnerflow.store.db import session_scope
from partnerflow.store.models import utcnow

log = logging.getLogger(__name__)
router = APIRouter(tags=["tracking"])
CODE = Query(max_length=200, description="a partner's code, current or from the old platform")
TO = Query(
    max_length=MAX_TARGET,
    description="a page of the landing site: a path (/pricing) or a URL on the landing host",
)


@router.get(
    "/r/{code}",
    status_code=status.HTTP_302_FOUND,
    response_class=RedirectResponse,
    responses=responses(
        bad_request="`to` is not a page of the program's landing site (never another site)",
        not_found="unknown tracking code",
        unprocessable_entity="`to` longer than 1,000 characters",
    ),
)
async def follow_tracking_link(
    code: str,
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    background: BackgroundTasks,
    to: Annotated[str | None, TO] = None,
) -> RedirectResponse:
    """302 to the program's landing page (or ``to``, a page on its host); the click is stored
    after the response is sent."""
    return await _follow(code, request, engine, settings.default_landing_url, background, to)


@router.get(
    "/r",
    status_code=status.HTTP_302_FOUND,
    response_class=RedirectResponse,
    responses=responses(422, bad_request="no code given", not_found="unknown code"),
)
async def follow_old_link(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    background: BackgroundTasks,
    ref: Annotated[str | None, CODE] = None,
    via: Annotated[str | None, CODE] = None,
) -> RedirectResponse:
    """``/r?ref=<code>`` (Tapfiliate's form) or ``/r?via=<code>`` (Rewardful's): the same as ``/r/<code>``."""
    code = (ref or via or "").strip()
    if not code:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "no referral code: use /r/<code>, /r?ref=<code> or /r?via=<code>"
        )
    return await _follow(code, request, engine, settings.default_landing_url, background)


async def _follow(
    code: str,
    request: Request,
    engine: Engine,
    default_landing_url: str,
    background: BackgroundTasks,
    to: str | None = None,
) -> RedirectResponse:
    """Over PARTNERFLOW_RATE_LIMIT_REDIRECT from one address the visitor is still redirected, but
    the click is not counted: a person always reaches the page, a click farm earns nothing."""
    found = await run_in_threadpool(_landing_for, engine, default_landing_url, code)
    if found is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"unknown tracking code {code!r}: it is no partner's tracking link or migrated referral code",
        )
    landing, partner_code = found
    if to is not None:
        try:
            target = landing_link(landing, landing_path(landing, to), partner_code)
        except DeepLinkError as exc:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, f"to: {exc}") from exc
    else:
        target = f"{landing}{'&' if '?' in landing else '?'}ref={partner_code}"
    over = await run_in_threadpool(limits_for(request).hit, "redirect", client_ip(request))
    if over is None:
        background.add_task(_count_click, engine, code, f"click-{uuid.uuid4().hex}")
    else:
        log.info("click on %s from %s not counted: over the redirect rate limit", code, client_ip(request))
    return RedirectResponse(target, status_code=status.HTTP_302_FOUND)


def _landing_for(engine: Engine, default_landing_url: str, code: str) -> tuple[str, str] | None:
    """The program's landing URL and the code the partner's link carries now."""
    with session_scope(engine) as session:
        found = store.find_link(session, code)
        if found is None:
            return None
        link, _ = found
        return store.ensure_program(session, link.program, default_landing_url).landing_url, link.code


def _count_click(engine: Engine, code: str, event_id: str) -> None:
    try:
        with session_scope(engine) as session:
            found = store.find_link(session, code)
            if found:
                link, old = found
                store.record_click(session, link, event_id, utcnow(), "old-code" if old else "redirect")
    except Exception:  # a lost click must never surface to the visitor
        log.exception("could not record a click on %s", code)
