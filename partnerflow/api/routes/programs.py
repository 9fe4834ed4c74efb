"""Programs: landing page, currency, costs, terms, resources, tiers, ingestion key (manager token)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, HTTPException, status
from pydantic import BaseModel, Field
from sqlmodel import select

from partnerflow.api.bounds import ProgramId
from partnerflow.api.deps import MANAGER_AUTH, EngineDep, ManagerDep, SettingsDep, TemporalDep
from partnerflow.api.errors import responses, unprocessable
from partnerflow.domain.kpis import TierRule
from partnerflow.domain.limits import MAX_DAYS, MAX_ID
from partnerflow.domain.urls import HttpUrlStr
from partnerflow.services import onboarding as operations
from partnerflow.store import onboarding as store
from partnerflow.store import performance
from partnerflow.store.db import session_scope
from partnerflow.store.models import Resource

# A program exists once an operation names it, so none of these answers 404 for an unknown one.
router = APIRouter(prefix="/programs", tags=["programs"], responses=MANAGER_AUTH)

ResourceKind = Literal["logo", "banner", "product_sheet", "guide", "video"]


class ProgramIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    landing_url: HttpUrlStr
    currency: str | None = Field(
        default=None, pattern=r"^[A-Z]{3}$", description="ISO 4217; events in another currency are refused"
    )
    monthly_costs: float | None = Field(
        default=None, ge=0, allow_inf_nan=False, description="platform, agency...: counted in the ROI"
    )
    reapply_after_days: int | None = Field(
        default=None, ge=0, le=MAX_DAYS, description="a rejected applicant may apply again after (default 30)"
    )


class ProgramOut(BaseModel):
    program: str
    name: str
    landing_url: str
    currency: str = performance.DEFAULT_CURRENCY
    monthly_costs: float = 0.0
    reapply_after_days: int = 30
    has_ingestion_key: bool = False


class TierIn(BaseModel):
    name: str = Field(min_length=1, max_length=32)
    rank: int = Field(ge=0, le=1000, description="0 = the entry tier")
    commission_rate: float = Field(ge=0, le=1, allow_inf_nan=False, description="0.15 = 15 % of net revenue")
    min_revenue: float = Field(
        default=0.0, ge=0, allow_inf_nan=False, description="either threshold qualifies"
    )
    min_conversions: int = Field(default=0, ge=0, le=MAX_ID)


class IngestionKeyOut(BaseModel):
    program: str
    ingestion_key: str


class TermsIn(BaseModel):
    title: str = Field(default="Partner terms", min_length=1, max_length=200)
    body_markdown: str = Field(min_length=1, max_length=200_000)


class TermsOut(BaseModel):
    program: str
    version: int
    title: str
    body_html: str
    published_at: datetime
    published_by: str
    partners_notified: int | None = None


class ResourceIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    kind: ResourceKind
    url: HttpUrlStr
    locale: Literal["en", "fr", "de", "pl"] | None = None
    tier: str | None = Field(default=None, max_length=32)


class ResourceOut(ResourceIn):
    resource_id: int
    url: str  # as stored: a URL saved before the check existed is still listed


@router.put(
    "/{program}",
    response_model=ProgramOut,
    responses=responses(422, conflict="a currency change once amounts exist in another one"),
)
def update_program(
    program: ProgramId, body: ProgramIn, engine: EngineDep, settings: SettingsDep, _m: ManagerDep
) -> ProgramOut:
    """Set the program's name, the landing page tracking links redirect to, its currency, costs and
    how long a rejected applicant waits before applying again."""
    with session_scope(engine) as session:
        row = store.ensure_program(session, program, settings.default_landing_url)
        if body.currency and body.currency != row.currency:
            used = performance.currencies_used(session, program) - {body.currency}
            if used:
                raise HTTPException(
                    status.HTTP_409_CONFLICT,
                    f"program {program} already has amounts in {', '.join(sorted(used))}; "
                    f"its currency cannot change to {body.currency}",
                )
            row.currency = body.currency
        if body.monthly_costs is not None:
            row.monthly_costs = body.monthly_costs
        if body.reapply_after_days is not None:
            row.reapply_after_days = body.reapply_after_days
        row.name, row.landing_url = body.name, body.landing_url
        session.add(row)
        return ProgramOut(
            program=row.id,
            has_ingestion_key=row.ingestion_key is not None,
            **row.model_dump(
                include={"name", "landing_url", "currency", "monthly_costs", "reapply_after_days"}
            ),
        )


@router.put(
    "/{program}/tiers",
    response_model=list[TierIn],
    responses=responses(unprocessable_entity="invalid tiers, names or ranks not unique, or no rank 0"),
)
def set_tiers(
    program: ProgramId,
    body: Annotated[list[TierIn], Body(min_length=1, max_length=50)],
    engine: EngineDep,
    settings: SettingsDep,
    _m: ManagerDep,
) -> list[TierIn]:
    """Replace the program's tiers (unique names and ranks, exactly one entry tier of rank 0)."""
    ranks, names = [t.rank for t in body], [t.name for t in body]
    if len(set(names)) < len(names):
        raise unprocessable(f"tier names must be unique: {names}", "body")
    if len(set(ranks)) < len(ranks):
        raise unprocessable(f"tier ranks must be unique: {ranks}", "body")
    if 0 not in ranks:
        raise unprocessable("exactly one tier needs rank 0 (the entry tier)", "body")
    with session_scope(engine) as session:
        store.ensure_program(session, program, settings.default_landing_url)
        performance.replace_tiers(session, program, [TierRule(**t.model_dump()) for t in body])
        return _tiers(performance.tier_rules(session, program))


