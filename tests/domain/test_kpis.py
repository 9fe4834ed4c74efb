"""KPI, segment and tier rules (pure functions)."""

from __future__ import annotations

import pytest

from partnerflow.domain.kpis import (
    DEFAULT_TIERS,
    Segment,
    Totals,
    close_to_tier,
    kpis,
    next_tier,
    qualifying_tier,
    segments,
)

NORMAL = Totals(clicks=200, conversions=10, refunds=1, conversion_amount=1000.0, refund_amount=100.0)

# --- KPIs ----------------------------------------------------------------------------------------


def test_normal_period_numbers() -> None:
    result = kpis(NORMAL, 0.15, program_costs=100.0)

    assert (result.clicks, result.conversions, result.revenue, result.commission) == (200, 10, 900.0, 135.0)
    assert result.conversion_rate == 0.05
    assert result.epc == 0.675
    assert result.roi == 2.8298  # (900 - 135 - 100) / (135 + 100)
    assert result.trend == {}


def test_zero_clicks_leaves_rates_undefined() -> None:
    result = kpis(Totals(conversions=2, conversion_amount=50.0), 0.10)

    assert result.conversion_rate is None and result.epc is None
    assert result.commission == 5.0 and result.roi == 9.0  # (50 - 5) / 5


def test_refunds_exceeding_sales_owe_nothing_and_lose_money() -> None:
    refunds_heavy = Totals(clicks=10, conversions=1, refunds=3, conversion_amount=100.0, refund_amount=300.0)

    result = kpis(refunds_heavy, 0.20, program_costs=50.0)

    assert result.revenue == -200.0
    assert result.commission == 0.0 and result.epc == 0.0
    assert result.roi == -5.0  # (-200 - 0 - 50) / (0 + 50)
    assert kpis(refunds_heavy, 0.20).roi is None  # no costs at all: undefined


def test_trend_is_the_percent_change_against_the_previous_period() -> None:
    previous = Totals(clicks=100, conversions=4, conversion_amount=400.0)

    trend = kpis(NORMAL, 0.15, 100.0, previous=previous).trend

    assert trend == {
        "clicks": 100.0,
        "conversions": 150.0,
        "revenue": 125.0,  # 400 -> 900
        "commission": 125.0,  # 60 -> 135
        "conversion_rate": 25.0,  # 0.04 -> 0.05
        "epc": 12.5,  # 0.6 -> 0.675
    }
    from_nothing = kpis(NORMAL, 0.15, previous=Totals()).trend
    assert from_nothing["clicks"] is None and from_nothing["revenue"] is None
    from_loss = kpis(Totals(conversion_amount=100.0), 0.1, previous=Totals(refund_amount=200.0)).trend
    assert from_loss["revenue"] == 150.0  # -200 -> 100, relative to |before|


# --- segments ------------------------------------------------------------------------------------


def test_segments_by_cumulative_revenue_share() -> None:
    revenue = {"a": 500.0, "b": 300.0, "c": 100.0, "d": 100.0, "idle": 0.0, "refunded": -50.0}

    assert segments(revenue) == {
        "a": Segment.TOP,  # 0 % before it
        "b": Segment.MIDDLE,  # 50 % before it
        "c": Segment.LONG_TAIL,  # 80 % before it
        "d": Segment.LONG_TAIL,
        "idle": Segment.LONG_TAIL,
        "refunded": Segment.LONG_TAIL,
    }


def test_segment_ties_are_ordered_by_partner_id() -> None:
    equal = {"z": 250.0, "y": 250.0, "x": 250.0, "w": 250.0}

    assert segments(equal) == {"w": "top", "x": "top", "y": "middle", "z": "middle"}
    assert segments({"a": 0.0, "b": 0.0}) == {"a": "long_tail", "b": "long_tail"}
    assert segments({}) == {}


# --- tiers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("totals", "expected"),
    [
        (Totals(), "bronze"),
        (Totals(refund_amount=100.0), "bronze"),
        (Totals(conversions=10, conversion_amount=4_999.99), "bronze"),
        (Totals(conversions=10, conversion_amount=5_000.0), "silver"),  # by revenue
        (Totals(conversions=60, conversion_amount=10.0), "silver"),  # by conversions
        (Totals(conversions=200, conversion_amount=10.0), "gold"),
        (Totals(conversions=1, conversion_amount=25_000.0), "gold"),
    ],
)
def test_qualifying_tier_by_revenue_or_conversions(totals: Totals, expected: str) -> None:
    assert qualifying_tier(totals, DEFAULT_TIERS).name == expected


def test_next_tier_and_closeness() -> None:
    silver, gold = DEFAULT_TIERS[1], DEFAULT_TIERS[2]

    assert next_tier(None, DEFAULT_TIERS) == silver
    assert next_tier("bronze", DEFAULT_TIERS) == silver
    assert next_tier("silver", DEFAULT_TIERS) == gold
    assert next_tier("gold", DEFAULT_TIERS) is None
    assert close_to_tier(Totals(conversion_amount=4_000.0), silver)  # 80 % of 5 000
    assert not close_to_tier(Totals(conversion_amount=3_999.99), silver)
    assert not close_to_tier(Totals(conversion_amount=5_000.0), silver)  # reached, not "close"
    assert not close_to_tier(Totals(conversion_amount=10.0), DEFAULT_TIERS[0])  # no threshold
