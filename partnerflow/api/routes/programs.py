"""Programs: landing page, versioned terms and the resource library (manager token)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field, HttpUrl
from sqlmodel import select

from partnerflow import operations
from partnerflow.api.deps import EngineDep, ManagerDep, SettingsDep, TemporalDep
from partnerflow.store import onboarding as store
from partnerflow.store.db import session_scope
from partnerflow.store.models import Resource

router = APIRouter(prefix="/programs", tags=["programs"])

ResourceKind = Literal["logo", "banner", "product_sheet", "guide", "video"]


class ProgramIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    landing_url: HttpUrl


class ProgramOut(BaseModel):
    program: str
    name: str
    landing_url: str


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
    url: HttpUrl
    locale: Literal["en", "fr", "de", "pl"] | None = None
    tier: str | None = Field(default=None, max_length=32)


class ResourceOut(ResourceIn):
    resource_id: int
    url: str  # type: ignore[assignment]


@router.put("/{program}", response_model=ProgramOut)
def update_program(
    program: str, body: ProgramIn, engine: EngineDep, settings: SettingsDep, _m: ManagerDep
) -> ProgramOut:
    """Set the program's name and the landing page tracking links redirect to."""
    with session_scope(engine) as session:
        row = store.ensure_program(session, program, settings.default_landing_url)
        row.name, row.landing_url = body.name, str(body.landing_url)
        session.add(row)
        return ProgramOut(program=row.id, name=row.name, landing_url=row.landing_url)


@router.post("/{program}/terms", status_code=status.HTTP_201_CREATED, response_model=TermsOut)
async def publish_terms(
    program: str,
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


@router.get("/{program}/terms", response_model=TermsOut)
def current_terms(program: str, engine: EngineDep, _m: ManagerDep) -> TermsOut:
    """The version partners accept today."""
    with session_scope(engine) as session:
        terms = store.current_terms(session, program)
    if terms is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no terms published for program {program!r}")
    return TermsOut(program=program, **terms.model_dump(exclude={"program"}))


@router.post("/{program}/resources", status_code=status.HTTP_201_CREATED, response_model=ResourceOut)
def add_resource(program: str, body: ResourceIn, engine: EngineDep, _m: ManagerDep) -> ResourceOut:
    """Add an asset to the program's library."""
    with session_scope(engine) as session:
        resource = Resource(program=program, **body.model_dump(mode="json"))
        session.add(resource)
        session.flush()
        return _resource_out(resource)


@router.get("/{program}/resources", response_model=list[ResourceOut])
def list_resources(
    program: str, engine: EngineDep, _m: ManagerDep, locale: str | None = None, tier: str | None = None
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
