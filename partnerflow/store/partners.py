"""Queries on partners and their applications."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from partnerflow.domain.cursors import Position
from partnerflow.domain.signup import SignupPayload
from partnerflow.store import keyset
from partnerflow.store.keyset import KeysetPage
from partnerflow.store.models import Application, Partner, utcnow


def find_partner(session: Session, program: str, email: str) -> Partner | None:
    statement = select(Partner).where(Partner.program == program, Partner.email == email)
    return session.exec(statement).first()


def register_signup(session: Session, signup: SignupPayload) -> tuple[Partner, bool]:
    """Insert the partner and its pending application, or return the existing one.

    Returns ``(partner, created)``. Safe against concurrent duplicate deliveries: the unique
    (program, email) constraint decides, and the loser reads the winner's row.
    """
    existing = find_partner(session, signup.program, signup.email)
    if existing:
        return existing, False
    partner = Partner(**signup.model_dump(exclude={"metadata"}))
    try:
        with session.begin_nested():
            session.add(partner)
            session.flush()
            session.add(Application(partner_id=partner.id, submitted_at=partner.created_at))
            session.flush()
    except IntegrityError:
        winner = find_partner(session, signup.program, signup.email)
        if winner is None:
            raise
        return winner, False
    return partner, True


# What a list shows of a partner: plain rows of these columns cost a third of full ORM objects.
LISTED = (
    Partner.id,
    Partner.email,
    Partner.name,
    Partner.company,
    Partner.program,
    Partner.locale,
    Partner.stage,
    Partner.tier,
    Partner.created_at,
    Partner.stage_changed_at,
)


def list_partners(
    session: Session,
    stage: str | None = None,
    program: str | None = None,
    limit: int = 100,
    offset: int = 0,
    after: Position | None = None,
) -> KeysetPage[Row[Any]]:
    """Rows of ``LISTED``, newest first (ties by id, also descending), from ``after`` (or ``offset``).

    Every filter combination has an index in this order: a page is one short index range.
    """
    created, pid = col(Partner.created_at), col(Partner.id)
    statement = keyset.ordered(select(*[col(c) for c in LISTED]), created, pid, descending=True)
    if stage:
        statement = statement.where(Partner.stage == stage)
    if program:
        statement = statement.where(Partner.program == program)
    if after is not None:
        statement = statement.where(keyset.after(created, pid, after, descending=True))
    if offset:
        statement = statement.offset(offset)
    return keyset.fetch(session, statement, limit, lambda row: (row.created_at, row.id))


def set_stage(session: Session, partner_id: str, stage: str, at: datetime | None = None) -> None:
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise LookupError(f"partner {partner_id} not found")
    if partner.stage != stage:
        partner.stage = stage
        partner.stage_changed_at = at or utcnow()
        session.add(partner)


def record_decision(
    session: Session,
    partner_id: str,
    approved: bool,
    manager: str,
    reason: str | None,
    share_reason: bool,
    at: datetime | None = None,
) -> Application:
    application = session.get(Application, partner_id)
    if application is None:
        raise LookupError(f"application of partner {partner_id} not found")
    application.status = "approved" if approved else "rejected"
    application.decided_by = manager
    application.decided_at = at or utcnow()
    application.reason = reason
    application.share_reason = share_reason
    session.add(application)
    return application


def oldest_pending_applications(
    session: Session, program: str | None = None, limit: int = 10
) -> list[tuple[Application, Partner]]:
    statement = (
        select(Application, Partner)
        .join(Partner, col(Partner.id) == col(Application.partner_id))
        .where(Application.status == "pending")
        .order_by(col(Application.submitted_at), col(Partner.id))
        .limit(limit)
    )
    if program:
        statement = statement.where(Partner.program == program)
    return [(application, partner) for application, partner in session.exec(statement)]


def set_nudges(session: Session, partner_id: str, subscribed: bool) -> Partner | None:
    """Unsubscribe from (or resubscribe to) non-essential email: tips and nudges. None: no partner."""
    partner = session.get(Partner, partner_id)
    if partner is None:
        return None
    if subscribed and partner.unsubscribed_at is not None:
        partner.unsubscribed_at = None
    elif not subscribed and partner.unsubscribed_at is None:
        partner.unsubscribed_at = utcnow()
    session.add(partner)
    return partner
