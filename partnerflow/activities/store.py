"""Store activities: the workflow's writes to (and reads from) the system of record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from temporalio import activity

from partnerflow.domain.stages import Decision
from partnerflow.store import partners
from partnerflow.store.db import session_scope


@dataclass
class StageChange:
    partner_id: str
    stage: str
    at: datetime


@dataclass
class DecisionRecord:
    partner_id: str
    decision: Decision
    manager: str
    reason: str | None
    share_reason: bool
    at: datetime


@dataclass
class PendingApplicationsQuery:
    program: str | None = None
    limit: int = 10


@dataclass
class PendingApplication:
    partner_id: str
    name: str
    email: str
    company: str | None
    program: str
    submitted_at: datetime


class StoreActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn(name="record_stage")
    def record_stage(self, change: StageChange) -> None:
        with session_scope(self.engine) as session:
            partners.set_stage(session, change.partner_id, change.stage, change.at)

    @activity.defn(name="record_decision")
    def record_decision(self, record: DecisionRecord) -> None:
        with session_scope(self.engine) as session:
            partners.record_decision(
                session,
                record.partner_id,
                approved=record.decision == Decision.APPROVE,
                manager=record.manager,
                reason=record.reason,
                share_reason=record.share_reason,
                at=record.at,
            )

    @activity.defn(name="pending_applications")
    def pending_applications(self, query: PendingApplicationsQuery) -> list[PendingApplication]:
        with session_scope(self.engine) as session:
            rows = partners.oldest_pending_applications(session, query.program, query.limit)
            return [
                PendingApplication(
                    partner_id=partner.id,
                    name=partner.name,
                    email=partner.email,
                    company=partner.company,
                    program=partner.program,
                    submitted_at=application.submitted_at,
                )
                for application, partner in rows
            ]
