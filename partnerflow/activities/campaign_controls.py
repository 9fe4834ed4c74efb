"""Campaign controls: the campaign's status in the store, its remaining members, and telling its sequences.

A campaign of 10,000 prospects has up to 10,000 running sequences. Telling them that the campaign
was paused, resumed or cancelled is one activity here (signals sent in bounded batches, resumed
from its heartbeat after a retry), not 10,000 commands in the campaign's history.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import col, select
from temporalio import activity
from temporalio.service import RPCError, RPCStatusCode

from partnerflow.domain.campaign_controls import CampaignStatusChange, MemberSignal, OutreachControl
from partnerflow.domain.prospects import OPEN_MEMBER_STATUSES, CampaignRef, outreach_workflow_id
from partnerflow.store.db import session_scope
from partnerflow.store.models import Campaign, CampaignMember

log = logging.getLogger(__name__)
SIGNAL_BATCH = 200  # members read, and signals in flight, per round (and per heartbeat)


class CampaignControlActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def activities(self) -> list[Any]:
        return [self.set_campaign_status, self.cancel_campaign_members, self.signal_campaign_members]

    @activity.defn(name="set_campaign_status")
    def set_campaign_status(self, change: CampaignStatusChange) -> None:
        """Record the status first: every send reads it, so a sequence not yet told still holds."""
        with session_scope(self.engine) as session:
            campaign = session.get(Campaign, change.campaign_id)
            if campaign is None:
                raise LookupError(f"campaign {change.campaign_id} not found")
            if campaign.status == "completed":
                return  # it ended on its own meanwhile
            campaign.status = change.status
            campaign.status_changed_at, campaign.status_changed_by = change.at, change.manager
            if change.status == "cancelled":
                campaign.cancel_reason = change.reason[:500] or None
            session.add(campaign)

    @activity.defn(name="cancel_campaign_members")
    def cancel_campaign_members(self, ref: CampaignRef) -> int:
        """Mark every member still waiting or in its sequence ``cancelled``; returns how many."""
        with session_scope(self.engine) as session:
            result = session.execute(
                update(CampaignMember)
                .where(
                    col(CampaignMember.campaign_id) == ref.campaign_id,
                    col(CampaignMember.status).in_(OPEN_MEMBER_STATUSES),
                )
                .values(status="cancelled")
            )
            return int(getattr(result, "rowcount", 0) or 0)

    @activity.defn(name="signal_campaign_members")
    async def signal_campaign_members(self, request: MemberSignal) -> int:
        """Signal each launched, open sequence; ended or never-started ones are skipped. Returns how many."""
        client = activity.client()
        details = activity.info().heartbeat_details
        after = int(details[0]) if details else 0
        told = 0
        while True:
            batch = await asyncio.to_thread(self._open_members, request, after)
            if not batch:
                return told
            results = await asyncio.gather(*(self._signal(client, request, pid) for pid in batch))
            told += sum(results)
            after = batch[-1]
            activity.heartbeat(after)

    def _open_members(self, request: MemberSignal, after: int) -> list[int]:
        with session_scope(self.engine) as session:
            statement = (
                select(CampaignMember.prospect_id)
                .where(
                    CampaignMember.campaign_id == request.campaign_id,
                    CampaignMember.prospect_id > after,
                    CampaignMember.prospect_id <= request.up_to_prospect_id,
                    col(CampaignMember.status).in_(OPEN_MEMBER_STATUSES),
                )
                .order_by(col(CampaignMember.prospect_id))
                .limit(SIGNAL_BATCH)
            )
            return list(session.exec(statement))

    @staticmethod
    async def _signal(client: Any, request: MemberSignal, prospect_id: int) -> bool:
        handle = client.get_workflow_handle(outreach_workflow_id(request.campaign_id, prospect_id))
        try:
            await handle.signal(request.signal, OutreachControl(request.at))
            return True
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise  # retried; the heartbeat says where to go on
            return False  # its sequence has ended, or was never started
