"""Which nudge or alert is due for an active partner: the pure rules, hand-checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from partnerflow.domain.engagement import (
    Action,
    EngagementMemory,
    EngagementRules,
    Snapshot,
    due_actions,
    remember,
)
from partnerflow.domain.kpis import DEFAULT_TIERS, Totals

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
RULES = EngagementRules()


def snapshot(**overrides: object) -> Snapshot:
    values: dict[str, object] = {
        "first_click_at": None, "last_click_at": None, "last_event_at": None, "conversions_ever": 0,
        "first_conversion_amount": None, "period": Totals(), "next_tier": DEFAULT_TIERS[1],
        "currency": "USD", "unsubscribed": False,
    }  # fmt: skip
    values.update(overrides)
    return Snapshot(**values)  # type: ignore[arg-type]


def due(snap: Snapshot, memory: EngagementMemory | None = None, active_days: int = 100) -> list[Action]:
    active_since = NOW - timedelta(days=active_days)
    return [
        d.action
        for d in due_actions(
            snap, memory or EngagementMemory(), RULES, NOW, active_since, NOW - timedelta(days=10)
        )
    ]


def test_no_click_for_14_days_is_nudged_but_not_at_13() -> None:
    assert due(snapshot(last_click_at=NOW - timedelta(days=13), last_event_at=NOW - timedelta(days=13))) == []
    assert due(snapshot(last_click_at=NOW - timedelta(days=14), last_event_at=NOW - timedelta(days=14))) == [
        Action.NUDGE_NO_CLICKS
    ]


def test_a_new_partner_who_never_clicked_counts_from_activation() -> None:
    assert due(snapshot(), active_days=13) == []
    assert due(snapshot(), active_days=14) == [Action.NUDGE_NO_CLICKS]


def test_frequency_cap_holds_any_nudge_for_7_days() -> None:
    quiet = snapshot(last_click_at=NOW - timedelta(days=20), last_event_at=NOW - timedelta(days=20))
    assert due(quiet, EngagementMemory(last_nudge_at=NOW - timedelta(days=6, hours=23))) == []
    assert due(quiet, EngagementMemory(last_nudge_at=NOW - timedelta(days=7))) == [Action.NUDGE_NO_CLICKS]


def test_the_same_idle_spell_is_nudged_once() -> None:
    item = due_actions(snapshot(), EngagementMemory(), RULES, NOW, NOW - timedelta(days=20), NOW)[0]
    memory = EngagementMemory()
    remember(memory, item, NOW - timedelta(days=30))  # long enough ago for the cap
    assert due(snapshot(), memory, active_days=20) == []


def test_tips_after_30_days_of_clicks_without_a_conversion() -> None:
    clicking = snapshot(
        first_click_at=NOW - timedelta(days=30), last_click_at=NOW - timedelta(days=1), last_event_at=NOW
    )
    assert due(clicking) == [Action.NUDGE_TIPS]
    assert due(snapshot(first_click_at=NOW - timedelta(days=29), last_click_at=NOW, last_event_at=NOW)) == []
    assert due(clicking, EngagementMemory(tips_sent=True)) == []


def test_first_conversion_is_congratulated_once_and_is_not_capped() -> None:
    converted = snapshot(
        last_click_at=NOW, last_event_at=NOW, conversions_ever=1, first_conversion_amount=50.0
    )
    recently_nudged = EngagementMemory(last_nudge_at=NOW - timedelta(days=1))
    assert due(converted, recently_nudged) == [Action.FIRST_CONVERSION]
    assert due(converted, EngagementMemory(first_conversion_congratulated=True)) == []


def test_close_to_the_next_tier_means_80_percent_of_its_revenue() -> None:
    active = {"last_click_at": NOW, "last_event_at": NOW, "conversions_ever": 5}
    at_79 = snapshot(
        **active, period=Totals(conversions=5, conversion_amount=3_950), first_conversion_amount=1.0
    )
    at_80 = snapshot(
        **active, period=Totals(conversions=5, conversion_amount=4_000), first_conversion_amount=1.0
    )
    memory = EngagementMemory(first_conversion_congratulated=True)
    assert due(at_79, memory) == []
    assert due(at_80, memory) == [Action.TIER_CLOSE]


def test_silence_alerts_managers_at_45_days_and_proposes_offboarding_at_180() -> None:
    assert (
        due(
            snapshot(last_event_at=NOW - timedelta(days=44), last_click_at=NOW - timedelta(days=44)),
            EngagementMemory(last_nudge_at=NOW),
        )
        == []
    )
    silent = snapshot(last_event_at=NOW - timedelta(days=45), last_click_at=NOW - timedelta(days=45))
    assert due(silent, EngagementMemory(last_nudge_at=NOW)) == [Action.SILENT_ALERT]
    gone = snapshot(last_event_at=NOW - timedelta(days=180), last_click_at=NOW - timedelta(days=180))
    assert due(gone, EngagementMemory(last_nudge_at=NOW), active_days=400) == [
        Action.SILENT_ALERT,
        Action.PROPOSE_OFFBOARDING,
    ]


def test_unsubscribed_partners_get_alerts_for_managers_but_no_nudges() -> None:
    silent = snapshot(
        last_event_at=NOW - timedelta(days=50), last_click_at=NOW - timedelta(days=50), unsubscribed=True
    )
    assert due(silent) == [Action.SILENT_ALERT]
