"""Queries for onboarding: programs, terms, resources, tracking links, webinars."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from datetime import datetime

from markdown_it import MarkdownIt
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from partnerflow.store.legacy_codes import LegacyCode
from partnerflow.store.models import (
    Partner,
    PerformanceEvent,
    Program,
    Resource,
    TermsAcceptance,
    TermsVersion,
    TrackingLink,
    Webinar,
    WebinarSeat,
    utcnow,
)

_markdown = MarkdownIt("commonmark", {"html": False})  # raw HTML in terms is shown, not executed


def ensure_program(session: Session, program_id: str, default_landing_url: str) -> Program:
    """The program's row, created with defaults on first use.

    Safe against concurrent first uses (partners of a new program snapshotting at once): the
    primary key decides, and the loser reads the winner's row.
    """
    program = session.get(Program, program_id)
    if program is not None:
        return program
    name = program_id.replace("-", " ").title()
    program = Program(id=program_id, name=name, landing_url=default_landing_url)
    try:
        with session.begin_nested():
            session.add(program)
            session.flush()
    except IntegrityError:
        winner = session.get(Program, program_id)
        if winner is None:
            raise
        return winner
    return program


# --- terms ---------------------------------------------------------------------------------------


def publish_terms(session: Session, program: str, title: str, body_markdown: str, by: str) -> TermsVersion:
    latest = current_terms(session, program)
    terms = TermsVersion(
        program=program,
        version=(latest.version + 1) if latest else 1,
        title=title,
        body_markdown=body_markdown,
        body_html=_markdown.render(body_markdown),
        published_by=by,
    )
    session.add(terms)
    session.flush()
    return terms


def current_terms(session: Session, program: str) -> TermsVersion | None:
    statement = select(TermsVersion).where(TermsVersion.program == program)
    return session.exec(statement.order_by(col(TermsVersion.version).desc())).first()


def record_acceptance(
    session: Session, partner_id: str, terms: TermsVersion, ip: str | None, user_agent: str | None
) -> tuple[TermsAcceptance, bool]:
    """Record an acceptance once per (partner, version); returns ``(acceptance, created)``."""
    existing = acceptance_of(session, partner_id, terms)
    if existing:
        return existing, False
    assert terms.id is not None
    acceptance = TermsAcceptance(
        partner_id=partner_id,
        terms_version_id=terms.id,
        version=terms.version,
        ip=ip,
        user_agent=(user_agent or "")[:500] or None,
    )
    try:
        with session.begin_nested():
            session.add(acceptance)
            session.flush()
    except IntegrityError:
        winner = acceptance_of(session, partner_id, terms)
        if winner is None:
            raise
        return winner, False
    return acceptance, True


def acceptance_of(session: Session, partner_id: str, terms: TermsVersion) -> TermsAcceptance | None:
    statement = select(TermsAcceptance).where(
        TermsAcceptance.partner_id == partner_id, TermsAcceptance.terms_version_id == terms.id
    )
    return session.exec(statement).first()


def latest_acceptance(session: Session, partner_id: str) -> TermsAcceptance | None:
    statement = select(TermsAcceptance).where(TermsAcceptance.partner_id == partner_id)
    return session.exec(statement.order_by(col(TermsAcceptance.version).desc())).first()


# --- resources -----------------------------------------------------------------------------------


def resources_for(session: Session, program: str, locale: str, tier: str | None = None) -> list[Resource]:
    """The partner's library: their locale (or all-locale items), their tier (or all-tier items)."""
    statement = (
        select(Resource)
        .where(Resource.program == program)
        .where(or_(col(Resource.locale).is_(None), Resource.locale == locale))
        .where(or_(col(Resource.tier).is_(None), Resource.tier == tier))
        .order_by(col(Resource.kind), col(Resource.title))
    )
    return list(session.exec(statement))


# --- tracking ------------------------------------------------------------------------------------


def issue_tracking_link(session: Session, partner: Partner) -> TrackingLink:
    """The partner's tracking link, created on first call (idempotent)."""
    existing = session.exec(select(TrackingLink).where(TrackingLink.partner_id == partner.id)).first()
    if existing:
        return existing
    link = TrackingLink(
        code=secrets.token_urlsafe(6).replace("_", "x").replace("-", "y"),
        partner_id=partner.id,
        program=partner.program,
    )
    session.add(link)
    session.flush()
    return link


def find_link(session: Session, code: str) -> tuple[TrackingLink, bool] | None:
    """The tracking link a code leads to, and whether the code is a migrated partner's old one
    (then the link is that partner's, whatever code it carries now)."""
    link = session.get(TrackingLink, code)
    if link is not None:
        return link, False
    old = session.get(LegacyCode, code)
    if old is None:
        return None
    link = session.exec(select(TrackingLink).where(TrackingLink.partner_id == old.partner_id)).first()
    return (link, True) if link is not None else None


