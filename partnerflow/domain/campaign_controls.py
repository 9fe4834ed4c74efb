"""Pausing, resuming and cancelling a recruitment campaign: payloads and the transition rule (no I/O).

A campaign is ``running``, ``paused``, ``completed`` or ``cancelled``. Managers pause and resume
running campaigns and cancel any campaign that has not ended; everything else is refused (409).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# Signals the campaign sends its launched sequences (ProspectOutreachWorkflow), by name.
PAUSED_SIGNAL = "campaign_paused"
RESUMED_SIGNAL = "campaign_resumed"
CANCELLED_SIGNAL = "campaign_cancelled"
REFUSED = "CampaignTransitionRefused"  # the ApplicationError type of a refused update


class CampaignAction(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"


# The status each action leads to, and the statuses it may start from.
TARGET = {
    CampaignAction.PAUSE: "paused",
    CampaignAction.RESUME: "running",
    CampaignAction.CANCEL: "cancelled",
}
ALLOWED_FROM = {
    CampaignAction.PAUSE: ("running",),
    CampaignAction.RESUME: ("paused",),
    CampaignAction.CANCEL: ("running", "paused"),
}


def refusal(status: str, action: CampaignAction) -> str | None:
    """Why ``action`` is not possible for a campaign in ``status``; None when it is."""
    if status in ALLOWED_FROM[action]:
        return None
    if status in ("completed", "cancelled"):
        return f"the campaign is {status}; it can no longer be {TARGET[action]}"
    if action == CampaignAction.PAUSE:
        return "the campaign is already paused"
    return f"the campaign is {status}, not paused"


@dataclass
class CampaignControl:
    """Update: a manager pauses, resumes or cancels a campaign."""

    manager: str
    reason: str = ""


@dataclass
class CampaignStatusChange:
    """Activity input: the campaign's status in the store, and who changed it."""

    campaign_id: int
    status: str  # running | paused | cancelled
    at: datetime
    manager: str
    reason: str = ""


@dataclass
class MemberSignal:
    """Activity input: signal every launched, still-open sequence of a campaign."""

    campaign_id: int
    signal: str  # PAUSED_SIGNAL | RESUMED_SIGNAL | CANCELLED_SIGNAL
    at: datetime
    up_to_prospect_id: int  # sequences are launched in prospect-id order: none beyond this one


@dataclass
class OutreachControl:
    """Signal payload to a prospect's sequence: when the campaign was paused, resumed or cancelled."""

    at: datetime
