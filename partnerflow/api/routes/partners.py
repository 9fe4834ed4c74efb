"""Manager API: list partners, see one live from its workflow, decide applications."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine
from temporalio.client import Client

from partnerflow.api.bounds import MAX_OFFSET
from partnerflow.api.deps import (
    MANAGER_AUTH,
    RETRY_AFTER_SECONDS,
    EngineDep,
    ManagerDep,
    SettingsDep,
    TemporalDep,
)
from partnerflow.api.errors import responses, unprocessable
from partnerflow.api.schemas import (
    ChecklistBody,
    DecisionBody,
    DecisionPendingResponse,
    DecisionResponse,
    PartnerDetail,
    PartnerList,
    PartnerSummary,
)
from partnerflow.domain import cursors
from partnerflow.domain.cursors import Position
from partnerflow.domain.lifecycle import DecisionInput, PartnerStatus, workflow_id_for
from partnerflow.domain.onboarding import ChecklistUpdate
from partnerflow.domain.stages import Decision, Stage, empty_checklist
from partnerflow.services.decisions import (
    AlreadyDecided,
    DecisionNotTaken,
    DecisionPending,
    DecisionRefused,
    send_decision,
)
from partnerflow.services.partners import UpdateRefused, WorkflowEnded, live_status, update_partner
from partnerflow.store import partners as partner_store
from partnerflow.store.db import session_scope
from partnerflow.store.models import Partner

log = logging.getLogger(__name__)
router = APIRouter(prefix="/partners", tags=["partners"], responses=MANAGER_AUTH)
PARTNERS_CURSOR = "partners"
OldOffset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip (deprecated: follow `next`)")]


@router.get("", response_model=PartnerList, responses=responses(422))
def list_partners(
    engine: EngineDep,
    _manager: ManagerDep,
    stage: Stage | None = None,
    program: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    cursor: str | None = Query(None, description="the `next` of the previous page (opaque)"),
    offset: OldOffset = 0,
) -> Response:
    """Partners, newest first, optionally in one stage or program; follow `next` for more."""
    after = _position(cursor, offset)
    with session_scope(engine) as session:
        page = partner_store.list_partners(session, stage and stage.value, program, limit, offset, after)
    more = cursors.encode(PARTNERS_CURSOR, page.next) if page.next else None
    items = [{"partner_id": row.id, **row._mapping} for row in page.rows]
    body = PartnerList.model_validate({"items": items, "next": more})
    # Serialized here in one pass (pydantic-core): FastAPI's generic path costs more than the query.
    return Response(body.model_dump_json(), media_type="application/json")


def _position(cursor: str | None, offset: int) -> Position | None:
    if cursor is None:
        return None
    if offset:
        raise unprocessable("give either cursor or offset, not both", "query", "offset")
    try:
        return cursors.decode(PARTNERS_CURSOR, cursor)
    except cursors.BadCursor as exc:
        raise unprocessable(str(exc), "query", "cursor") from exc


@router.get(
    "/{partner_id}", response_model=PartnerDetail, responses=responses(422, 503, not_found="unknown partner")
)
async def get_partner(
    partner_id: str, engine: EngineDep, client: TemporalDep, _manager: ManagerDep
) -> PartnerDetail:
    """One partner; stage, checklist and history come live from their workflow."""
    partner = await run_in_threadpool(_load, engine, partner_id)
    live = await _live_status(client, partner)
    return PartnerDetail(
        **_summary(partner).model_dump() | {"stage": live.stage.value, "tier": live.tier or partner.tier},
        checklist=live.checklist,
        history=live.history,
        workflow_id=workflow_id_for(partner.id),
        paused=live.paused,
        tier_proposal=live.tier_proposal,
    )


@router.post(
    "/{partner_id}/decision",
    response_model=DecisionResponse,
    responses={
        202: {
            "model": DecisionPendingResponse,
            "description": "the workflow accepted (recorded) it and is applying it",
        },
        **responses(
            503,
            not_found="unknown partner",
            conflict="already decided",
            unprocessable_entity="invalid body, or a decision the workflow refuses",
        ),
    },
)
async def decide(
    partner_id: str,
    body: DecisionBody,
    engine: EngineDep,
    client: TemporalDep,
    manager: ManagerDep,
    settings: SettingsDep,
) -> DecisionResponse | JSONResponse:
    """Approve or reject an application; answers once the workflow has taken the decision.

    Within PARTNERFLOW_TEMPORAL_WAIT: past it, 202 while the workflow is still applying it.
    """
    partner = await run_in_threadpool(_load, engine, partner_id)
    decision = DecisionInput(
        decision=Decision(body.decision),
        manager=(body.manager or manager).strip() or manager,
        reason=body.reason,
        share_reason=body.share_reason,
    )
    try:
        result = await send_decision(client, partner.id, decision, settings.temporal_wait)
    except DecisionPending as exc:
        pending = DecisionPendingResponse(partner_id=partner.id, status=str(exc))
        return JSONResponse(pending.model_dump(), status_code=status.HTTP_202_ACCEPTED)
    except DecisionNotTaken as exc:
        retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc), headers=retry) from exc
    except AlreadyDecided as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    except DecisionRefused as exc:
        raise unprocessable(str(exc), "body", "manager") from exc
    return DecisionResponse(partner_id=result.partner_id, stage=result.stage.value)


@router.post(
    "/{partner_id}/checklist",
    response_model=PartnerDetail,
    responses=responses(
        503,
        not_found="unknown partner",
        conflict="not onboarding",
        unprocessable_entity="invalid body, or an item the workflow refuses",
    ),
)
async def complete_checklist_item(
    partner_id: str, body: ChecklistBody, engine: EngineDep, client: TemporalDep, manager: ManagerDep
) -> PartnerDetail:
    """Mark an onboarding item done by hand (e.g. trained in person), or waive the webinar."""
    partner = await run_in_threadpool(_load, engine, partner_id)
    update = ChecklistUpdate(item=body.item, manager=manager, note=body.note or "", waive=body.waive)
    try:
        await update_partner(client, partner.id, "complete_checklist_item", update)
    except UpdateRefused as exc:
        if exc.kind == "NotOnboarding":
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
        raise unprocessable(str(exc), "body", "item") from exc
    except WorkflowEnded as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, f"partner {partner_id} is not onboarding") from exc
    return await get_partner(partner_id, engine, client, manager)


async def _live_status(client: Client, partner: Partner) -> PartnerStatus:
    stored = PartnerStatus(partner.id, Stage(partner.stage), empty_checklist(), partner.tier, [])
    return await live_status(client, partner.id, stored)


def _load(engine: Engine, partner_id: str) -> Partner:
    with session_scope(engine) as session:
        partner = session.get(Partner, partner_id)
    if partner is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"partner {partner_id} not found")
    return partner


def _summary(partner: Partner) -> PartnerSummary:
    return PartnerSummary(
        partner_id=partner.id,
        **partner.model_dump(include={"email", "name", "company", "program", "locale", "stage", "tier"}),
        created_at=partner.created_at,
        stage_changed_at=partner.stage_changed_at,
    )
