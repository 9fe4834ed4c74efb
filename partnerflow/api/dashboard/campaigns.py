"""Outreach campaigns: the list, a new campaign, one campaign's progress, pause/resume/cancel (confirmed)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import Engine
from temporalio.service import RPCError

from partnerflow.api.bounds import PageNumber, RowId
from partnerflow.api.dashboard import auth, forms, queries
from partnerflow.api.dashboard.views import Page, not_found, render
from partnerflow.api.deps import EngineDep, SettingsDep
from partnerflow.config import Settings
from partnerflow.domain.campaign_controls import CampaignAction
from partnerflow.domain.prospects import DEFAULT_STEPS
from partnerflow.services.campaign_controls import (
    CampaignConflict,
    control_campaign,
    count_campaigns,
    list_campaigns,
)
from partnerflow.services.campaigns import (
    CampaignIn,
    CampaignNotFound,
    CampaignRefused,
    CampaignView,
    campaign_view,
    start_campaign,
)
from partnerflow.store.db import session_scope

log = logging.getLogger(__name__)
router = APIRouter()
BASE = f"{auth.PATH}/campaigns"
DEFAULT_STEPS_TEXT = "\n".join(f"{step.template} {step.delay_days:g}" for step in DEFAULT_STEPS)
PROGRESS = (
    "members",
    "sent",
    "pending",
    "in_sequence",
    "completed",
    "converted",
    "unsubscribed",
    "bounced",
    "failed",
    "cancelled",
)


@router.get("/campaigns")
def campaigns(
    request: Request, session: auth.SessionDep, engine: EngineDep, page: PageNumber = 1
) -> Response:
    """Campaigns, newest first, and the form for a new one."""
    current = Page.of(page, count_campaigns(engine))
    rows = list_campaigns(engine, limit=current.size, offset=current.offset)
    return _list(request, session, engine, rows, current)


def _list(
    request: Request,
    session: auth.DashboardSession,
    engine: Engine,
    rows: list[CampaignView],
    current: Page,
    form: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    with session_scope(engine) as db:
        new = {p: int(n) for p, n in db.exec(queries.new_prospects_by_program())}
        # Programs with prospects to write to first, then the others (a program may have only prospects).
        known = [row.program for row in queries.programs(db)]
        programs = sorted(new, key=lambda p: (-new[p], p)) + sorted(set(known) - set(new)) or ["default"]
    values = form or {"name": "", "program": programs[0], "rate": "60", "steps": DEFAULT_STEPS_TEXT}
    return render(
        request,
        "campaigns",
        session,
        active="campaigns",
        status_code=status_code,
        rows=rows,
        page=current,
        programs=programs,
        new_prospects=new,
        form=values,
        error=error,
    )


@router.post("/campaigns")
async def create(
    request: Request,
    session: auth.CsrfSessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    name: Annotated[str, Form()] = "",
    program: Annotated[str, Form()] = "default",
    rate: Annotated[str, Form()] = "60",
    steps: Annotated[str, Form()] = "",
) -> Response:
    """Start a campaign to every ``new`` prospect of the program (as ``POST /campaigns``)."""
    form = {"name": name, "program": program, "rate": rate, "steps": steps}
    client = forms.temporal(request)
    try:
        body = CampaignIn.model_validate(
            {"name": name.strip(), "program": program, "messages_per_minute": rate, "steps": _steps(steps)}
        )
        if client is None:
            raise CampaignRefused(forms.NO_TEMPORAL)
        campaign_id = await start_campaign(engine, client, settings, body)
    except (ValidationError, ValueError, CampaignRefused) as exc:
        current = Page.of(1, count_campaigns(engine))
        rows = list_campaigns(engine, limit=current.size)
        return _list(request, session, engine, rows, current, form, _explain(exc), 422)
    per_minute = body.messages_per_minute
    message = f"Campaign “{body.name}” started; its first emails go out at {per_minute} a minute."
    return forms.redirect(settings, f"{BASE}/{campaign_id}", "success", message)


def _steps(text: str) -> list[dict[str, object]]:
    """``template delay_days`` per line (e.g. ``outreach_follow_up 4``)."""
    steps: list[dict[str, object]] = []
    for number, line in enumerate(text.strip().splitlines(), start=1):
        parts = line.replace(":", " ").split()
        if not parts:
            continue
        if len(parts) > 2:
            raise ValueError(f"step {number}: a template and a delay in days, e.g. outreach_follow_up 4")
        steps.append({"template": parts[0], "delay_days": parts[1] if len(parts) > 1 else 0})
    return steps


def _explain(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"Check {where}: {first['msg']}."
    return str(exc)


@router.get("/campaigns/{campaign_id}")
def campaign_page(
    campaign_id: RowId, request: Request, session: auth.SessionDep, engine: EngineDep
) -> Response:
    """One campaign: status, who changed it, progress per member status, and its controls."""
    try:
        view = campaign_view(engine, campaign_id)
    except CampaignNotFound:
        return not_found(request, session, f"Campaign {campaign_id}")
    return render(request, "campaign", session, active="campaigns", campaign=view, progress_rows=PROGRESS)


@router.post("/campaigns/{campaign_id}/pause")
async def pause(
    campaign_id: RowId,
    request: Request,
    session: auth.CsrfSessionDep,
    engine: EngineDep,
    settings: SettingsDep,
) -> Response:
    """Pause: nothing is sent until resumed."""
    return await _control(request, engine, settings, campaign_id, CampaignAction.PAUSE, session.manager)


@router.post("/campaigns/{campaign_id}/resume")
async def resume(
    campaign_id: RowId,
    request: Request,
    session: auth.CsrfSessionDep,
    engine: EngineDep,
    settings: SettingsDep,
) -> Response:
    """Resume: waits and send slots move by the pause."""
    return await _control(request, engine, settings, campaign_id, CampaignAction.RESUME, session.manager)


@router.get("/campaigns/{campaign_id}/cancel")
def cancel_page(
    campaign_id: RowId, request: Request, session: auth.SessionDep, engine: EngineDep
) -> Response:
    """The confirmation step of a cancellation."""
    try:
        view = campaign_view(engine, campaign_id)
    except CampaignNotFound:
        return not_found(request, session, f"Campaign {campaign_id}")
    return render(
        request, "campaign_cancel", session, active="campaigns", campaign=view, reason="", error=None
    )


@router.post("/campaigns/{campaign_id}/cancel")
async def cancel(
    campaign_id: RowId,
    request: Request,
    session: auth.CsrfSessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    reason: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Cancel for good (needs the "I understand" box)."""
    if not forms.confirmed(confirm):
        try:
            view = await run_in_threadpool(campaign_view, engine, campaign_id)
        except CampaignNotFound:
            return not_found(request, session, f"Campaign {campaign_id}")
        error = "Tick the box to confirm: a cancelled campaign cannot be restarted."
        return render(
            request,
            "campaign_cancel",
            session,
            active="campaigns",
            status_code=422,
            campaign=view,
            reason=reason,
            error=error,
        )
    return await _control(
        request, engine, settings, campaign_id, CampaignAction.CANCEL, session.manager, reason[:500]
    )


async def _control(
    request: Request,
    engine: Engine,
    settings: Settings,
    campaign_id: int,
    action: CampaignAction,
    manager: str,
    reason: str = "",
) -> Response:
    page = f"{BASE}/{campaign_id}"
    client = forms.temporal(request)
    if client is None:
        return forms.redirect(settings, page, "error", forms.NO_TEMPORAL)
    try:
        view = await control_campaign(engine, client, campaign_id, action, manager, reason)
    except CampaignNotFound:
        return forms.redirect(settings, BASE, "error", f"There is no campaign {campaign_id}.")
    except CampaignConflict as exc:
        return forms.redirect(settings, page, "error", f"Not possible: {exc}. Nothing was changed.")
    except RPCError as exc:
        log.warning("campaign %s %s failed: %s", campaign_id, action.value, exc)
        return forms.redirect(settings, page, "error", forms.RETRY)
    done = {
        CampaignAction.PAUSE: "paused: nothing is sent until you resume it",
        CampaignAction.RESUME: "resumed: its waits and send slots moved by the pause",
        CampaignAction.CANCEL: "cancelled: its sequences stopped; members not done are marked cancelled",
    }[action]
    return forms.redirect(settings, page, "success", f"Campaign “{view.name}” {done}.")
