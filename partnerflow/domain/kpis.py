"""KPIs, segments and tiers: pure functions over aggregated numbers (no I/O).

Rules, stated once:
- net revenue = conversion amounts - refund amounts in the period (can be negative when refunds
  of earlier sales exceed new sales);
- commission owed = max(net revenue, 0) * the tier's commission rate (a negative period owes
  nothing; it is not clawed back);
- conversion rate = conversions / clicks; EPC (earnings per click) = commission / clicks;
  both are None with zero clicks (undefined, not zero);
- ROI = (net revenue - commission - program costs) / (commission + program costs); None when
  there are no costs;
- amounts are in the program's currency; events in another currency are refused at ingestion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True)
class Totals:
    """Event aggregates of one partner (or a whole program) over one period."""

    clicks: int = 0
    leads: int = 0
    conversions: int = 0
    refunds: int = 0
    conversion_amount: float = 0.0
    refund_amount: float = 0.0

    @property
    def net_revenue(self) -> float:
        return round(self.conversion_amount - self.refund_amount, 2)


@dataclass(frozen=True)
class Kpis:
    clicks: int
    leads: int
    conversions: int
    revenue: float
    commission: float
    conversion_rate: float | None
    epc: float | None
    roi: float | None
    trend: dict[str, float | None] = field(default_factory=dict)  # % change vs the previous period


def commission(totals: Totals, rate: float) -> float:
    return round(max(totals.net_revenue, 0.0) * rate, 2)


def kpis(totals: Totals, rate: float, program_costs: float = 0.0, previous: Totals | None = None) -> Kpis:
    owed = commission(totals, rate)
    costs = owed + program_costs
    current = Kpis(
        clicks=totals.clicks,
        leads=totals.leads,
        conversions=totals.conversions,
        revenue=totals.net_revenue,
        commission=owed,
        conversion_rate=_ratio(totals.conversions, totals.clicks),
        epc=_ratio(owed, totals.clicks, digits=4),
        roi=_ratio(totals.net_revenue - costs, costs),
    )
    if previous is None:
        return current
    before = kpis(previous, rate, program_costs)
    trend = {
        name: _change(getattr(before, name), getattr(current, name))
        for name in ("clicks", "conversions", "revenue", "commission", "conversion_rate", "epc")
    }
    return Kpis(**{**current.__dict__, "trend": trend})


class Segment(StrEnum):
    TOP = "top"
    MIDDLE = "middle"
    LONG_TAIL = "long_tail"


# Cumulative share of program revenue, largest partners first: the partners that make the first
# half are the top, those up to 80 % the middle, the rest (and anyone earning nothing) the long tail.
TOP_SHARE, MIDDLE_SHARE = 0.5, 0.8


def segments(revenue_by_partner: dict[str, float]) -> dict[str, Segment]:
    total = sum(max(value, 0.0) for value in revenue_by_partner.values())
    ranked = sorted(revenue_by_partner.items(), key=lambda item: (-item[1], item[0]))
    placed: dict[str, Segment] = {}
    cumulative_before = 0.0
    for partner_id, revenue in ranked:
        if revenue <= 0 or total <= 0:
            placed[partner_id] = Segment.LONG_TAIL
            continue
        share_before = cumulative_before / total
        placed[partner_id] = (
            Segment.TOP
            if share_before < TOP_SHARE
            else Segment.MIDDLE
            if share_before < MIDDLE_SHARE
            else Segment.LONG_TAIL
        )
        cumulative_before += revenue
    return placed


@dataclass(frozen=True)
class TierRule:
    name: str
    rank: int
    commission_rate: float
    min_revenue: float = 0.0
    min_conversions: int = 0


DEFAULT_TIERS = (
    TierRule("bronze", 0, 0.10),
    TierRule("silver", 1, 0.15, min_revenue=5_000, min_conversions=50),
    TierRule("gold", 2, 0.20, min_revenue=20_000, min_conversions=200),
)


def qualifying_tier(totals: Totals, tiers: Sequence[TierRule]) -> TierRule:
    """The highest tier whose revenue or conversion threshold the period reached."""
    ordered = sorted(tiers, key=lambda tier: tier.rank)
    reached = [
        t
        for t in ordered
        if totals.net_revenue >= t.min_revenue
        or (t.min_conversions and totals.conversions >= t.min_conversions)
    ]
    return reached[-1] if reached else ordered[0]


def next_tier(current: str | None, tiers: Sequence[TierRule]) -> TierRule | None:
    ordered = sorted(tiers, key=lambda tier: tier.rank)
    names = [tier.name for tier in ordered]
    index = names.index(current) if current in names else 0
    return ordered[index + 1] if index + 1 < len(ordered) else None


def close_to_tier(totals: Totals, target: TierRule, closeness: float = 0.8) -> bool:
    """Within ``closeness`` of the next tier's revenue threshold, without having reached it."""
    if target.min_revenue <= 0:
        return False
    return closeness * target.min_revenue <= totals.net_revenue < target.min_revenue


def _ratio(numerator: float, denominator: float, digits: int = 4) -> float | None:
    return round(numerator / denominator, digits) if denominator else None


def _change(before: float | None, after: float | None) -> float | None:
    if before is None or after is None or before == 0:
        return None
    return round((after - before) / abs(before) * 100, 1)
