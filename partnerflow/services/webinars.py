"""Rescheduling and cancelling webinar sessions (API and CLI): change the store, then tell every
partner holding an invitation, whose workflow emails them a calendar update or cancellation."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, Field, field_validator, model_validator
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client

from partnerflow.domain.onboarding import WebinarChanged
from partnerflow.domain.urls import HttpUrlStr
from partnerflow.services.onboarding import signal_partners
from partnerflow.store import onboarding as store
from partnerflow.store.db import session_scope
from partnerflow.store.models import Webinar, utcnow

log = logging.getLogger(__name__)

SIGNAL = "webinar_changed"
TIME_FIELDS = ("starts_at", "duration_minutes")  # a change of these moves the session


class WebinarNotFound(LookupError):
    """No session with this id (HTTP 404)."""


class WebinarCancelled(Exception):
    """The session was cancelled; it cannot change any more (HTTP 409)."""


class WebinarPast(ValueError):
    """The session (or its new time) is in the past (HTTP 422)."""


class WebinarPatch(BaseModel):
    """What a manager may change of a session; every field is optional, at least one is given."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    starts_at: AwareDatetime | None = Field(
        default=None, description="ISO 8601 with offset, in the future, e.g. 2026-12-03T16:00:00+01:00"
    )
    duration_minutes: int | None = Field(default=None, gt=0, le=600)
    join_url: HttpUrlStr | None = None
    timezone: str | None = Field(default=None, description="IANA zone for display, e.g. Europe/Warsaw")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                message = f"unknown time zone {value!r} (use an IANA name like Europe/Paris)"
                raise ValueError(message) from None
        return value

    @model_validator(mode="after")
    def _something(self) -> WebinarPatch:
        if not self.model_fields_set or all(getattr(self, name) is None for name in self.model_fields_set):
            raise ValueError("give at least one of title, starts_at, duration_minutes, join_url, timezone")
        return self

    def values(self) -> dict[str, Any]:
        """The given fields as the store keeps them (URLs as text, datetimes as they are), in order."""
        dumped = self.model_dump(mode="json", exclude_none=True)
        return {name: self.starts_at if name == "starts_at" else value for name, value in dumped.items()}


@dataclass
class WebinarChange:
    webinar: Webinar
    changed: list[str] = field(default_factory=list)  # the fields that changed; empty: nothing did
    partners_notified: int = 0


async def reschedule_webinar(
    engine: Engine, client: Client, webinar_id: int, patch: WebinarPatch, by: str
) -> WebinarChange:
    """Change a session that has not started; each change bumps its .ics SEQUENCE and is signalled.

    Giving the values it already has changes nothing and tells no one.
    """

    def write() -> tuple[WebinarChange, list[str]]:
        with session_scope(engine) as session:
            webinar = _changeable(session, webinar_id)
            now = utcnow()
            if webinar.starts_at <= now:
                raise WebinarPast(
                    f"webinar {webinar_id} started at {webinar.starts_at.isoformat()}; "
                    "a past session cannot be rescheduled"
                )
            if patch.starts_at is not None and patch.starts_at <= now:
                raise WebinarPast("starts_at must be in the future")
            changed = [name for name, value in patch.values().items() if getattr(webinar, name) != value]
            if not changed:
                return WebinarChange(webinar), []
            for name in changed:
                setattr(webinar, name, patch.values()[name])
            webinar.sequence += 1
            session.add(webinar)
            session.flush()
            return WebinarChange(webinar, changed), store.invited_partner_ids(session, webinar_id)

    change, invited = await asyncio.to_thread(write)
    if change.changed:
        webinar = change.webinar
        moved = any(name in TIME_FIELDS for name in change.changed)
        signal = _signal(webinar, cancelled=False, moved=moved)
        change.partners_notified = await signal_partners(client, invited, SIGNAL, signal)
        log.info(
            "webinar %s changed by %s (%s), sequence %s; %s of %s invited partners told",
            webinar_id, by, ", ".join(change.changed), webinar.sequence, change.partners_notified,
            len(invited),
        )  # fmt: skip
    return change


async def cancel_webinar(
    engine: Engine, client: Client, webinar_id: int, reason: str | None, by: str
) -> WebinarChange:
    """Cancel a session that has not ended; invited partners get a cancellation and the next session."""

    def write() -> tuple[WebinarChange, list[str]]:
        with session_scope(engine) as session:
            webinar = _changeable(session, webinar_id)
            now = utcnow()
            if _ends_at(webinar) <= now:
                raise WebinarPast(
                    f"webinar {webinar_id} took place on {webinar.starts_at.isoformat()}; "
                    "a past session cannot be cancelled"
                )
            webinar.cancelled_at, webinar.cancel_reason = now, (reason or "").strip() or None
            webinar.sequence += 1
            session.add(webinar)
            session.flush()
            return WebinarChange(webinar, ["cancelled_at"]), store.invited_partner_ids(session, webinar_id)

    change, invited = await asyncio.to_thread(write)
    webinar = change.webinar
    signal = _signal(webinar, cancelled=True, reason=webinar.cancel_reason)
    change.partners_notified = await signal_partners(client, invited, SIGNAL, signal)
    log.info(
        "webinar %s cancelled by %s, sequence %s; %s of %s invited partners told",
        webinar_id, by, webinar.sequence, change.partners_notified, len(invited),
    )  # fmt: skip
    return change


def _changeable(session: Session, webinar_id: int) -> Webinar:
    """The session, locked against a concurrent change (PostgreSQL), if it can still change."""
    webinar = session.exec(select(Webinar).where(Webinar.id == webinar_id).with_for_update()).first()
    if webinar is None:
        raise WebinarNotFound(f"webinar {webinar_id} not found")
    if webinar.cancelled_at is not None:
        raise WebinarCancelled(
            f"webinar {webinar_id} was cancelled on {webinar.cancelled_at.isoformat()}; it cannot change"
        )
    return webinar


def _ends_at(webinar: Webinar) -> datetime:
    return webinar.starts_at + timedelta(minutes=webinar.duration_minutes)


def _signal(
    webinar: Webinar, cancelled: bool, moved: bool = False, reason: str | None = None
) -> WebinarChanged:
    assert webinar.id is not None
    return WebinarChanged(
        webinar_id=webinar.id,
        sequence=webinar.sequence,
        cancelled=cancelled,
        starts_at=webinar.starts_at,
        ends_at=_ends_at(webinar),
        moved=moved,
        reason=reason,
    )
