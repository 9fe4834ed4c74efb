"""Engagement rules for active partners: which nudge or alert is due (pure, no I/O)."""

import json
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from enum import StrEnum

from partnerflow.domain.kpis import TierRule, Totals, close_to_tier


@dataclass
class EngagementRules:
    """Thresholds in days; settings give the defaults, a program may override any of them."""

    no_click_days: int = 14
    no_conversion_days: int = 30
    silent_days: int = 45
    nudge_cap_days: int = 7
    inactivity_offboard_days: int = 180
    review_period_days: float = 90  # fractions allowed, e.g. 0.003 (about 4 minutes) for a demo
    tier_confirmation_days: float = 7
    check_interval_hours: float = 24
    near_tier_ratio: float = 0.8

    @property
    def review_period(self) -> timedelta:
        return timedelta(days=self.review_period_days)

    @property
    def check_interval(self) -> timedelta:
        return timedelta(hours=self.check_interval_hours)


@dataclass
class Snapshot:
    """What the store knows about an active partner's activity, as of ``now``."""

    first_click_at: datetime | None
    last_click_at: datetime | None
    last_event_at: datetime | None
    conversions_ever: int
    first_conversion_amount: float | None
    period: Totals
    next_tier: TierRule | None
    currency: str
    unsubscribed: bool


@dataclass
class EngagementMemory:
    """What was already sent, so nothing repeats (carried across continue-as-new)."""

    last_nudge_at: datetime | None = None
    first_conversion_congratulated: bool = False
    tips_sent: bool = False
    no_click_nudged_for: str | None = None  # the idle spell's start date
    silent_alert_for: str | None = None
    offboarding_proposed_for: str | None = None
    tier_close_for: str | None = None  # "<period start>:<tier>"


class Action(StrEnum):
    FIRST_CONVERSION = "first-conversion"
    NUDGE_NO_CLICKS = "nudge-no-clicks"
    NUDGE_TIPS = "nudge-tips"
    TIER_CLOSE = "tier-close"
    SILENT_ALERT = "silent-alert"
    PROPOSE_OFFBOARDING = "propose-offboarding"


NUDGES = (Action.NUDGE_NO_CLICKS, Action.NUDGE_TIPS, Action.TIER_CLOSE)


@dataclass
class Due:
    action: Action
    key: str  # business idempotency suffix, unique per occurrence
    days: int = 0


def due_actions(
    snapshot: Snapshot,
    memory: EngagementMemory,
    rules: EngagementRules,
    now: datetime,
    active_since: datetime,
    period_start: datetime,
) -> list[Due]:
    """Everything due now; at most one nudge, and none within the frequency cap."""
    due: list[Due] = []
    if snapshot.conversions_ever > 0 and not memory.first_conversion_congratulated:
        due.append(Due(Action.FIRST_CONVERSION, "first-conversion"))

    last_any = max(filter(None, [snapshot.last_event_at, active_since]))
    silent_days = (now - last_any).days
    spell = last_any.date().isoformat()
    if silent_days >= rules.silent_days and memory.silent_alert_for != spell:
        due.append(Due(Action.SILENT_ALERT, f"silent:{spell}", silent_days))
    if silent_days >= rules.inactivity_offboard_days and memory.offboarding_proposed_for != spell:
        due.append(Due(Action.PROPOSE_OFFBOARDING, f"propose-offboarding:{spell}", silent_days))

    capped = memory.last_nudge_at is not None and now - memory.last_nudge_at < timedelta(
        days=rules.nudge_cap_days
    )
    if snapshot.unsubscribed or capped:
        return due
    idle_since = snapshot.last_click_at or active_since
    idle_days = (now - idle_since).days
    if idle_days >= rules.no_click_days and memory.no_click_nudged_for != idle_since.date().isoformat():
        return [
            *due,
            Due(Action.NUDGE_NO_CLICKS, f"nudge-no-clicks:{idle_since.date().isoformat()}", idle_days),
        ]
    if (
        snapshot.first_click_at is not None
        and snapshot.conversions_ever == 0
        and not memory.tips_sent
        and (now - snapshot.first_click_at).days >= rules.no_conversion_days
    ):
        return [*due, Due(Action.NUDGE_TIPS, "nudge-tips", (now - snapshot.first_click_at).days)]
    target = snapshot.next_tier
    if target and close_to_tier(snapshot.period, target, rules.near_tier_ratio):
        marker = f"{period_start.date().isoformat()}:{target.name}"
        if memory.tier_close_for != marker:
            return [*due, Due(Action.TIER_CLOSE, f"tier-close:{marker}")]
    return due


def remember(memory: EngagementMemory, item: Due, now: datetime) -> None:
    """Note that ``item`` went out."""
    if item.action in NUDGES:
        memory.last_nudge_at = now
    match item.action:
        case Action.FIRST_CONVERSION:
            memory.first_conversion_congratulated = True
        case Action.NUDGE_TIPS:
            memory.tips_sent = True
        case Action.NUDGE_NO_CLICKS:
            memory.no_click_nudged_for = item.key.rsplit(":", 1)[-1]
        case Action.SILENT_ALERT:
            memory.silent_alert_for = item.key.rsplit(":", 1)[-1]
        case Action.PROPOSE_OFFBOARDING:
            memory.offboarding_proposed_for = item.key.rsplit(":", 1)[-1]
        case Action.TIER_CLOSE:
            memory.tier_close_for = item.key.removeprefix("tier-close:")


def program_rules(defaults: EngagementRules, overrides_json: str | None) -> EngagementRules:
    """The settings' thresholds with a program's JSON overrides (unknown keys are ignored)."""
    overrides = json.loads(overrides_json) if overrides_json else {}
    known = {f.name for f in fields(EngagementRules)}
    return EngagementRules(**{**defaults.__dict__, **{k: v for k, v in overrides.items() if k in known}})
