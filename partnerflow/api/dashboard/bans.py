"""Bans in the dashboard: a program's banned emails, banning one, lifting one (confirmed), and
banning a partner from their page (confirmed).

Input is validated by the API's own models (``BanIn``, ``PartnerBanIn``); the changes go through
``services.bans`` as ``PUT /programs/{program}/bans`` and ``POST /partners/{id}/ban`` do, so a
partner with a newly banned email is rejected or offboarded by their workflow, in the manager's name.
"""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError
from temporalio.service import RPCError

from partnerflow.api.bounds import ProgramId
from partnerflow.api.dashboard import auth, forms
from partnerflow.api.dashboard.partner_actions import REASON_MAX, load_partner, partner_path, who_is
from partnerflow.api.dashboard.views import not_found, render
from partnerflow.api.deps import EngineDep, SettingsDep
from partnerflow.api.routes.approvals import BanIn, PartnerBanIn
from partnerflow.services import bans as service

log = logging.getLogger(__name__)
router = APIRouter()
LABELS = {"email": "Email address", "reason": "Reason"}
DONE = {"rejected": "their pending application was rejected", "offboarded": "they were offboarded"}
NOT_STOPPED = "Temporal did not answer, so a partner with that email may not be stopped yet"


def _here(program: str) -> str:
    return f"{auth.PATH}/programs/{quote(program, safe='')}/bans"


@router.get("/programs/{program}/bans")
async def bans_page(
    program: ProgramId, request: Request, session: auth.SessionDep, engine: EngineDep
) -> Response:
    """The program's banned emails, oldest first, and the form to ban one."""
    return await _list(request, session, engine, program, {"email": "", "reason": ""}, {})


