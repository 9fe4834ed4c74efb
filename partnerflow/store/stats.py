"""Counts for the metrics scrape: each one query on an indexed column, cheap at 100k partners."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from partnerflow.store.models import Application, PartnerCount, WebhookDelivery


@dataclass
class Backlog:
    pending: int
    overdue: int = 0
    oldest: datetime | None = None


def partners_per_stage(session: Session) -> dict[str, int]:
    """Partners per stage from the trigger-kept ``partner_counts`` (a few rows, not every partner).

    A stage everyone left stays, at 0, so its gauge drops to 0 instead of keeping its last value.
    """
    statement = select(PartnerCount.stage, func.sum(PartnerCount.partners)).group_by(col(PartnerCount.stage))
    return {stage: int(count or 0) for stage, count in session.exec(statement)}


def application_backlog(session: Session, overdue_before: datetime) -> Backlog:
    """Pending applications, and how many were submitted before ``overdue_before``."""
    overdue = func.sum(case((col(Application.submitted_at) < overdue_before, 1), else_=0))
    statement = select(func.count(), overdue).where(Application.status == "pending")
    pending, late = session.exec(statement).one()
    return Backlog(int(pending or 0), int(late or 0))


def webhook_backlog(session: Session) -> Backlog:
    """Outbound deliveries still pending (being tried or waiting for a retry), and the oldest."""
    statement = select(func.count(), func.min(col(WebhookDelivery.created_at))).where(
        WebhookDelivery.status == "pending"
    )
    pending, oldest = session.exec(statement).one()
    return Backlog(int(pending or 0), oldest=oldest)
