"""Training webinars: sessions and attendance (manager token)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import Engine
from sqlmodel import col, select

from partnerflow.api.bounds import RowId
from partnerflow.api.deps import MANAGER_AUTH, EngineDep, ManagerDep, TemporalDep
from partnerflow.api.errors import responses, unprocessable
from partnerflow.services import onboarding as operations
from partnerflow.services import webinars
from partnerflow.services.onboarding import WebinarIn
from partnerflow.services.webinars import WebinarCancelled, WebinarNotFound, WebinarPast, WebinarPatch
from partnerflow.store import onboarding as store
from partnerflow.store.db import session_scope
from partnerflow.store.models import Webinar, utcnow

router = APIRouter(prefix="/webinars", tags=["webinars"], responses=MANAGER_AUTH)


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
    sequence: int = Field(description="the .ics SEQUENCE: how often the session was changed")
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None


class WebinarChangeOut(WebinarOut):
    changed: list[str] = Field(description="what changed; empty when the values were already these")
    partners_notified: int = Field(description="invited partners whose workflow was told")


class CancelIn(BaseModel):
    reason: str | None = Field(default=None, max_length=500, description="kept for managers, not emailed")


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


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebinarOut,
    responses=responses(unprocessable_entity="invalid body, or starts_at not in the future"),
)
def create_webinar(body: WebinarIn, engine: EngineDep, _manager: ManagerDep) -> WebinarOut:
    """Schedule a session; partners waiting for training are invited to the next one with room."""
    if body.starts_at <= utcnow():
        raise unprocessable("starts_at must be in the future", "body", "starts_at")
    with session_scope(engine) as session:
        webinar = Webinar(**body.model_dump(mode="json", exclude={"starts_at"}), starts_at=body.starts_at)
        session.add(webinar)
        session.flush()
        return _out(engine, webinar, seats=0)


@router.get("", response_model=list[WebinarOut], responses=responses(422))
def list_webinars(engine: EngineDep, _manager: ManagerDep, upcoming: bool = True) -> list[WebinarOut]:
    """Sessions, soonest first (only future ones unless ``upcoming=false``)."""
    with session_scope(engine) as session:
        statement = select(Webinar).order_by(col(Webinar.starts_at))
        if upcoming:
            statement = statement.where(col(Webinar.starts_at) > utcnow())
        return [_out(engine, w, store.seats_taken(session, w.id or 0)) for w in session.exec(statement)]


_CHANGE_ERRORS = responses(
    503,
    not_found="unknown webinar",
    conflict="the webinar was cancelled",
    unprocessable_entity="invalid body, or the session (or its new time) is in the past",
)


@router.patch("/{webinar_id}", response_model=WebinarChangeOut, responses=_CHANGE_ERRORS)
async def change_webinar(
    webinar_id: RowId, body: WebinarPatch, engine: EngineDep, client: TemporalDep, manager: ManagerDep
) -> WebinarChangeOut:
    """Reschedule a session or change its details; invited partners get a calendar update."""
    try:
        change = await webinars.reschedule_webinar(engine, client, webinar_id, body, manager)
    except (WebinarNotFound, WebinarCancelled, WebinarPast) as exc:
        raise _refused(exc) from exc
    return await run_in_threadpool(_change_out, engine, change)


@router.post("/{webinar_id}/cancel", response_model=WebinarChangeOut, responses=_CHANGE_ERRORS)
async def cancel_webinar(
    webinar_id: RowId,
    engine: EngineDep,
    client: TemporalDep,
    manager: ManagerDep,
    body: Annotated[CancelIn | None, Body()] = None,
) -> WebinarChangeOut:
    """Cancel a session; invited partners get a cancellation and are invited to the next one."""
    reason = body.reason if body else None
    try:
        change = await webinars.cancel_webinar(engine, client, webinar_id, reason, manager)
    except (WebinarNotFound, WebinarCancelled, WebinarPast) as exc:
        raise _refused(exc) from exc
    return await run_in_threadpool(_change_out, engine, change)


@router.post(
    "/{webinar_id}/attendance",
    response_model=AttendanceOut,
    responses=responses(422, 503, not_found="unknown webinar", conflict="the webinar was cancelled"),
)
async def record_attendance(
    webinar_id: RowId, body: AttendanceIn, engine: EngineDep, client: TemporalDep, _manager: ManagerDep
) -> AttendanceOut:
    """Record who attended (one partner or a whole attendance export); each workflow moves on."""
    webinar = await run_in_threadpool(_find, engine, webinar_id)
    if webinar is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"webinar {webinar_id} not found")
    if webinar.cancelled_at is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"webinar {webinar_id} was cancelled")
    results = await operations.record_attendance(engine, client, webinar_id, body.partner_ids, body.emails)
    return AttendanceOut(webinar_id=webinar_id, results=[AttendanceItem(**r.__dict__) for r in results])


def _find(engine: Engine, webinar_id: int) -> Webinar | None:
    with session_scope(engine) as session:
        return session.get(Webinar, webinar_id)


def _refused(exc: Exception) -> HTTPException:
    if isinstance(exc, WebinarNotFound):
        return HTTPException(status.HTTP_404_NOT_FOUND, str(exc))
    if isinstance(exc, WebinarCancelled):
        return HTTPException(status.HTTP_409_CONFLICT, str(exc))
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))


def _change_out(engine: Engine, change: webinars.WebinarChange) -> WebinarChangeOut:
    with session_scope(engine) as session:
        seats = store.seats_taken(session, change.webinar.id or 0)
    out = _out(engine, change.webinar, seats).model_dump()
    return WebinarChangeOut(**out, changed=change.changed, partners_notified=change.partners_notified)


def _out(engine: Engine, webinar: Webinar, seats: int) -> WebinarOut:
    assert webinar.id is not None
    return WebinarOut(
        webinar_id=webinar.id,
        seats_taken=seats,
        **webinar.model_dump(
            include={"title", "starts_at", "timezone", "duration_minutes", "join_url", "capacity", "program",
                     "sequence", "cancelled_at", "cancel_reason"}
        ),
    )  # fmt: skip
