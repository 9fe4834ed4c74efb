"""How far a partner is from the next tier in the current review period (pure).

A review moves a partner to the highest tier whose revenue *or* conversion threshold the period
reached (``kpis.qualifying_tier``), so progress is shown on both measures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from partnerflow.domain.kpis import TierRule, Totals, next_tier


@dataclass(frozen=True)
class Measure:
    now: float
    needed: float

    @property
    def share(self) -> float:
        """0 to 1: how much of the threshold the period has reached."""
        return min(max(self.now / self.needed, 0.0), 1.0) if self.needed > 0 else 0.0


@dataclass(frozen=True)
class TierProgress:
    current: TierRule
    next: TierRule | None  # None at the top tier
    revenue: Measure | None  # None when the next tier sets no such threshold
    conversions: Measure | None


def tier_progress(totals: Totals, current: TierRule, tiers: Sequence[TierRule]) -> TierProgress:
    """The partner's tier and, unless it is the top one, the period's progress to the next."""
    target = next_tier(current.name, tiers)
    if target is None:
        return TierProgress(current, None, None, None)
    revenue = Measure(max(totals.net_revenue, 0.0), target.min_revenue) if target.min_revenue > 0 else None
    conversions = (
        Measure(float(totals.conversions), float(target.min_conversions)) if target.min_conversions else None
    )
    return TierProgress(current, target, revenue, conversions)
