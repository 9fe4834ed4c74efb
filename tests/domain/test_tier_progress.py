"""Progress to the next tier, on both thresholds (either one qualifies at the review)."""

from __future__ import annotations

from partnerflow.domain.kpis import DEFAULT_TIERS, Totals
from partnerflow.domain.tier_progress import tier_progress

BRONZE, SILVER, GOLD = DEFAULT_TIERS


def test_progress_to_the_next_tier_on_revenue_and_sales() -> None:
    progress = tier_progress(Totals(conversions=10, conversion_amount=2_600.0), BRONZE, DEFAULT_TIERS)

    assert progress.next == SILVER
    assert progress.revenue is not None and progress.revenue.share == 0.52
    assert progress.conversions is not None and progress.conversions.share == 0.2


def test_refunds_beyond_sales_show_no_progress_and_the_top_tier_has_no_next() -> None:
    refunded = tier_progress(Totals(refund_amount=500.0), BRONZE, DEFAULT_TIERS)
    assert refunded.revenue is not None and (refunded.revenue.now, refunded.revenue.share) == (0.0, 0.0)
    assert tier_progress(Totals(conversion_amount=1e9), GOLD, DEFAULT_TIERS).next is None
    beyond = tier_progress(Totals(conversion_amount=9_999.0), BRONZE, DEFAULT_TIERS)
    assert beyond.revenue is not None and beyond.revenue.share == 1.0
