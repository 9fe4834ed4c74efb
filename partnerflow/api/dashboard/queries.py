"""Read-only store queries behind the dashboard pages (counts, pages, weekly series, at-risk)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, union_all
from sqlmodel import Session, col, func, select

from partnerflow.config import Settings
from partnerflow.domain.cursors import Position
from partnerflow.domain.engagement import EngagementRules, program_rules
from partnerflow.domain.kpis import Totals
from partnerflow.domain.stages import Stage
from partnerflow.store import keyset, performance
from partnerflow.store.keyset import KeysetPage
from partnerflow.store.models import (
    Application,
    OutboxMessage,
    Partner,
    PartnerCount,
    PerformanceEvent,
    Program,
    Prospect,
)

# The board's columns in lifecycle order; ``approved`` is a short step before onboarding.
BOARD_STAGES = (
    Stage.APPLIED,
    Stage.APPROVED,
    Stage.ONBOARDING,
    Stage.ACTIVE,
    Stage.OFFBOARDED,
    Stage.REJECTED,
)


def stage_counts(session: Session, program: str | None = None) -> dict[str, int]:
    """Partners per stage (every board stage present, 0 when empty), from the trigger-kept counts."""
    statement = select(PartnerCount.stage, func.sum(PartnerCount.partners)).group_by(col(PartnerCount.stage))
    if program is not None:
        statement = statement.where(PartnerCount.program == program)
    counts = {stage.value: 0 for stage in BOARD_STAGES}
    counts.update({stage: int(count or 0) for stage, count in session.exec(statement)})
    return counts


def partners_in_stage(
    session: Session, stage: str, after: Position | None, limit: int
) -> KeysetPage[Row[Any]]:
    """Rows of what the board shows, longest in the stage first (index ``(stage, stage_changed_at, id)``)."""
    statement = _in_stage(stage)
    if after is not None:
        since, pid = col(Partner.stage_changed_at), col(Partner.id)
        statement = statement.where(keyset.after(since, pid, after, descending=False))
    return keyset.fetch(session, statement, limit, _since)


def board(session: Session, stages: list[str], limit: int) -> dict[str, KeysetPage[Row[Any]]]:
    """The first page of every stage in one round trip: a UNION ALL of one index range per stage."""
    members = [_in_stage(stage).limit(limit + 1).subquery() for stage in stages]
    rows: dict[str, list[Row[Any]]] = {stage: [] for stage in stages}
    for row in session.execute(union_all(*[select(member) for member in members])):
        rows[row.stage].append(row)
    return {stage: keyset.page_of(sorted(found, key=_since), limit, _since) for stage, found in rows.items()}


def _in_stage(stage: str) -> Any:
    since, pid = col(Partner.stage_changed_at), col(Partner.id)
    shown = select(
        *[pid, col(Partner.name), col(Partner.company), col(Partner.program), since, col(Partner.stage)]
    )
    return keyset.ordered(shown, since, pid, descending=False).where(Partner.stage == stage)


def _since(row: Row[Any]) -> tuple[datetime, str]:
    return row.stage_changed_at, row.id


def pending_count(session: Session) -> int:
    """A count over the ``(status, submitted_at, partner_id)`` index: the pending range alone."""
    return int(session.exec(select(func.count()).where(Application.status == "pending")).one())


def pending_applications(session: Session, after: Position | None, limit: int) -> KeysetPage[Row[Any]]:
    """Undecided applications, oldest first (index ``(status, submitted_at, partner_id)``): rows of
    the applicant (``id``, ``name``, ``email``, ``company``, ``program``) and ``submitted_at``."""
    submitted, pid = col(Application.submitted_at), col(Application.partner_id)
    applicant = [col(c) for c in (Partner.id, Partner.name, Partner.email, Partner.company, Partner.program)]
    shown: Any = select(*applicant).add_columns(submitted)
    shown = shown.select_from(Application).join(Partner, col(Partner.id) == pid)
    statement = keyset.ordered(shown, submitted, pid, descending=False).where(Application.status == "pending")
    if after is not None:
        statement = statement.where(keyset.after(submitted, pid, after, descending=False))
    return keyset.fetch(session, statement, limit, lambda row: (row.submitted_at, row.id))


def outbox_count(session: Session, to: str | None, status: str | None, channel: str | None) -> int:
    """How many messages ``outbox.list_messages`` would list with these filters."""
    statement = select(func.count()).select_from(OutboxMessage)
    if to:
        statement = statement.where(func.lower(OutboxMessage.recipient) == to.strip().lower())
    if status:
        statement = statement.where(OutboxMessage.status == status)
    if channel:
        statement = statement.where(OutboxMessage.channel == channel)
    return int(session.exec(statement).one())


@dataclass(frozen=True)
class ProgramRow:
    program: str
    name: str
    partners: int


def programs(session: Session) -> list[ProgramRow]:
    """Configured programs and any program partners signed up to, by id."""
    per_program = select(PartnerCount.program, func.sum(PartnerCount.partners)).group_by(
        col(PartnerCount.program)
    )
    counts = {program: int(count) for program, count in session.exec(per_program) if count}
    names = dict(session.exec(select(Program.id, Program.name)).all())
    return [
        ProgramRow(program, names.get(program, program), int(counts.get(program, 0)))
        for program in sorted(set(counts) | set(names))
    ]


def new_prospects_by_program() -> Any:
    """``(program, prospects not contacted yet)``: who a new campaign would write to."""
    return (
        select(Prospect.program, func.count()).where(Prospect.status == "new").group_by(col(Prospect.program))
    )


def week_starts(now: datetime, weeks: int) -> list[datetime]:
    """Mondays (00:00 UTC) of the last ``weeks`` weeks, this one last."""
    monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return [monday - timedelta(weeks=weeks - 1 - index) for index in range(weeks)]


def weekly_totals(
    session: Session, program: str, now: datetime, weeks: int = 12
) -> list[tuple[datetime, Totals]]:
    """The program's totals per calendar week (the current week up to ``now``)."""
    starts = week_starts(now, weeks)
    ends = [*starts[1:], now]
    return [
        (start, performance.totals(session, start, end, program=program))
        for start, end in zip(starts, ends, strict=True)
    ]