@router.post("/programs/{program}/bans")
async def add_ban(
    program: ProgramId,
    request: Request,
    session: auth.CsrfSessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    email: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Ban an email; a partner with it is stopped (a pending application rejected, a partner offboarded)."""
    typed = {"email": email, "reason": reason}
    try:
        ban = BanIn.model_validate({"email": email.strip(), "reason": reason.strip()})
    except ValidationError as exc:
        return await _list(request, session, engine, program, typed, _field_errors(exc), 422)
    client = forms.temporal(request)
    if client is None:
        return forms.redirect(settings, _here(program), "error", forms.NO_TEMPORAL)
    try:
        row, actions = await service.add_ban(
            engine, client, program, ban.email, ban.reason, session.manager, settings.default_landing_url
        )
    except service.AlreadyBanned as exc:
        return await _list(
            request, session, engine, program, typed, {"email": f"{exc}; nothing changed"}, 409
        )
    except RPCError as exc:
        log.warning("ban of %s in %s stored, its partner not stopped: %s", email, program, exc)
        message = f"Banned {ban.email}, but {NOT_STOPPED}: ban them from their partner page."
        return forms.redirect(settings, _here(program), "error", message)
    stopped = "; ".join(f"{DONE[a.action]} ({a.partner_id})" for a in actions if a.action in DONE)
    message = f"Banned {row.email}: a signup from it starts nothing{f'; {stopped}' if stopped else ''}."
    return forms.redirect(settings, _here(program), "success", message)


@router.get("/programs/{program}/bans/lift")
async def lift_page(
    program: ProgramId,
    request: Request,
    session: auth.SessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    email: str = "",
) -> Response:
    """The confirmation step: what lifting the ban changes, and an "I understand" box."""
    return await _lift_page(request, session, engine, settings, program, email, None)


@router.post("/programs/{program}/bans/lift")
async def lift_ban(
    program: ProgramId,
    request: Request,
    session: auth.CsrfSessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    email: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Lift the ban once the box is ticked: the email may apply again."""
    if not forms.confirmed(confirm):
        error = "Tick the box to confirm: the email may apply again at once."
        return await _lift_page(request, session, engine, settings, program, email, error)
    lifted = await run_in_threadpool(service.lift_ban, engine, program, email)
    if lifted is None:
        return forms.redirect(settings, _here(program), "error", f"{email} is not banned; nothing changed.")
    log.info("ban of %s in %s lifted by %s", lifted.email, program, session.manager)
    message = f"Lifted the ban of {lifted.email}: signups from it are no longer turned away."
    return forms.redirect(settings, _here(program), "success", message)


@router.get("/partners/{partner_id}/ban")
async def partner_ban_page(
    partner_id: str, request: Request, session: auth.SessionDep, engine: EngineDep
) -> Response:
    """The confirmation step of banning a partner: what it does, a reason, and an "I understand" box."""
    return await _partner_page(request, session, engine, partner_id, "", None)


@router.post("/partners/{partner_id}/ban")
async def ban_partner(
    partner_id: str,
    request: Request,
    session: auth.CsrfSessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    reason: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Ban the partner's email in their program and stop them (as ``POST /partners/{id}/ban``)."""
    try:
        body = PartnerBanIn.model_validate({"reason": reason.strip()})
    except ValidationError:
        error = f"Give a reason (up to {REASON_MAX:,} characters)."
        return await _partner_page(request, session, engine, partner_id, reason, error)
    if not forms.confirmed(confirm):
        error = "Tick the box to confirm: a ban is lifted only from the program's bans page."
        return await _partner_page(request, session, engine, partner_id, reason, error)
    client = forms.temporal(request)
    if client is None:
        return forms.redirect(settings, partner_path(partner_id), "error", forms.NO_TEMPORAL)
    try:
        action = await service.ban_partner(engine, client, partner_id, body.reason, session.manager)
    except service.UnknownPartner:
        return forms.redirect(
            settings, partner_path(partner_id), "error", f"There is no partner {partner_id}."
        )
    except RPCError as exc:
        log.warning("ban of partner %s stored, not stopped: %s", partner_id, exc)
        message = f"The ban is recorded, but {NOT_STOPPED}. Ban them again to retry."
        return forms.redirect(settings, partner_path(partner_id), "error", message)
    done = DONE.get(action.action, "they keep their stage")
    message = f"Banned {action.email}: {done}; a signup from it starts nothing."
    return forms.redirect(settings, partner_path(partner_id), "success", message)


async def _list(
    request: Request,
    session: auth.DashboardSession,
    engine: EngineDep,
    program: str,
    typed: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    rows = await run_in_threadpool(service.bans_of, engine, program)
    return render(
        request,
        "bans",
        session,
        active="programs",
        status_code=status_code,
        program=program,
        bans=rows,
        form=typed,
        errors=errors,
        labels=LABELS,
    )


async def _lift_page(
    request: Request,
    session: auth.DashboardSession,
    engine: EngineDep,
    settings: SettingsDep,
    program: str,
    email: str,
    error: str | None,
) -> Response:
    ban = await run_in_threadpool(service.find_ban, engine, program, email)
    if ban is None:
        return forms.redirect(settings, _here(program), "error", f"{email or 'That email'} is not banned.")
    return render(
        request,
        "ban_lift",
        session,
        active="programs",
        status_code=422 if error else 200,
        program=program,
        ban=ban,
        error=error,
    )


async def _partner_page(
    request: Request,
    session: auth.DashboardSession,
    engine: EngineDep,
    partner_id: str,
    reason: str,
    error: str | None,
) -> Response:
    partner = await run_in_threadpool(load_partner, engine, partner_id)
    if partner is None:
        return not_found(request, session, f"Partner {partner_id!r}")
    ban = await run_in_threadpool(service.find_ban, engine, partner.program, partner.email)
    return render(
        request,
        "ban_partner",
        session,
        status_code=422 if error else 200,
        partner=partner,
        who=who_is(partner),
        ban=ban,
        reason=reason,
        error=error,
        reason_max=REASON_MAX,
    )


def _field_errors(exc: ValidationError) -> dict[str, str]:
    """``{field: message}`` from the API model's errors (the first one of each field)."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "email"
        errors.setdefault(field if field in LABELS else "email", error["msg"].removeprefix("Value error, "))
    return errors
