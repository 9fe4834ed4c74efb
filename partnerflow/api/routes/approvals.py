"""Who gets in: a program's approval rules and bans, and banning a partner (manager token)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, status
from fastapi.concurrency import run_in_threadpool
from pydantic import AfterValidator, BaseModel, EmailStr, Field
from sqlalchemy import Engine

from partnerflow.api.bounds import ProgramId
from partnerflow.api.deps import MANAGER_AUTH, EngineDep, ManagerDep, SettingsDep, TemporalDep
from partnerflow.api.errors import responses
from partnerflow.domain.approval_rules import ApprovalRules
from partnerflow.domain.signup import normalize_email
from partnerflow.services import approval_rules
from partnerflow.services import bans as operations
from partnerflow.store import approvals as store
from partnerflow.store.db import session_scope
from partnerflow.store.models import Ban
from partnerflow.store.onboarding import ensure_program

programs = APIRouter(prefix="/programs", tags=["programs"], responses=MANAGER_AUTH)
partners = APIRouter(prefix="/partners", tags=["partners"], responses=MANAGER_AUTH)
routers = (programs, partners)

Reason = Annotated[str, Field(max_length=1000)]


class BanIn(BaseModel):
    email: Annotated[EmailStr, AfterValidator(normalize_email)]
    reason: Reason = ""


class BansIn(BaseModel):
    bans: list[BanIn] = Field(max_length=10_000, description="the program's whole list: others are lifted")


class BanOut(BaseModel):
    email: str
    reason: str
    banned_by: str
    banned_at: datetime
    attempts: int = Field(description="signups turned away since the ban")
    last_attempt_at: datetime | None


class BanAction(BaseModel):
    partner_id: str
    email: str
    stage: str
    action: str = Field(description="rejected (pending application), offboarded, or none")


class BansOut(BaseModel):
    program: str
    bans: list[BanOut]
    actions: list[BanAction] = Field(default_factory=list, description="partners the new bans stopped")


class PartnerBanIn(BaseModel):
    reason: Reason = Field(min_length=1)


@programs.put(
    "/{program}/approval-rules",
    response_model=ApprovalRules,
    response_model_exclude_none=True,
    responses=responses(
        unprocessable_entity="an unknown condition, a bad ISO 8601 delay, a bad 'then', country or domain"
    ),
)
def set_approval_rules(
    program: ProgramId, body: ApprovalRules, engine: EngineDep, settings: SettingsDep, _m: ManagerDep
) -> ApprovalRules:
    """Replace the program's approval rules; the first matching one decides each new application."""
    return approval_rules.replace_rules(engine, program, settings.default_landing_url, body)


@programs.get(
    "/{program}/approval-rules",
    response_model=ApprovalRules,
    response_model_exclude_none=True,
    responses=responses(422),
)
def get_approval_rules(program: ProgramId, engine: EngineDep, _m: ManagerDep) -> ApprovalRules:
    """The program's approval rules, in order (none until set: every application waits for a manager)."""
    return approval_rules.rules_of(engine, program)


@programs.put("/{program}/bans", response_model=BansOut, responses=responses(422, 503))
async def set_bans(
    program: ProgramId,
    body: BansIn,
    engine: EngineDep,
    client: TemporalDep,
    settings: SettingsDep,
    manager: ManagerDep,
) -> BansOut:
    """Replace the program's banned emails; a newly banned partner is rejected or offboarded."""
    await run_in_threadpool(_ensure_program, engine, program, settings.default_landing_url)
    pairs = [(ban.email, ban.reason) for ban in body.bans]
    rows, actions = await operations.replace_bans(engine, client, program, pairs, manager)
    return BansOut(
        program=program,
        bans=[_ban_out(row) for row in rows],
        actions=[BanAction(**action.__dict__) for action in actions],
    )


@programs.get("/{program}/bans", response_model=BansOut, responses=responses(422))
def get_bans(program: ProgramId, engine: EngineDep, _m: ManagerDep) -> BansOut:
    """The program's banned emails, oldest first, with the signups each turned away."""
    with session_scope(engine) as session:
        return BansOut(program=program, bans=[_ban_out(row) for row in store.list_bans(session, program)])


@partners.post(
    "/{partner_id}/ban",
    response_model=BanAction,
    responses=responses(422, 503, not_found="unknown partner"),
)
async def ban_partner(
    partner_id: str, body: PartnerBanIn, engine: EngineDep, client: TemporalDep, manager: ManagerDep
) -> BanAction:
    """Ban the partner's email from their program: a pending application is rejected, an onboarding
    or active partner offboarded, and no signup from that email starts anything again."""
    try:
        action = await operations.ban_partner(engine, client, partner_id, body.reason, manager)
    except operations.UnknownPartner as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    return BanAction(**action.__dict__)


def _ensure_program(engine: Engine, program: str, landing_url: str) -> None:
    with session_scope(engine) as session:
        ensure_program(session, program, landing_url)


def _ban_out(row: Ban) -> BanOut:
    return BanOut(**row.model_dump(include=set(BanOut.model_fields)))
