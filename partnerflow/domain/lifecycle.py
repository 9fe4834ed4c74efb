"""Inputs, results and state of the partner lifecycle workflow (Temporal payloads)."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from partnerflow.domain.engagement import EngagementMemory
from partnerflow.domain.onboarding import OnboardingTimings, WebinarChanged
from partnerflow.domain.stages import Decision, Stage, empty_checklist


def workflow_id_for(partner_id: str) -> str:
    return f"partner-{partner_id}"


@dataclass
class HistoryEntry:
    at: str  # ISO 8601, workflow time
    event: str
    detail: str = ""


@dataclass
class LifecycleState:
    """Everything the workflow carries across continue-as-new."""

    stage: Stage = Stage.APPLIED
    checklist: dict[str, bool] = field(default_factory=empty_checklist)
    tier: str | None = None
    history: list[HistoryEntry] = field(default_factory=list)
    terms_version: int | None = None  # latest version the partner accepted
    terms_version_required: int | None = None  # a newer version they are asked to accept
    webinars_missed: list[int] = field(default_factory=list)
    webinar_changes: dict[int, WebinarChanged] = field(default_factory=dict)  # the latest, per session
    active_since: datetime | None = None
    review_period_start: datetime | None = None
    segment: str | None = None
    paused: bool = False
    engagement: EngagementMemory = field(default_factory=EngagementMemory)
    offboarding_reason: str | None = None
    runs: int = 1  # how many workflow runs (continue-as-new) this partnership has had
    attempt: int = 1  # which application this is: a rejected partner may reapply (a new run, same id)


@dataclass
class ApprovalTimings:
    """When undecided applications nag managers (snapshotted at signup from settings)."""

    reminder: timedelta = timedelta(days=2)
    escalation: timedelta = timedelta(days=5)


@dataclass
class LifecycleInput:
    partner_id: str
    program: str = "default"
    approval: ApprovalTimings = field(default_factory=ApprovalTimings)
    onboarding: OnboardingTimings = field(default_factory=OnboardingTimings)
    state: LifecycleState | None = None  # set when continuing-as-new, migrating or reapplying
    reapplication: bool = False  # a new application of a rejected partner; ``state`` carries their history


@dataclass
class DecisionInput:
    decision: Decision
    manager: str
    reason: str | None = None
    share_reason: bool = False
    via: str = "manager"  # who decided: manager (API, dashboard), slack, rule (metrics label)


@dataclass
class DecisionResult:
    partner_id: str
    stage: Stage


@dataclass
class PartnerStatus:
    partner_id: str
    stage: Stage
    checklist: dict[str, bool]
    tier: str | None
    history: list[HistoryEntry]
    paused: bool = False  # nudges stopped by a manager
    tier_proposal: str | None = None  # a review's tier change waiting for a manager's answer
