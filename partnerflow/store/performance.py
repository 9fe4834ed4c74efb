"""Performance events: idempotent ingestion, SQL aggregates for KPIs, program tiers."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from partnerflow.domain.kpis import DEFAULT_TIERS, TierRule, Totals
from partnerflow.domain.stages import Stage
from partnerflow.store.models import Partner, PerformanceEvent, Program, Tier

DEFAULT_CURRENCY = str(Program.model_fields["currency"].default)
# Partners counted in a program's figures even without events (applicants and rejects are not).
EARNING_STAGES = (Stage.APPROVED.value, Stage.ONBOARDING.value, Stage.ACTIVE.value)


@dataclass(frozen=True)
class NewEvent:
    """One already well-formed event (shape checks happen in the API)."""

    event_id: str
    partner_id: str
    type: str  # click | lead | conversion | refund
    occurred_at: datetime  # timezone-aware
    amount: float | None = None
    currency: str | None = None
    source: str = "api"


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    errors: dict[int, str] = field(default_factory=dict)  # position in the given events -> reason


def ingest(session: Session, events: Sequence[NewEvent], program: str | None = None) -> IngestResult:
    """Store new events once per ``event_id``; a repeat counts as a duplicate, never as an error.

    Each event is checked against its partner (must exist, be in ``program`` when given) and the
    partner's program currency (amounts are never converted). Safe against concurrent deliveries
    of the same events: the unique ``event_id`` decides, and the loser counts a duplicate.
    """
    result = IngestResult()
    if not events:
        return result
    partner_ids = sorted({event.partner_id for event in events})
    partners = dict(
        session.exec(select(Partner.id, Partner.program).where(col(Partner.id).in_(partner_ids))).all()
    )
    currencies = _currencies(session, set(partners.values()))
    event_ids = sorted({event.event_id for event in events})
    known = set(
        session.exec(select(PerformanceEvent.event_id).where(col(PerformanceEvent.event_id).in_(event_ids)))
    )
    fresh: list[NewEvent] = []
    for index, event in enumerate(events):
        error = _refusal(event, partners.get(event.partner_id), program, currencies)
        if error:
            result.errors[index] = error
        elif event.event_id in known:
            result.duplicates += 1
        else:
            known.add(event.event_id)
            fresh.append(event)
    stored = _insert(session, fresh)
    result.accepted += stored
    result.duplicates += len(fresh) - stored
    return result


def _refusal(
    event: NewEvent, partner_program: str | None, program: str | None, currencies: dict[str, str]
) -> str | None:
    if partner_program is None:
        return f"unknown partner {event.partner_id!r}"
    if program is not None and partner_program != program:
        return f"partner {event.partner_id} is not in program {program}"
    expected = currencies.get(partner_program, DEFAULT_CURRENCY)
    if event.currency is not None and event.currency != expected:
        return (
            f"currency {event.currency} does not match program {partner_program}'s currency {expected}; "
            "send amounts in the program's currency"
        )
    return None


def _row(event: NewEvent) -> PerformanceEvent:
    return PerformanceEvent(
        event_id=event.event_id,
        partner_id=event.partner_id,
        type=event.type,
        amount=event.amount or None,
        currency=event.currency if event.amount else None,
        occurred_at=event.occurred_at,
        source=event.source,
    )


def _insert(session: Session, events: list[NewEvent]) -> int:
    """Insert the events; returns how many were new. One savepoint, or one per event after a conflict."""
    if not events:
        return 0
    try:
        with session.begin_nested():
            session.add_all([_row(event) for event in events])
            session.flush()
        return len(events)
    except IntegrityError:
        pass  # a concurrent delivery stored some of them meanwhile: sort them out one by one
    stored = 0
    for event in events:
        try:
            with session.begin_nested():
                session.add(_row(event))
                session.flush()
            stored += 1
        except IntegrityError:
            if not _exists(session, event.event_id):
                raise
    return stored


def _exists(session: Session, event_id: str) -> bool:
    statement = select(PerformanceEvent.id).where(PerformanceEvent.event_id == event_id)
    return session.exec(statement).first() is not None


def _currencies(session: Session, programs: set[str]) -> dict[str, str]:
    statement = select(Program.id, Program.currency).where(col(Program.id).in_(sorted(programs)))
    return dict(session.exec(statement).all())


def program_currency(session: Session, program: str) -> str:
    row = session.get(Program, program)
    return row.currency if row else DEFAULT_CURRENCY


def currencies_used(session: Session, program: str) -> set[str]:
    """Currencies of the program's stored amounts (a currency change must not mix them)."""
    statement = (
        select(PerformanceEvent.currency)
        .join(Partner, col(Partner.id) == col(PerformanceEvent.partner_id))
        .where(Partner.program == program, col(PerformanceEvent.currency).is_not(None))
        .distinct()
    )
    return {currency for currency in session.exec(statement) if currency}


# --- aggregates ----------------------------------------------------------------------------------

_COUNT = func.count()
_AMOUNT = func.coalesce(func.sum(PerformanceEvent.amount), 0.0)