@dataclass(frozen=True)
class Ranked:
    partner_id: str
    name: str
    value: float


def top_partners(
    session: Session, program: str, start: datetime, end: datetime, limit: int = 10
) -> list[Ranked]:
    """Highest net revenue in ``[start, end)``; partners who earned nothing are left out."""
    revenue = performance.revenue_by_partner(session, program, start, end)
    best = sorted(((-value, pid) for pid, value in revenue.items() if value > 0))[:limit]
    names = _names(session, [pid for _, pid in best])
    return [Ranked(pid, names.get(pid, pid), -negative) for negative, pid in best]


def engagement_rules(session: Session, settings: Settings, program: str) -> EngagementRules:
    row = session.get(Program, program)
    return program_rules(settings.engagement, row.engagement_rules if row else None)


def at_risk(session: Session, program: str, silent_days: int, now: datetime) -> list[Ranked]:
    """Active partners without any event for ``silent_days`` or more (since they became active
    when they never had one), longest silence first; ``value`` is the days of silence."""
    last_event = (
        select(PerformanceEvent.partner_id, func.max(PerformanceEvent.occurred_at).label("last"))
        .group_by(col(PerformanceEvent.partner_id))
        .subquery()
    )
    statement = (
        select(Partner, last_event.c.last)
        .outerjoin(last_event, last_event.c.partner_id == col(Partner.id))
        .where(Partner.program == program, Partner.stage == Stage.ACTIVE.value)
    )
    silent: list[Ranked] = []
    for partner, last in session.exec(statement):
        since = _aware(last) if last is not None else partner.stage_changed_at
        days = (now - since).days
        if days >= silent_days:
            silent.append(Ranked(partner.id, partner.name, days))
    return sorted(silent, key=lambda row: (-row.value, row.name))


def _aware(moment: datetime | str) -> datetime:
    """``max()`` over a subquery comes back untyped on SQLite (a string, without an offset)."""
    parsed = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _names(session: Session, partner_ids: list[str]) -> dict[str, str]:
    if not partner_ids:
        return {}
    rows = session.exec(select(Partner.id, Partner.name).where(col(Partner.id).in_(partner_ids)))
    return dict(rows.all())
