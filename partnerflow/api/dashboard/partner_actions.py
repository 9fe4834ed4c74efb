"""A partner's manager actions: tier decision, pause/resume, offboard (confirmed), checklist, portal link.

Each is the same workflow update the API sends (``services.partners.update_partner``), in the
signed-in manager's name, so it lands in the partner's timeline like any other. Results come back
as a flash message on the partner's page (post/redirect/get).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import Engine
from temporalio.service import RPCError

from partnerflow.api.dashboard import auth, forms
from partnerflow.api.dashboard.partner import CHECKLIST_LABELS
from partnerflow.api.dashboard.views import not_found, render
from partnerflow.api.deps import EngineDep, SettingsDep
from partnerflow.domain.onboarding import ChecklistUpdate
from partnerflow.domain.review import OffboardInput, PauseInput, TierDecision
from partnerflow.domain.stages import CHECKLIST_ITEMS
from partnerflow.services.partners import UpdateRefused, WorkflowEnded, update_partner
from partnerflow.services.portal import NoPortal, request_portal_link
from partnerflow.store.db import session_scope
from partnerflow.store.models import Partner

log = logging.getLogger(__name__)
router = APIRouter()
REASON_MAX = 1000  # as POST /partners/{id}/offboard


def partner_path(partner_id: str) -> str:
    return f"{auth.PATH}/partners/{partner_id}"


@router.post("/partners/{partner_id}/tier-decision")
async def tier_decision(
    partner_id: str,
    request: Request,
    session: auth.CsrfSessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    approve: Annotated[str, Form()] = "",
    proposed: Annotated[str, Form()] = "",
) -> Response:
    """Confirm the proposed tier, or keep the current one (as ``POST /partners/{id}/tier-decision``)."""
    confirm = approve == "yes"
    kind, message = await _update(
        request, engine, partner_id, "decide_tier", TierDecision(confirm, session.manager)
    )
    if kind == "success":
        tier = proposed or "the proposed tier"
        message = (
            f"{tier} confirmed for {message}; the tier changes in a moment."
            if confirm
            else f"Kept the current tier of {message} (not {tier})."
        )
    return forms.redirect(settings, partner_path(partner_id), kind, message)


@router.post("/partners/{partner_id}/pause")
async def pause(
    partner_id: str, request: Request, session: auth.CsrfSessionDep, engine: EngineDep, settings: SettingsDep
) -> Response:
    """Stop nudges for an active partner (reviews go on)."""
    kind, who = await _update(request, engine, partner_id, "set_paused", PauseInput(True, session.manager))
    message = f"Paused {who}: no nudges until resumed; reviews go on." if kind == "success" else who
    return forms.redirect(settings, partner_path(partner_id), kind, message)


@router.post("/partners/{partner_id}/resume")
async def resume(
    partner_id: str, request: Request, session: auth.CsrfSessionDep, engine: EngineDep, settings: SettingsDep
) -> Response:
    """Resume nudges for a paused partner."""
    kind, who = await _update(request, engine, partner_id, "set_paused", PauseInput(False, session.manager))
    message = f"Resumed {who}: nudges are back on." if kind == "success" else who
    return forms.redirect(settings, partner_path(partner_id), kind, message)


@router.get("/partners/{partner_id}/offboard")
def offboard_page(partner_id: str, request: Request, session: auth.SessionDep, engine: EngineDep) -> Response:
    """The confirmation step: what offboarding does, a reason, and an "I understand" box."""
    partner = load_partner(engine, partner_id)
    if partner is None:
        return not_found(request, session, f"Partner {partner_id!r}")
    return render(request, "offboard", session, partner=partner, reason="", error=None, reason_max=REASON_MAX)


@router.post("/partners/{partner_id}/offboard")
async def offboard(
    partner_id: str,
    request: Request,
    session: auth.CsrfSessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    reason: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """End the partnership (farewell email, the link stops earning); needs a reason and the box ticked."""
    partner = await run_in_threadpool(load_partner, engine, partner_id)
    if partner is None:
        return not_found(request, session, f"Partner {partner_id!r}")
    reason = reason.strip()
    error = None
    if not reason or len(reason) > REASON_MAX:
        error = f"Give a reason (up to {REASON_MAX:,} characters)."
    elif not forms.confirmed(confirm):
        error = "Tick the box to confirm: offboarding cannot be undone."
    if error:
        return render(
            request,
            "offboard",
            session,
            status_code=422,
            partner=partner,
            reason=reason,
            error=error,
            reason_max=REASON_MAX,
        )
    kind, who = await _update(request, engine, partner_id, "offboard", OffboardInput(reason, session.manager))
    done = f"Offboarded {who}. They get a farewell email; their link no longer earns."
    message = done if kind == "success" else who
    return forms.redirect(settings, partner_path(partner_id), kind, message)


@router.post("/partners/{partner_id}/checklist")
async def checklist_item(
    partner_id: str,
    request: Request,
    session: auth.CsrfSessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    item: Annotated[str, Form()] = "",
    waive: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """Mark an onboarding item done by hand, or waive the webinar."""
    if item not in CHECKLIST_ITEMS:
        return forms.redirect(settings, partner_path(partner_id), "error", "Choose a checklist item.")
    update = ChecklistUpdate(item, session.manager, note.strip()[:500], waive=bool(waive))
    kind, who = await _update(request, engine, partner_id, "complete_checklist_item", update)
    verb = "waived" if update.waive else "marked done"
    label = CHECKLIST_LABELS.get(item, item)
    message = f"“{label}” {verb} for {who}." if kind == "success" else who
    return forms.redirect(settings, partner_path(partner_id), kind, message)


@router.post("/partners/{partner_id}/portal-link")
async def portal_link(
    partner_id: str, request: Request, session: auth.CsrfSessionDep, engine: EngineDep, settings: SettingsDep
) -> Response:
    """Email the partner a fresh portal link, through their workflow (at most one a day)."""
    partner = await run_in_threadpool(load_partner, engine, partner_id)
    client = forms.temporal(request)
    if partner is None or client is None:
        problem = f"There is no partner {partner_id}." if partner is None else forms.NO_TEMPORAL
        return forms.redirect(settings, partner_path(partner_id), "error", problem)
    try:
        await request_portal_link(client, partner_id, f"dashboard by {session.manager}")
    except NoPortal:
        why = f"No portal link for {who_is(partner)}: only onboarding and active partners have one."
        return forms.redirect(settings, partner_path(partner_id), "error", why)
    except RPCError as exc:
        log.warning("portal link for %s not requested: %s", partner_id, exc)
        return forms.redirect(settings, partner_path(partner_id), "error", forms.RETRY)
    message = f"A fresh portal link is on its way to {partner.email} (one a day: a link sent today stands)."
    return forms.redirect(settings, partner_path(partner_id), "success", message)


async def _update(
    request: Request, engine: Engine, partner_id: str, update: str, arg: Any
) -> tuple[str, str]:
    """``("success", who)`` once the workflow took the update, else ``("error", why)``."""
    partner = await run_in_threadpool(load_partner, engine, partner_id)
    if partner is None:
        return "error", f"There is no partner {partner_id}."
    client = forms.temporal(request)
    if client is None:
        return "error", forms.NO_TEMPORAL
    try:
        await update_partner(client, partner_id, update, arg)
    except UpdateRefused as exc:
        return "error", f"Not possible for {who_is(partner)}: {exc}. Nothing was changed."
    except WorkflowEnded:
        return "error", f"{who_is(partner)} has no running workflow ({partner.stage}). Nothing was changed."
    except RPCError as exc:
        log.warning("%s for partner %s failed: %s", update, partner_id, exc)
        return "error", forms.RETRY
    return "success", who_is(partner)


def who_is(partner: Partner) -> str:
    return f"{partner.name} ({partner.email})"


def load_partner(engine: Engine, partner_id: str) -> Partner | None:
    with session_scope(engine) as db:
        return db.get(Partner, partner_id)
