"""The store's side of the audit trail: decisions, messages, terms acceptances and program changes,
for one partner or a program's partners in a period."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from partnerflow.domain.stages import Stage
from partnerflow.store.models import (
    Application,
    OutboxMessage,
    Partner,
    ProgramPage,
    TermsAcceptance,
    TermsVersion,
)

FINAL_STAGES = (Stage.REJECTED.value, Stage.OFFBOARDED.value)


def _between(column: Any, start: datetime | None, end: datetime | None) -> list[Any]:
    """``start <= column < end``, either bound optional."""
    conditions = []
    if start is not None:
        conditions.append(col(column) >= start)
    if end is not None:
        conditions.append(col(column) < end)
    return conditions


def applications(session: Session, partner_ids: Sequence[str]) -> list[Application]:
    """The partners' applications (one each; the caller keeps the events in its period)."""
    return list(session.exec(select(Application).where(col(Application.partner_id).in_(partner_ids))))


def messages(
    session: Session, partner_ids: Sequence[str], start: datetime | None = None, end: datetime | None = None
) -> list[OutboxMessage]:
    statement = select(OutboxMessage).where(
        col(OutboxMessage.partner_id).in_(partner_ids), *_between(OutboxMessage.created_at, start, end)
    )
    return list(session.exec(statement.order_by(col(OutboxMessage.created_at))))


def acceptances(
    session: Session, partner_ids: Sequence[str], start: datetime | None = None, end: datetime | None = None
) -> list[TermsAcceptance]:
    statement = select(TermsAcceptance).where(
        col(TermsAcceptance.partner_id).in_(partner_ids), *_between(TermsAcceptance.accepted_at, start, end)
    )
    return list(session.exec(statement))


def terms_published(session: Session, program: str, start: datetime, end: datetime) -> list[TermsVersion]:
    statement = select(TermsVersion).where(
        TermsVersion.program == program, *_between(TermsVersion.published_at, start, end)
    )
    return list(session.exec(statement))


def page_edits(session: Session, program: str, start: datetime, end: datetime) -> list[ProgramPage]:
    """The application page's texts last written in the period (each keeps its latest edit only)."""
    statement = select(ProgramPage).where(
        ProgramPage.program == program, *_between(ProgramPage.updated_at, start, end)
    )
    return list(session.exec(statement))


def partners_to_audit(session: Session, program: str, start: datetime, end: datetime) -> list[Partner]:
    """The program's partners who may have done or been done anything in ``[start, end)``: signed up
    before its end, and not rejected or offboarded before its start."""
    statement = select(Partner).where(Partner.program == program, col(Partner.created_at) < end)
    return [
        partner
        for partner in session.exec(statement.order_by(col(Partner.created_at)))
        if not (partner.stage in FINAL_STAGES and partner.stage_changed_at < start)
    ]
