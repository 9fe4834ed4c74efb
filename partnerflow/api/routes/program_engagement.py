"""A program's engagement thresholds (manager token): nudges, silence, reviews, offboarding."""

from __future__ import annotations

import json

from fastapi import APIRouter
from pydantic import BaseModel, Field

from partnerflow.api.bounds import ProgramId
from partnerflow.api.deps import MANAGER_AUTH, EngineDep, ManagerDep, SettingsDep
from partnerflow.api.errors import responses
from partnerflow.domain.engagement import EngagementRules, program_rules
from partnerflow.domain.limits import MAX_DAYS
from partnerflow.store import onboarding as store
from partnerflow.store.db import session_scope

router = APIRouter(prefix="/programs", tags=["programs"], responses=MANAGER_AUTH)


class EngagementIn(BaseModel):
    """Overrides of the engagement thresholds for this program; omitted keys keep the defaults."""

    model_config = {"extra": "forbid"}

    no_click_days: int | None = Field(default=None, ge=1, le=MAX_DAYS)
    no_conversion_days: int | None = Field(default=None, ge=1, le=MAX_DAYS)
    silent_days: int | None = Field(default=None, ge=1, le=MAX_DAYS)
    nudge_cap_days: int | None = Field(default=None, ge=0, le=MAX_DAYS)
    inactivity_offboard_days: int | None = Field(default=None, ge=1, le=MAX_DAYS)
    # At least a second (a timer of zero would spin), at most ten years (timedelta's range is finite).
    review_period_days: float | None = Field(default=None, ge=1 / 86_400, le=MAX_DAYS, allow_inf_nan=False)
    tier_confirmation_days: float | None = Field(
        default=None, ge=1 / 86_400, le=MAX_DAYS, allow_inf_nan=False
    )
    check_interval_hours: float | None = Field(
        default=None, ge=1 / 3_600, le=24 * MAX_DAYS, allow_inf_nan=False
    )
    near_tier_ratio: float | None = Field(default=None, gt=0, lt=1)


@router.put(
    "/{program}/engagement",
    response_model=EngagementRules,
    responses=responses(unprocessable_entity="an unknown key or an invalid value"),
)
def set_engagement(
    program: ProgramId, body: EngagementIn, engine: EngineDep, settings: SettingsDep, _m: ManagerDep
) -> EngagementRules:
    """Set the program's engagement thresholds; partners' workflows use them from their next check."""
    with session_scope(engine) as session:
        row = store.ensure_program(session, program, settings.default_landing_url)
        row.engagement_rules = json.dumps(body.model_dump(exclude_none=True))
        session.add(row)
        return program_rules(settings.engagement, row.engagement_rules)


@router.get("/{program}/engagement", response_model=EngagementRules, responses=responses(422))
def get_engagement(
    program: ProgramId, engine: EngineDep, settings: SettingsDep, _m: ManagerDep
) -> EngagementRules:
    """The thresholds in force for the program (defaults merged with its overrides)."""
    with session_scope(engine) as session:
        row = store.ensure_program(session, program, settings.default_landing_url)
        return program_rules(settings.engagement, row.engagement_rules)
