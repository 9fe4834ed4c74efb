"""Request and response bodies of the HTTP API (see shared/API.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from partnerflow.domain.lifecycle import HistoryEntry


class SignupAccepted(BaseModel):
    partner_id: str
    workflow_id: str
    status: str
    reapply_after: datetime | None = Field(
        default=None, description="a rejected applicant may apply again from then on (absent otherwise)"
    )


class PartnerSummary(BaseModel):
    partner_id: str
    email: str
    name: str
    company: str | None
    program: str
    locale: str
    stage: str
    tier: str | None
    created_at: datetime
    stage_changed_at: datetime


class PartnerList(BaseModel):
    items: list[PartnerSummary]
    next: str | None = Field(
        default=None, description="pass as `cursor` for the next page; null on the last page"
    )


class PartnerDetail(PartnerSummary):
    checklist: dict[str, bool]
    history: list[HistoryEntry]
    workflow_id: str
    paused: bool = Field(default=False, description="nudges paused by a manager (active partners)")
    tier_proposal: str | None = Field(
        default=None, description="the tier a review proposes, waiting for POST .../tier-decision"
    )


class DecisionBody(BaseModel):
    decision: Literal["approve", "reject"]
    reason: str | None = Field(default=None, max_length=2000)
    manager: str | None = Field(default=None, max_length=200, description="defaults to the token's name")
    share_reason: bool = Field(default=False, description="include the reason in the rejection email")


class ChecklistBody(BaseModel):
    item: Literal["terms_accepted", "kit_delivered", "tracking_link_issued", "webinar_attended"]
    waive: bool = Field(default=False, description="waive the webinar instead of marking it attended")
    note: str | None = Field(default=None, max_length=500)


class DecisionResponse(BaseModel):
    partner_id: str
    stage: str


class DecisionPendingResponse(BaseModel):
    """202: the workflow accepted (durably recorded) the decision and is applying it."""

    partner_id: str
    status: str = "accepted, applying"  # recorded by the workflow; GET /partners/{id} shows the stage


class OutboxItem(BaseModel):
    channel: str
    to: str
    subject: str
    body_text: str
    template: str
    idempotency_key: str
    status: str
    created_at: datetime
    sent_at: datetime | None
    error: str | None
    partner_id: str | None
    attempts: int
    provider_message_id: str | None


class OutboxList(BaseModel):
    items: list[OutboxItem]


class Health(BaseModel):
    status: str
    temporal: str
    database: str
