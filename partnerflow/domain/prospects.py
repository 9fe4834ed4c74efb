"""Recruitment campaigns: payloads, ids, outreach keys and unsubscribe tokens (no I/O).

The prospect CSV rules live in ``prospect_import``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

# --- Campaigns (Temporal payloads) ---------------------------------------------------------------

OUTREACH_TEMPLATES = ("outreach_intro", "outreach_follow_up", "outreach_last_note")
OPEN_MEMBER_STATUSES = ("pending", "in_sequence")


@dataclass
class CampaignStep:
    template: str
    delay_days: float = 0.0  # wait before this step (after the previous one; the first after its slot)


DEFAULT_STEPS = [
    CampaignStep("outreach_intro", 0),
    CampaignStep("outreach_follow_up", 4),
    CampaignStep("outreach_last_note", 6),
]


@dataclass
class CampaignCursor:
    """What the parent carries across continue-as-new."""

    after_prospect_id: int = 0  # members are launched in prospect-id order
    next_slot: datetime | None = None  # the earliest first-send time not yet handed out
    launched: int = 0
    launch_done: bool = False
    runs: int = 1
    paused_at: datetime | None = None  # set while a manager has the campaign paused


@dataclass
class CampaignInput:
    campaign_id: int
    batch_size: int = 100  # child workflows started together
    batches_per_run: int = 10  # then continue-as-new, keeping the history small
    progress_every: timedelta = timedelta(hours=1)  # store refresh while the sequences run
    cursor: CampaignCursor | None = None


@dataclass
class CampaignRef:
    campaign_id: int


@dataclass
class CampaignDefinition:
    campaign_id: int
    program: str
    steps: list[CampaignStep]
    messages_per_minute: int
    status: str


@dataclass
class CampaignBatchQuery:
    campaign_id: int
    after_prospect_id: int
    limit: int


@dataclass
class CampaignProgress:
    members: int = 0
    sent: int = 0  # emails sent, every step counted
    pending: int = 0  # not contacted yet
    in_sequence: int = 0
    completed: int = 0
    converted: int = 0
    unsubscribed: int = 0
    bounced: int = 0
    failed: int = 0
    cancelled: int = 0  # members whose sequence a cancelled campaign ended


@dataclass
class CampaignStatus:
    campaign_id: int
    phase: str  # launching | running | paused | completed | cancelled
    launched: int
    runs: int
    progress: CampaignProgress
    as_of: datetime | None = None


@dataclass
class OutreachInput:
    campaign_id: int
    prospect_id: int
    steps: list[CampaignStep]
    first_send_at: datetime | None = None  # the throttle slot handed out by the parent


@dataclass
class OutreachSend:
    campaign_id: int
    prospect_id: int
    step: int  # 1-based
    template: str
    at: datetime  # workflow time of the send


@dataclass
class OutreachResult:
    idempotency_key: str
    status: str  # sent | duplicate | converted | unsubscribed | bounced | failed | paused | cancelled
    detail: str = ""


@dataclass
class MemberOutcome:
    campaign_id: int
    prospect_id: int
    status: str  # completed | converted | unsubscribed | bounced | failed | cancelled
    steps_sent: int


@dataclass
class OutreachStatus:
    prospect_id: int
    steps_sent: int
    sent_at: list[datetime]
    outcome: str | None  # None while the sequence runs
    first_send_at: datetime | None = None  # the throttle slot: no step is sent before it
    paused_at: datetime | None = None  # while its campaign is paused


@dataclass
class ProspectConverted:
    partner_id: str


@dataclass
class ProspectUnsubscribed:
    email: str = ""


def campaign_workflow_id(campaign_id: int) -> str:
    return f"campaign-{campaign_id}"


def outreach_workflow_id(campaign_id: int, prospect_id: int) -> str:
    return f"outreach-{campaign_id}-{prospect_id}"


def outreach_key(prospect_id: int, campaign_id: int, step: int) -> str:
    return f"prospect:{prospect_id}:campaign:{campaign_id}:step:{step}"


# --- One-click unsubscribe links (never expire: they must work from any old email) --------------

_SALT = "partnerflow.outreach-unsubscribe"


def make_outreach_token(secret: str, prospect_id: int, campaign_id: int) -> str:
    return URLSafeSerializer(secret, salt=_SALT).dumps({"p": prospect_id, "c": campaign_id})


def read_outreach_token(secret: str, token: str) -> tuple[int, int]:
    """``(prospect_id, campaign_id)``; raises ValueError for a forged or mangled token."""
    try:
        data = URLSafeSerializer(secret, salt=_SALT).loads(token)
    except BadSignature as exc:
        raise ValueError("unsubscribe link is not valid") from exc
    if not isinstance(data, dict) or not all(isinstance(data.get(k), int) for k in ("p", "c")):
        raise ValueError("unsubscribe link is not valid")
    return data["p"], data["c"]
