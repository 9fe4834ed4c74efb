"""Training webinars: the sessions, a new one, and one session's page (its changes: ``webinar_actions``)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import col, select

from partnerflow.api.bounds import RowId
from partnerflow.api.dashboard import auth, forms
from partnerflow.api.dashboard.views import not_found, render
from partnerflow.api.deps import EngineDep, SettingsDep
from partnerflow.api.routes import webinars as api
from partnerflow.services.onboarding import WebinarIn
from partnerflow.store import onboarding as store
from partnerflow.store.db import session_scope
from partnerflow.store.models import Partner, Webinar, WebinarSeat, utcnow

log = logging.getLogger(__name__)
router = APIRouter()
BASE = f"{auth.PATH}/webinars"
PAST_SHOWN = timedelta(days=30)


@router.get("/webinars")
def webinars(request: Request, session: auth.SessionDep, engine: EngineDep) -> Response:
    """Upcoming sessions (and those of the last 30 days), and the form for a new one."""
    return _list(request, session, engine)


def _list(
    request: Request,
    session: auth.DashboardSession,
    engine: Engine,
    form: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    now = utcnow()
    with session_scope(engine) as db:
        statement = select(Webinar).where(col(Webinar.starts_at) > now - PAST_SHOWN)
        rows = [
            (w, store.seats_taken(db, w.id or 0)) for w in db.exec(statement.order_by(col(Webinar.starts_at)))
        ]
    values = form or {
        "title": "",
        "starts_at": "",
        "timezone": "UTC",
        "duration_minutes": "60",
        "join_url": "",
        "capacity": "30",
        "program": "",
    }
    return render(
        request,
        "webinars",
        session,
        active="webinars",
        status_code=status_code,
        rows=rows,
        form=values,
        error=error,
        now=now,
    )


@router.post("/webinars")
async def create(
    request: Request,
    session: auth.CsrfSessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    title: Annotated[str, Form()] = "",
    starts_at: Annotated[str, Form()] = "",
    timezone: Annotated[str, Form()] = "UTC",
    duration_minutes: Annotated[str, Form()] = "60",
    join_url: Annotated[str, Form()] = "",
    capacity: Annotated[str, Form()] = "30",
    program: Annotated[str, Form()] = "",
) -> Response:
    """Schedule a session (as ``POST /webinars``); waiting partners are invited at their next check."""
    form = {
        "title": title,
        "starts_at": starts_at,
        "timezone": timezone,
        "duration_minutes": duration_minutes,
        "join_url": join_url,
        "capacity": capacity,
        "program": program,
    }
    try:
        body = WebinarIn.model_validate(
            {
                "title": title.strip(),
                "starts_at": aware(starts_at, timezone),
                "timezone": timezone.strip(),
                "duration_minutes": duration_minutes,
                "join_url": join_url.strip(),
                "capacity": capacity,
                "program": program.strip() or None,
            }
        )
        created = await run_in_threadpool(api.create_webinar, body, engine, session.manager)
    except (ValidationError, ValueError, HTTPException) as exc:
        return _list(request, session, engine, form, why(exc), 422)
    done = f"Session “{created.title}” scheduled."
    return forms.redirect(settings, f"{BASE}/{created.webinar_id}", "success", done)


@router.get("/webinars/{webinar_id}")
def webinar_page(
    webinar_id: RowId, request: Request, session: auth.SessionDep, engine: EngineDep
) -> Response:
    """A session: details, its seats, and the reschedule, attendance and cancel forms."""
    return _detail(request, session, engine, webinar_id)


def _detail(
    request: Request,
    session: auth.DashboardSession,
    engine: Engine,
    webinar_id: int,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    with session_scope(engine) as db:
        webinar = db.get(Webinar, webinar_id)
        if webinar is None:
            return not_found(request, session, f"Webinar {webinar_id}")
        seats = list(
            db.exec(
                select(WebinarSeat, Partner)
                .join(Partner, col(Partner.id) == col(WebinarSeat.partner_id))
                .where(WebinarSeat.webinar_id == webinar_id)
                .order_by(col(WebinarSeat.invited_at))
            )
        )
    local = webinar.starts_at.astimezone(_zone(webinar.timezone)).strftime("%Y-%m-%dT%H:%M")
    return render(
        request,
        "webinar",
        session,
        active="webinars",
        status_code=status_code,
        webinar=webinar,
        seats=seats,
        local_start=local,
        error=error,
        now=utcnow(),
    )


def find(engine: Engine, webinar_id: int) -> Webinar | None:
    with session_scope(engine) as db:
        return db.get(Webinar, webinar_id)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def aware(local: str, zone: str) -> datetime:
    """A ``datetime-local`` value (``2026-12-03T16:00``) in the session's IANA zone."""
    try:
        moment = datetime.fromisoformat(local.strip())
        tz = ZoneInfo(zone.strip() or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        example = "a start like 2026-12-03T16:00 and a time zone like Europe/Paris"
        raise ValueError(f"{example} (got {local!r}, {zone!r})") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def why(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"{'.'.join(str(part) for part in first['loc']) or 'value'}: {first['msg']}"
    if isinstance(exc, HTTPException):
        return str(exc.detail)
    return str(exc)