def record_click(
    session: Session, link: TrackingLink, event_id: str, at: datetime, source: str = "redirect"
) -> None:
    session.add(
        PerformanceEvent(
            event_id=event_id,
            partner_id=link.partner_id,
            type="click",
            occurred_at=at,
            commissionable=link.active,
            source=source,
        )
    )


def click_count(session: Session, partner_id: str) -> int:
    statement = select(func.count()).where(
        PerformanceEvent.partner_id == partner_id, PerformanceEvent.type == "click"
    )
    return int(session.exec(statement).one())


# --- webinars ------------------------------------------------------------------------------------


def seats_taken(session: Session, webinar_id: int) -> int:
    statement = select(func.count()).where(WebinarSeat.webinar_id == webinar_id)
    return int(session.exec(statement).one())


def reserve_next_seat(
    session: Session, partner: Partner, exclude: list[int], after: datetime | None = None
) -> tuple[Webinar, WebinarSeat] | None:
    """The partner's seat in the next upcoming session with room (an existing seat is reused)."""
    now = after or utcnow()
    upcoming = select(Webinar).where(
        col(Webinar.starts_at) > now,
        col(Webinar.cancelled_at).is_(None),
        or_(col(Webinar.program).is_(None), Webinar.program == partner.program),
    )
    if exclude:
        upcoming = upcoming.where(col(Webinar.id).not_in(exclude))
    for webinar in session.exec(upcoming.order_by(col(Webinar.starts_at), col(Webinar.id))):
        assert webinar.id is not None
        seat = session.exec(
            select(WebinarSeat).where(
                WebinarSeat.webinar_id == webinar.id, WebinarSeat.partner_id == partner.id
            )
        ).first()
        if seat:
            return webinar, seat
        if seats_taken(session, webinar.id) < webinar.capacity:
            seat = WebinarSeat(webinar_id=webinar.id, partner_id=partner.id)
            session.add(seat)
            session.flush()
            return webinar, seat
    return None


def seat_of(session: Session, webinar_id: int, partner_id: str) -> WebinarSeat | None:
    statement = select(WebinarSeat).where(
        WebinarSeat.webinar_id == webinar_id, WebinarSeat.partner_id == partner_id
    )
    return session.exec(statement).first()


def attendance_lookup(
    session: Session, webinar_id: int, emails: Sequence[str], partner_ids: Sequence[str]
) -> tuple[dict[str, list[str]], set[str], dict[str, WebinarSeat]]:
    """For a whole attendance list at once: partner ids by email, which ids exist, and their seats."""
    by_email: dict[str, list[str]] = {}
    for chunk in _chunks(emails):
        for partner_id, email in session.exec(
            select(Partner.id, Partner.email).where(col(Partner.email).in_(chunk))
        ):
            by_email.setdefault(email, []).append(partner_id)
    ids = [*partner_ids, *(pid for found in by_email.values() for pid in found)]
    existing: set[str] = set()
    seats: dict[str, WebinarSeat] = {}
    for chunk in _chunks(ids):
        existing.update(session.exec(select(Partner.id).where(col(Partner.id).in_(chunk))))
        statement = select(WebinarSeat).where(
            WebinarSeat.webinar_id == webinar_id, col(WebinarSeat.partner_id).in_(chunk)
        )
        seats.update((seat.partner_id, seat) for seat in session.exec(statement))
    return by_email, existing, seats


def _chunks(values: Sequence[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(values), size):  # bound parameters per IN (...)
        yield list(values[start : start + size])


def upcoming_seat(
    session: Session, partner_id: str, now: datetime | None = None
) -> tuple[Webinar, WebinarSeat] | None:
    statement = (
        select(Webinar, WebinarSeat)
        .join(WebinarSeat, col(WebinarSeat.webinar_id) == col(Webinar.id))
        .where(WebinarSeat.partner_id == partner_id, WebinarSeat.status == "invited")
        .where(col(Webinar.starts_at) > (now or utcnow()), col(Webinar.cancelled_at).is_(None))
        .order_by(col(Webinar.starts_at))
    )
    row = session.exec(statement).first()
    return (row[0], row[1]) if row else None


def invited_partner_ids(session: Session, webinar_id: int) -> list[str]:
    """Partners holding an open invitation (not attended, not a no-show) to the session."""
    statement = select(WebinarSeat.partner_id).where(
        WebinarSeat.webinar_id == webinar_id, WebinarSeat.status == "invited"
    )
    return list(session.exec(statement.order_by(col(WebinarSeat.id))))
