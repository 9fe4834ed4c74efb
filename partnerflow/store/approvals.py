"""Approval rules, reapplication and bans of a program, in the store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from partnerflow.domain.approval_rules import ApprovalRules
from partnerflow.domain.signup import SignupPayload, normalize_email
from partnerflow.domain.stages import Stage
from partnerflow.store.models import Application, Ban, Partner, Program, utcnow
from partnerflow.store.partners import find_partner

BANNED_AUTHOR = "ban"  # decided_by of the record kept for a banned email that had never applied


def approval_rules(program: Program | None) -> ApprovalRules:
    """The program's rules (none until a manager sets some)."""
    if program is None or not program.approval_rules:
        return ApprovalRules()
    return ApprovalRules.model_validate_json(program.approval_rules)


def store_approval_rules(program: Program, rules: ApprovalRules) -> None:
    program.approval_rules = rules.model_dump_json(by_alias=True, exclude_none=True)


# --- reapplication ---------------------------------------------------------------------------


@dataclass
class PastDecision:
    """A rejected application, as the store knows it (for the partner's carried history)."""

    attempt: int
    submitted_at: datetime
    decided_at: datetime
    decided_by: str
    reason: str | None


def reapply_after(session: Session, partner: Partner) -> tuple[datetime, PastDecision] | None:
    """When a rejected partner may apply again, and the rejection; None if not rejected."""
    if partner.stage != Stage.REJECTED.value:
        return None
    application = session.get(Application, partner.id)
    program = session.get(Program, partner.program)
    days = program.reapply_after_days if program is not None else 30
    decided_at = (application.decided_at if application else None) or partner.stage_changed_at
    if application is not None and application.decided_by == BANNED_AUTHOR:
        days = 0  # turned away by a ban that has since been lifted: nothing was decided on them
    past = PastDecision(
        attempt=application.attempt if application else 1,
        submitted_at=application.submitted_at if application else partner.created_at,
        decided_at=decided_at,
        decided_by=(application.decided_by if application else None) or "unknown",
        reason=application.reason if application else None,
    )
    return decided_at + timedelta(days=days), past


def reopen_application(session: Session, partner: Partner, signup: SignupPayload, attempt: int) -> bool:
    """Turn a rejected partner's application into a new, pending one (attempt ``attempt``).

    False when another delivery of the same signup got there first: the guarded update counts.
    """
    now = utcnow()
    reopened = session.execute(
        update(Application)
        .where(col(Application.partner_id) == partner.id, col(Application.attempt) == attempt - 1)
        .where(col(Application.status) == "rejected")
        .values(
            attempt=attempt,
            status="pending",
            submitted_at=now,
            decided_by=None,
            decided_at=None,
            reason=None,
            share_reason=False,
        )
    )
    if reopened.rowcount != 1:  # type: ignore[attr-defined]
        return False
    # The new application's details replace the old ones (the website they lacked, say).
    for name, value in signup.model_dump(exclude={"email", "program", "metadata"}).items():
        setattr(partner, name, value)
    partner.stage, partner.stage_changed_at = Stage.APPLIED.value, now
    session.add(partner)
    session.flush()
    return True


# --- bans ------------------------------------------------------------------------------------


def find_ban(session: Session, program: str, email: str) -> Ban | None:
    statement = select(Ban).where(Ban.program == program, Ban.email == normalize_email(email))
    return session.exec(statement).first()


def list_bans(session: Session, program: str) -> list[Ban]:
    statement = select(Ban).where(Ban.program == program).order_by(col(Ban.banned_at), col(Ban.email))
    return list(session.exec(statement))


def ban(session: Session, program: str, email: str, reason: str, by: str) -> tuple[Ban, bool]:
    """Ban ``email`` in ``program``; ``(ban, created)`` (an existing ban keeps its date and author)."""
    existing = find_ban(session, program, email)
    if existing is not None:
        return existing, False
    row = Ban(program=program, email=normalize_email(email), reason=reason, banned_by=by)
    session.add(row)
    session.flush()
    return row, True


def lift_ban(session: Session, program: str, email: str) -> Ban | None:
    """Remove the ban of ``email`` in ``program``; the ban it was, or None when there was none."""
    row = find_ban(session, program, email)
    if row is not None:
        session.delete(row)
    return row


def replace_bans(session: Session, program: str, bans: Sequence[tuple[str, str]], by: str) -> list[Ban]:
    """The program's bans become exactly ``bans`` (email, reason); returns the ones that are new."""
    wanted = {normalize_email(email): reason for email, reason in bans}
    for row in list_bans(session, program):
        if row.email not in wanted:
            session.delete(row)
        elif row.reason != wanted[row.email]:
            row.reason = wanted[row.email]
            session.add(row)
    added = [ban(session, program, email, reason, by) for email, reason in wanted.items()]
    return [row for row, created in added if created]


def turned_away(session: Session, row: Ban, signup: SignupPayload) -> Partner:
    """Count a signup the ban refused; the partner it answers with (a rejected record, no workflow)."""
    row.attempts += 1
    row.last_attempt_at = utcnow()
    session.add(row)
    existing = find_partner(session, signup.program, signup.email)
    if existing is not None:
        return existing
    partner = Partner(**signup.model_dump(exclude={"metadata"}), stage=Stage.REJECTED.value)
    refusal = Application(
        partner_id=partner.id,
        submitted_at=partner.created_at,
        status="rejected",
        decided_by=BANNED_AUTHOR,
        decided_at=partner.created_at,
        reason=row.reason,
    )
    try:
        with session.begin_nested():  # a concurrent duplicate delivery may insert it first
            session.add(partner)
            session.flush()
            session.add(refusal)
            session.flush()
    except IntegrityError:
        winner = find_partner(session, signup.program, signup.email)
        if winner is None:
            raise
        return winner
    return partner


def partners_with_emails(session: Session, program: str, emails: Sequence[str]) -> list[Partner]:
    if not emails:
        return []
    statement = select(Partner).where(Partner.program == program, col(Partner.email).in_(list(emails)))
    return list(session.exec(statement))
