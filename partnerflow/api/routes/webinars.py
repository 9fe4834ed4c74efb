"""Training webinars: sessions and attendance (manager token)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import Engine
from sqlmodel import col, select

from partnerflow.api.bounds import RowId
from partnerflow.api.deps import EngineDep, ManagerDep, TemporalDep
from partnerflow.api.errors import unprocessable
from partnerflow.services import onboarding as operations
from partnerflow.services.onboarding import WebinarIn
from partnerflow.store import onboarding as store
from partnerflow.store.db import session_scope
from partnerflow.store.models import Webinar, utcnow

router = APIRouter(prefix="/webinars", tags=["webinars"])


class WebinarOut(BaseModel):
    webinar_id: int
    title: str
    starts_at: datetime
    timezone: str
    duration_minutes: int
    join_url: str
    capacity: int
    seats_taken: int
    program: str | None


class AttendanceIn(BaseModel):
    partner_ids: list[str] = Field(default_factory=list, max_length=10_000)
    emails: list[str] = Field(
        default_factory=list, max_length=10_000, description="e.g. straight from an attendance export"
    )

    @model_validator(mode="after")
    def _someone(self) -> AttendanceIn:
        if not self.partner_ids and not self.emails:
            raise ValueError("give partner_ids or emails")
        return self


class AttendanceItem(BaseModel):
    partner_id: str
    status: str
    detail: str


class AttendanceOut(BaseModel):
    webinar_id: int
    results: list[AttendanceItem]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WebinarOut)
def create_webinar(body: WebinarIn, engine: EngineDep, _manager: ManagerDep) -> WebinarOut:
    """Schedule a session; partners waiting for training are invited to the next one with room."""
    if body.starts_at <= utcnow():
        raise unprocessable("starts_at must be in the future", "body", "starts_at")
    with session_scope(engine) as session:
        webinar = Webinar(**body.model_dump(mode="json", exclude={"starts_at"}), starts_at=body.starts_at)
        session.add(webinar)
        session.flush()
        return _out(engine, webinar, seats=0)


@router.get("", response_model=list[WebinarOut])
def list_webinars(engine: EngineDep, _manager: ManagerDep, upcoming: bool = True) -> list[WebinarOut]:
    """Sessions, soonest first (only future ones unless ``upcoming=false``)."""
    with session_scope(engine) as session:
        statement = select(Webinar).order_by(col(Webinar.starts_at))
        if upcoming:
            statement = statement.where(col(Webinar.starts_at) > utcnow())
        return [_out(engine, w, store.seats_taken(session, w.id or 0)) for w in session.exec(statement)]


@router.post("/{webinar_id}/attendance", response_model=AttendanceOut)
async def record_attendance(
    webinar_id: RowId, body: AttendanceIn, engine: EngineDep, client: TemporalDep, _manager: ManagerDep
) -> AttendanceOut:
    """Record who attended (one partner or a whole attendance export); each workflow moves on."""
    if await run_in_threadpool(_missing, engine, webinar_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"webinar {webinar_id} not found")
    results = await operations.record_attendance(engine, client, webinar_id, body.partner_ids, body.emails)
    return AttendanceOut(webinar_id=webinar_id, results=[AttendanceItem(**r.__dict__) for r in results])


def _missing(engine: Engine, webinar_id: int) -> bool:
    with session_scope(engine) as session:
        return session.get(Webinar, webinar_id) is None


def _out(engine: Engine, webinar: Webinar, seats: int) -> WebinarOut:
    assert webinar.id is not None
    return WebinarOut(
        webinar_id=webinar.id,
        seats_taken=seats,
        **webinar.model_dump(
            include={"title", "starts_at", "timezone", "duration_minutes", "join_url", "capacity", "program"}
        ),
    )
