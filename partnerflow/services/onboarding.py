"""Manager operations shared by the API and the CLI: change the store, then tell the workflows."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, Field, field_validator
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from temporalio.client import Client
from temporalio.service import RPCError

from partnerflow.config import Settings
from partnerflow.domain.lifecycle import workflow_id_for
from partnerflow.domain.onboarding import TermsPublished, WebinarAttended
from partnerflow.domain.urls import HttpUrlStr
from partnerflow.store import onboarding as store
from partnerflow.store.db import session_scope
from partnerflow.store.models import Partner, TermsVersion, Webinar, WebinarSeat, utcnow

log = logging.getLogger(__name__)

# Partners whose workflow hears about new terms: they may have accepted an older version.
TERMS_AUDIENCE_STAGES = ("onboarding", "active")


async def publish_terms(
    engine: Engine, client: Client, settings: Settings, program: str, title: str, body_markdown: str, by: str
) -> tuple[TermsVersion, int]:
    """Publish a new terms version; signal every onboarding/active partner of the program.

    Returns the version and how many workflows were told.
    """

    def write() -> tuple[TermsVersion, list[str]]:
        with session_scope(engine) as session:
            store.ensure_program(session, program, settings.default_landing_url)
            terms = store.publish_terms(session, program, title, body_markdown, by)
            statement = select(Partner.id).where(
                Partner.program == program, col(Partner.stage).in_(TERMS_AUDIENCE_STAGES)
            )
            return terms, list(session.exec(statement))

    terms, partner_ids = await asyncio.to_thread(write)
    signal = TermsPublished(version=terms.version)
    told = await signal_partners(client, partner_ids, "terms_published", signal)
    log.info("terms v%s of %s published by %s; %s workflows told", terms.version, program, by, told)
    return terms, told


@dataclass
class AttendanceResult:
    partner_id: str
    status: str  # recorded | already_recorded | not_invited | unknown_partner
    detail: str = ""


async def record_attendance(
    engine: Engine, client: Client, webinar_id: int, partner_ids: list[str], emails: list[str] | None = None
) -> list[AttendanceResult]:
    """Mark attendance by partner id or email (an uninvited attendee gets a seat), then signal."""

    def write() -> list[AttendanceResult]:
        results = []
        wanted = [email.strip().lower() for email in emails or []]
        with session_scope(engine) as session:
            if session.get(Webinar, webinar_id) is None:
                raise LookupError(f"webinar {webinar_id} not found")
            # One query per 500 names, not one per name: an attendance export may list thousands.
            by_email, existing, seats = store.attendance_lookup(session, webinar_id, wanted, partner_ids)
            ids = list(partner_ids)
            for email in wanted:
                if email not in by_email:
                    results.append(AttendanceResult(email, "unknown_partner", "no partner with this email"))
                ids.extend(by_email.get(email, []))
            for partner_id in dict.fromkeys(ids):
                if partner_id not in existing:
                    results.append(AttendanceResult(partner_id, "unknown_partner", "no such partner"))
                    continue
                seat = seats.get(partner_id)
                if seat and seat.status == "attended":
                    results.append(AttendanceResult(partner_id, "already_recorded"))
                    continue
                detail = "" if seat else "attended without an invitation; seat added"
                seat = seat or WebinarSeat(webinar_id=webinar_id, partner_id=partner_id)
                seat.status, seat.attended_at = "attended", utcnow()
                session.add(seat)
                results.append(AttendanceResult(partner_id, "recorded", detail))
        return results

    try:
        results = await asyncio.to_thread(write)
    except IntegrityError:
        # The partner's workflow reserved the seat in the same instant: it exists now, mark it.
        results = await asyncio.to_thread(write)
    recorded = [r.partner_id for r in results if r.status in ("recorded", "already_recorded")]
    await signal_partners(client, recorded, "webinar_attended", WebinarAttended(webinar_id, utcnow()))
    return results


async def signal_partners(client: Client, partner_ids: list[str], signal: str, arg: object) -> int:
    """Signal each partner's workflow; how many took it (ended or missing workflows are skipped)."""

    async def one(partner_id: str) -> bool:
        try:
            await client.get_workflow_handle(workflow_id_for(partner_id)).signal(signal, arg)
            return True
        except RPCError as exc:  # completed (rejected/offboarded) or never started
            log.info("partner %s not signalled %s: %s", partner_id, signal, exc)
            return False

    told = 0
    for start in range(0, len(partner_ids), 100):  # bounded fan-out
        told += sum(await asyncio.gather(*(one(pid) for pid in partner_ids[start : start + 100])))
    return told


class WebinarIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    starts_at: AwareDatetime = Field(description="ISO 8601 with offset, e.g. 2026-12-01T16:00:00+01:00")
    join_url: HttpUrlStr
    capacity: int = Field(gt=0, le=100_000)
    timezone: str = Field(default="UTC", description="IANA zone for display, e.g. Europe/Warsaw")
    duration_minutes: int = Field(default=60, gt=0, le=600)
    program: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[\w.-]+$",
        description="only this program's partners; all when empty",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like Europe/Paris)") from None
        return value
