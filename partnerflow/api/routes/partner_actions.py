"""Manager API for active partners: pause, resume, offboard, tier decisions, reviews."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlmodel import col, select
from temporalio.client import Client

from partnerflow.api.deps import MANAGER_AUTH, EngineDep, ManagerDep, TemporalDep
from partnerflow.api.errors import responses
from partnerflow.domain.review import OffboardInput, PauseInput, TierDecision
from partnerflow.services.partners import UpdateRefused, WorkflowEnded, update_partner
from partnerflow.store.db import session_scope
from partnerflow.store.models import Partner, Review

router = APIRouter(prefix="/partners", tags=["partners"], responses=MANAGER_AUTH)
_CONFLICT = responses(422, 503, not_found="unknown partner", conflict="not possible in this stage")


class OffboardBody(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)


class TierDecisionBody(BaseModel):
    approve: bool


class ActionResult(BaseModel):
    partner_id: str
    stage: str
    detail: str = ""


class ReviewOut(BaseModel):
    review_id: int
    partner_id: str
    period_start: datetime
    period_end: datetime
    clicks: int
    conversions: int
    revenue: float
    commission: float
    revenue_share: float
    segment: str
    tier_before: str | None
    tier_proposed: str | None
    tier_after: str | None
    decided_by: str | None


@router.post("/{partner_id}/offboard", response_model=ActionResult, responses=_CONFLICT)
async def offboard(
    partner_id: str, body: OffboardBody, engine: EngineDep, client: TemporalDep, manager: ManagerDep
) -> ActionResult:
    """End the partnership: farewell email, tracking link stops earning, workflow completes."""
    result = await _update(engine, client, partner_id, "offboard", OffboardInput(body.reason, manager))
    return ActionResult(partner_id=partner_id, stage=result.stage.value)


@router.post("/{partner_id}/pause", response_model=ActionResult, responses=_CONFLICT)
async def pause(partner_id: str, engine: EngineDep, client: TemporalDep, manager: ManagerDep) -> ActionResult:
    """Stop nudges for an active partner (reviews go on)."""
    result = await _update(engine, client, partner_id, "set_paused", PauseInput(True, manager))
    return ActionResult(partner_id=partner_id, stage=result.stage.value, detail="paused")


@router.post("/{partner_id}/resume", response_model=ActionResult, responses=_CONFLICT)
async def resume(
    partner_id: str, engine: EngineDep, client: TemporalDep, manager: ManagerDep
) -> ActionResult:
    """Resume nudges for a paused partner."""
    result = await _update(engine, client, partner_id, "set_paused", PauseInput(False, manager))
    return ActionResult(partner_id=partner_id, stage=result.stage.value, detail="resumed")


@router.post("/{partner_id}/tier-decision", response_model=ActionResult, responses=_CONFLICT)
async def tier_decision(
    partner_id: str, body: TierDecisionBody, engine: EngineDep, client: TemporalDep, manager: ManagerDep
) -> ActionResult:
    """Confirm or refuse the tier change the last review proposed (it applies on its own after 7 days)."""
    proposed = await _update(engine, client, partner_id, "decide_tier", TierDecision(body.approve, manager))
    verb = "confirmed" if body.approve else "refused"
    return ActionResult(partner_id=partner_id, stage="active", detail=f"{proposed} {verb}")


@router.get(
    "/{partner_id}/reviews",
    response_model=list[ReviewOut],
    responses=responses(422, not_found="unknown partner"),
)
def list_reviews(partner_id: str, engine: EngineDep, _manager: ManagerDep) -> list[ReviewOut]:
    """The partner's periodic reviews, newest first."""
    _require(engine, partner_id)
    with session_scope(engine) as session:
        statement = (
            select(Review).where(Review.partner_id == partner_id).order_by(col(Review.period_start).desc())
        )
        return [
            ReviewOut(review_id=r.id or 0, **r.model_dump(exclude={"id", "program", "created_at"}))
            for r in session.exec(statement)
        ]


async def _update(engine: Engine, client: Client, partner_id: str, update: str, arg: Any) -> Any:
    await run_in_threadpool(_require, engine, partner_id)
    try:
        return await update_partner(client, partner_id, update, arg)
    except (UpdateRefused, WorkflowEnded) as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc


def _require(engine: Engine, partner_id: str) -> None:
    with session_scope(engine) as session:
        if session.get(Partner, partner_id) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"partner {partner_id} not found")
