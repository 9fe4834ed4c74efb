"""KPIs of a partner or a whole program over a period, with the trend vs the period before."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field
from sqlmodel import select

from partnerflow.api.bounds import ProgramId
from partnerflow.api.deps import MANAGER_AUTH, EngineDep, ManagerDep
from partnerflow.api.errors import responses, unprocessable
from partnerflow.domain.kpis import Kpis, Segment, TierRule, Totals, commission, kpis, segments
from partnerflow.store import performance
from partnerflow.store.db import session_scope
from partnerflow.store.models import Partner, Program, utcnow

router = APIRouter(tags=["kpis"], responses=MANAGER_AUTH)
_BAD_PERIOD = "unreadable or empty from/to period"

DEFAULT_PERIOD = timedelta(days=30)
# The period before [from, to) must stay representable: these bounds keep it within years 940..3000.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)
_FROM = Query(None, alias="from", description="ISO date or datetime (UTC if no offset); default to - 30 days")
_TO = Query(None, alias="to", description="ISO date or datetime, exclusive; default now")


class KpisOut(BaseModel):
    period_from: datetime = Field(serialization_alias="from")
    period_to: datetime = Field(serialization_alias="to")
    currency: str
    clicks: int
    leads: int
    conversions: int
    refunds: int
    revenue: float = Field(description="conversions - refunds, in the program's currency")
    commission: float
    conversion_rate: float | None = Field(description="conversions / clicks; null without clicks")
    epc: float | None = Field(description="commission per click; null without clicks")
    roi: float | None = Field(description="(revenue - commission - costs) / (commission + costs)")
    trend: dict[str, float | None] = Field(description="% change vs the previous period of equal length")


class PartnerKpisOut(KpisOut):
    partner_id: str
    program: str
    tier: str
    commission_rate: float


class ProgramKpisOut(KpisOut):
    program: str
    costs: float = Field(description="monthly_costs x period days / 30")
    partners: int
    segments: dict[str, int]


@router.get(
    "/partners/{partner_id}/kpis",
    response_model=PartnerKpisOut,
    responses=responses(not_found="unknown partner", unprocessable_entity=_BAD_PERIOD),
)
def partner_kpis(
    partner_id: str, engine: EngineDep, _m: ManagerDep, start: str | None = _FROM, end: str | None = _TO
) -> PartnerKpisOut:
    """A partner's clicks, conversions, revenue, commission (at their tier's rate) and ratios."""
    begin, finish = _period(start, end)
    with session_scope(engine) as session:
        partner = session.get(Partner, partner_id)
        if partner is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"partner {partner_id} not found")
        tier = performance.tier_for(partner.tier, performance.tier_rules(session, partner.program))
        now = performance.totals(session, begin, finish, partner_id=partner_id)
        before = performance.totals(session, begin - (finish - begin), begin, partner_id=partner_id)
        currency = performance.program_currency(session, partner.program)
    numbers = kpis(now, tier.commission_rate, previous=before)
    return PartnerKpisOut(
        partner_id=partner_id,
        program=partner.program,
        tier=tier.name,
        commission_rate=tier.commission_rate,
        **_common(numbers, now, begin, finish, currency),
    )


@router.get(
    "/programs/{program}/kpis",
    response_model=ProgramKpisOut,
    responses=responses(not_found="unknown program", unprocessable_entity=_BAD_PERIOD),
)
def program_kpis(
    program: ProgramId, engine: EngineDep, _m: ManagerDep, start: str | None = _FROM, end: str | None = _TO
) -> ProgramKpisOut:
    """The whole program: totals, commission owed to all partners, ROI after program costs, segments."""
    begin, finish = _period(start, end)
    previous = begin - (finish - begin)
    with session_scope(engine) as session:
        row = session.get(Program, program)
        tiers = dict(session.exec(select(Partner.id, Partner.tier).where(Partner.program == program)).all())
        if row is None and not tiers:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"program {program!r} not found")
        rules = performance.tier_rules(session, program)
        owed_now = _owed(performance.totals_by_partner(session, program, begin, finish), tiers, rules)
        owed_before = _owed(performance.totals_by_partner(session, program, previous, begin), tiers, rules)
        now = performance.totals(session, begin, finish, program=program)
        before = performance.totals(session, previous, begin, program=program)
        revenue = performance.revenue_by_partner(session, program, begin, finish)
        currency = performance.program_currency(session, program)
    costs = round((row.monthly_costs if row else 0.0) * (finish - begin).total_seconds() / 86_400 / 30, 2)
    numbers = _program_numbers(now, owed_now, before, owed_before, costs)
    placed = Counter(segments(revenue).values())
    return ProgramKpisOut(
        program=program,
        costs=costs,
        partners=len(revenue),
        segments={segment.value: placed[segment] for segment in Segment},
        **_common(numbers, now, begin, finish, currency),
    )


def _owed(by_partner: dict[str, Totals], tiers: dict[str, str | None], rules: list[TierRule]) -> float:
    """Commission owed to all partners, each at their own tier's rate."""
    owed = (
        commission(totals, performance.rate_for(tiers.get(pid), rules)) for pid, totals in by_partner.items()
    )
    return round(sum(owed), 2)


def _program_numbers(now: Totals, owed: float, before: Totals, owed_before: float, costs: float) -> Kpis:
    """Program KPIs from the domain rules when commission is owed per partner, each at their own
    rate (a partner's negative period owes nothing and offsets no one), so no single rate applies:
    traffic and revenue at rate 0 with the commission counted as a cost (that makes ROI), and
    commission and EPC from the owed sum taken at 100 %."""
    base = kpis(now, 0.0, costs + owed, previous=before)
    paid = kpis(
        Totals(clicks=now.clicks, conversion_amount=owed),
        1.0,
        previous=Totals(clicks=before.clicks, conversion_amount=owed_before),
    )
    trend = {**base.trend, "commission": paid.trend["commission"], "epc": paid.trend["epc"]}
    return replace(base, commission=paid.commission, epc=paid.epc, trend=trend)


def _common(
    numbers: Kpis, now: Totals, begin: datetime, finish: datetime, currency: str
) -> dict[str, object]:
    return {
        **numbers.__dict__,
        "refunds": now.refunds,
        "period_from": begin,
        "period_to": finish,
        "currency": currency,
    }


def _period(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    """``[from, to)`` from the query; 422 when unreadable, out of range or empty."""
    finish = _moment("to", end) if end else utcnow()
    begin = _moment("from", start) if start else finish - DEFAULT_PERIOD
    if begin >= finish:
        raise unprocessable(
            f"from ({begin.isoformat()}) must be before to ({finish.isoformat()})", "query", "from"
        )
    return begin, finish


def _moment(name: str, value: str) -> datetime:
    if "T" in value:
        value = value.replace(" ", "+")  # an unencoded "+01:00" offset arrives as " 01:00"
    try:
        if len(value) == 10:
            return _within(name, datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC))
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise unprocessable(
            f"{name}: expected an ISO date or datetime (2026-12-01 or 2026-12-01T00:00:00Z), got {value!r}",
            "query",
            name,
        ) from None
    return _within(name, moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _within(name: str, moment: datetime) -> datetime:
    """Within the years the store can hold, and far enough from them to compare with the period before."""
    if not EARLIEST <= moment <= LATEST:
        raise unprocessable(
            f"{name}: {moment.isoformat()} is out of range ({EARLIEST.date()} to {LATEST.date()})",
            "query",
            name,
        )
    return moment
