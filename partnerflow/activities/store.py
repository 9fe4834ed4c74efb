"""Store activities: the workflow's writes to (and reads from) the system of record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from temporalio import activity

from partnerflow.domain.stages import Decision
from partnerflow.observability import metrics
from partnerflow.store import partners
from partnerflow.store.db import session_scope
from partnerflow.store.models import Application, Partner


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
    via: str = "manager"  # manager (API, dashboard), slack or rule; "rule:<name>" managers are rules


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
            application = session.get(Application, record.partner_id)
            # Counted once: a retry of this activity finds the application decided already.
            first = application is not None and application.status == "pending"
            submitted_at = application.submitted_at if application else None
            partner = session.get(Partner, record.partner_id) if first else None
            program = partner.program if partner else ""
            partners.record_decision(
                session,
                record.partner_id,
                approved=record.decision == Decision.APPROVE,
                manager=record.manager,
                reason=record.reason,
                share_reason=record.share_reason,
                at=record.at,
            )
        if first and submitted_at is not None:
            outcome = "approved" if record.decision == Decision.APPROVE else "rejected"
            metrics.count(metrics.DECISIONS, outcome=outcome, via=decided_via(record), program=program)
            waited = max((record.at - submitted_at).total_seconds(), 0.0)
            metrics.observe(metrics.TIME_TO_DECISION, waited, outcome=outcome)

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


def decided_via(record: DecisionRecord) -> str:
    """manager, slack or rule: an approval rule decides as ``rule:<name>``."""
    if record.manager.startswith("rule:"):
        return "rule"
    return record.via
