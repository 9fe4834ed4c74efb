"""Periodic reviews, tier decisions, pause and offboarding: workflow messages and payloads."""

from dataclasses import dataclass, field
from datetime import datetime

from partnerflow.domain.engagement import EngagementRules, Snapshot


@dataclass
class SnapshotInput:
    partner_id: str
    period_start: datetime
    now: datetime


@dataclass
class SnapshotResult:
    snapshot: Snapshot
    rules: EngagementRules  # the program's thresholds (defaults merged with its overrides)
    tracking_url: str | None = None
    resources: list[dict[str, str]] = field(default_factory=list)


@dataclass
class ReviewInput:
    partner_id: str
    period_start: datetime
    period_end: datetime
    current_tier: str | None


@dataclass
class ReviewResult:
    review_id: int
    segment: str
    proposed_tier: str | None  # None: no change
    scorecard: dict[str, str]  # preformatted numbers for the scorecard email
    revenue: str
    conversions: int


@dataclass
class TierChange:
    partner_id: str
    review_id: int
    new_tier: str
    decided_by: str


@dataclass
class TierChangeResult:
    old_tier: str | None
    new_tier: str
    commission_rate: str
    promoted: bool


@dataclass
class TierDecision:
    """Update: a manager confirms (approve) or refuses a proposed tier change."""

    approve: bool
    manager: str


@dataclass
class OffboardInput:
    """Update: a manager ends the partnership."""

    reason: str
    manager: str


@dataclass
class PauseInput:
    """Update: pause (nudges stop) or resume a partner."""

    paused: bool
    manager: str