@router.get("/{program}/tiers", response_model=list[TierIn], responses=responses(422))
def get_tiers(program: ProgramId, engine: EngineDep, _m: ManagerDep) -> list[TierIn]:
    """The program's tiers by rank (the defaults until some are set)."""
    with session_scope(engine) as session:
        return _tiers(performance.tier_rules(session, program))


@router.post(
    "/{program}/ingestion-key",
    status_code=status.HTTP_201_CREATED,
    response_model=IngestionKeyOut,
    responses=responses(422),
)
def rotate_ingestion_key(
    program: ProgramId, engine: EngineDep, settings: SettingsDep, _m: ManagerDep
) -> IngestionKeyOut:
    """A new key for POST /events (only this program's partners); the old one stops working.
    Shown once: store it in the tracking platform."""
    with session_scope(engine) as session:
        row = store.ensure_program(session, program, settings.default_landing_url)
        row.ingestion_key = f"pfk_{secrets.token_urlsafe(32)}"
        session.add(row)
        return IngestionKeyOut(program=program, ingestion_key=row.ingestion_key)


@router.post(
    "/{program}/terms",
    status_code=status.HTTP_201_CREATED,
    response_model=TermsOut,
    responses=responses(422, 503),
)
async def publish_terms(
    program: ProgramId,
    body: TermsIn,
    engine: EngineDep,
    client: TemporalDep,
    settings: SettingsDep,
    manager: ManagerDep,
) -> TermsOut:
    """Publish a new terms version; partners who accepted an older one are asked to re-accept."""
    terms, told = await operations.publish_terms(
        engine, client, settings, program, body.title, body.body_markdown, manager
    )
    return TermsOut(program=program, partners_notified=told, **terms.model_dump(exclude={"program"}))


@router.get(
    "/{program}/terms", response_model=TermsOut, responses=responses(422, not_found="no terms published")
)
def current_terms(program: ProgramId, engine: EngineDep, _m: ManagerDep) -> TermsOut:
    """The version partners accept today."""
    with session_scope(engine) as session:
        terms = store.current_terms(session, program)
    if terms is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no terms published for program {program!r}")
    return TermsOut(program=program, **terms.model_dump(exclude={"program"}))


@router.post(
    "/{program}/resources",
    status_code=status.HTTP_201_CREATED,
    response_model=ResourceOut,
    responses=responses(422),
)
def add_resource(program: ProgramId, body: ResourceIn, engine: EngineDep, _m: ManagerDep) -> ResourceOut:
    """Add an asset to the program's library."""
    with session_scope(engine) as session:
        resource = Resource(program=program, **body.model_dump(mode="json"))
        session.add(resource)
        session.flush()
        return _resource_out(resource)


@router.get("/{program}/resources", response_model=list[ResourceOut], responses=responses(422))
def list_resources(
    program: ProgramId, engine: EngineDep, _m: ManagerDep, locale: str | None = None, tier: str | None = None
) -> list[ResourceOut]:
    """The library, or what one locale/tier sees when those are given."""
    with session_scope(engine) as session:
        if locale:
            rows = store.resources_for(session, program, locale, tier)
        else:
            rows = list(session.exec(select(Resource).where(Resource.program == program)))
        return [_resource_out(r) for r in rows]


def _resource_out(resource: Resource) -> ResourceOut:
    assert resource.id is not None
    return ResourceOut(
        resource_id=resource.id, **resource.model_dump(include={"title", "kind", "url", "locale", "tier"})
    )


def _tiers(rules: list[TierRule]) -> list[TierIn]:
    return [TierIn(**rule.__dict__) for rule in rules]