def totals(
    session: Session,
    start: datetime,
    end: datetime,
    partner_id: str | None = None,
    program: str | None = None,
) -> Totals:
    """Event counts and amounts with ``start <= occurred_at < end``, for a partner and/or program."""
    statement = (
        select(PerformanceEvent.type, _COUNT, _AMOUNT)
        .where(*_period(start, end))
        .group_by(col(PerformanceEvent.type))
    )
    if partner_id is not None:
        statement = statement.where(PerformanceEvent.partner_id == partner_id)
    if program is not None:
        statement = statement.join(Partner, col(Partner.id) == col(PerformanceEvent.partner_id)).where(
            Partner.program == program
        )
    return _totals(session.exec(statement))


def totals_by_partner(session: Session, program: str, start: datetime, end: datetime) -> dict[str, Totals]:
    """Per-partner totals of the program's partners that had events in the period."""
    statement = (
        select(PerformanceEvent.partner_id, PerformanceEvent.type, _COUNT, _AMOUNT)
        .join(Partner, col(Partner.id) == col(PerformanceEvent.partner_id))
        .where(Partner.program == program, *_period(start, end))
        .group_by(col(PerformanceEvent.partner_id), col(PerformanceEvent.type))
    )
    grouped: dict[str, list[tuple[str, int, float | None]]] = {}
    for partner_id, kind, count, amount in session.exec(statement):
        grouped.setdefault(partner_id, []).append((kind, count, amount))
    return {partner_id: _totals(rows) for partner_id, rows in grouped.items()}


def revenue_by_partner(
    session: Session,
    program: str,
    start: datetime,
    end: datetime,
    stages: Collection[str] | None = EARNING_STAGES,
) -> dict[str, float]:
    """Net revenue per partner of the program: every partner in ``stages`` (0 without events),
    plus anyone else who had events in the period. ``stages=None`` takes every partner."""
    members = select(Partner.id).where(Partner.program == program)
    if stages is not None:
        members = members.where(col(Partner.stage).in_(stages))
    revenue = dict.fromkeys(session.exec(members), 0.0)
    for partner_id, partner_totals in totals_by_partner(session, program, start, end).items():
        revenue[partner_id] = partner_totals.net_revenue
    return revenue


def last_event_at(session: Session, partner_id: str, types: Collection[str] | None = None) -> datetime | None:
    """When the partner's most recent event (of ``types``, or any) occurred."""
    return _edge(session, func.max(PerformanceEvent.occurred_at), partner_id, types)


def first_event_at(
    session: Session, partner_id: str, types: Collection[str] | None = None
) -> datetime | None:
    """When the partner's earliest event (of ``types``, or any) occurred."""
    return _edge(session, func.min(PerformanceEvent.occurred_at), partner_id, types)


def _edge(
    session: Session, edge: ColumnElement[datetime], partner_id: str, types: Collection[str] | None
) -> datetime | None:
    statement = select(edge).where(PerformanceEvent.partner_id == partner_id)
    if types is not None:
        statement = statement.where(col(PerformanceEvent.type).in_(types))
    return session.exec(statement).one()


def _period(start: datetime, end: datetime) -> tuple[ColumnElement[bool], ...]:
    return (col(PerformanceEvent.occurred_at) >= start, col(PerformanceEvent.occurred_at) < end)


def _totals(rows: Iterable[tuple[str, int, float | None]]) -> Totals:
    """Totals from ``(type, count, sum of amounts)`` rows (one per type)."""
    counts: dict[str, int] = {}
    amounts: dict[str, float] = {}
    for kind, count, amount in rows:
        counts[kind] = int(count)
        amounts[kind] = float(amount or 0)
    return Totals(
        clicks=counts.get("click", 0),
        leads=counts.get("lead", 0),
        conversions=counts.get("conversion", 0),
        refunds=counts.get("refund", 0),
        conversion_amount=round(amounts.get("conversion", 0.0), 2),
        refund_amount=round(amounts.get("refund", 0.0), 2),
    )


# --- tiers ---------------------------------------------------------------------------------------


def tier_rules(session: Session, program: str) -> list[TierRule]:
    """The program's tiers by rank, or the defaults when it has set none."""
    rows = session.exec(select(Tier).where(Tier.program == program).order_by(col(Tier.rank)))
    rules = [
        TierRule(row.name, row.rank, row.commission_rate, row.min_revenue, row.min_conversions)
        for row in rows
    ]
    return rules or list(DEFAULT_TIERS)


def replace_tiers(session: Session, program: str, rules: Sequence[TierRule]) -> None:
    session.exec(delete(Tier).where(col(Tier.program) == program))
    session.flush()
    for rule in rules:
        session.add(Tier(program=program, **asdict(rule)))
    session.flush()


def tier_for(partner_tier: str | None, rules: Sequence[TierRule]) -> TierRule:
    """The partner's tier among ``rules``; the entry tier when it has none (or one no longer defined)."""
    for rule in rules:
        if rule.name == partner_tier:
            return rule
    return min(rules, key=lambda rule: rule.rank)


def rate_for(partner_tier: str | None, rules: Sequence[TierRule]) -> float:
    """The commission rate of the partner's tier (the entry tier's when it has none)."""
    return tier_for(partner_tier, rules).commission_rate
