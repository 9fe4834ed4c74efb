"""Reads behind the partner's self-serve portal: webinar history, the current review period."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from partnerflow.store.models import Review, Webinar, WebinarSeat


def webinar_history(session: Session, partner_id: str, limit: int = 50) -> list[tuple[Webinar, WebinarSeat]]:
    """Every session the partner was invited to, latest first."""
    statement = (
        select(Webinar, WebinarSeat)
        .join(WebinarSeat, col(WebinarSeat.webinar_id) == col(Webinar.id))
        .where(WebinarSeat.partner_id == partner_id)
        .order_by(col(Webinar.starts_at).desc())
        .limit(limit)
    )
    return [(webinar, seat) for webinar, seat in session.exec(statement)]


def last_review_end(session: Session, partner_id: str) -> datetime | None:
    """When the partner's latest review period ended (the current one started then)."""
    statement = select(Review.period_end).where(Review.partner_id == partner_id)
    return session.exec(statement.order_by(col(Review.period_end).desc())).first()
