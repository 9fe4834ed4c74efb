"""Recruitment campaigns on a Temporal test server, with the real activities and a bouncing inbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from conftest import make_settings, partnerflow_worker
from helpers import eventually, message_keys, messages
from sqlalchemy import Engine
from sqlmodel import select
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from partnerflow.activities.recruitment import RecruitmentActivities
from partnerflow.config import Settings
from partnerflow.domain.delivery import INVALID_RECIPIENT, PermanentDeliveryError
from partnerflow.domain.prospects import CampaignStatus, campaign_workflow_id
from partnerflow.providers import slack_backend
from partnerflow.providers.email import LocalOutboxEmailBackend, OutboundEmail
from partnerflow.services.campaigns import CampaignIn, start_campaign
from partnerflow.store import prospects as store
from partnerflow.store.db import make_engine, session_scope, upgrade
from partnerflow.store.models import CampaignMember, Prospect
from partnerflow.workflows.recruitment import ProspectOutreachWorkflow, RecruitmentCampaignWorkflow

INTRO_ONLY = [{"template": "outreach_intro", "delay_days": 0}]


class BouncingBackend(LocalOutboxEmailBackend):
    """The local outbox, except that mailboxes named ``bounce...`` do not exist."""

    def send(self, email: OutboundEmail) -> str | None:
        if email.to.startswith("bounce"):
            raise PermanentDeliveryError(INVALID_RECIPIENT, f"550 no such mailbox {email.to}")
        return super().send(email)


@dataclass
class Recruit:
    env: WorkflowEnvironment
    settings: Settings
    engine: Engine

    async def campaign(
        self, emails: list[str], steps: list[dict[str, Any]] | None = None, rate: int = 600, **tuning: Any
    ) -> tuple[int, dict[str, int], WorkflowHandle[Any, CampaignStatus]]:
        """Import ``emails`` as prospects and start a campaign to them; waits for the first send."""
        with session_scope(self.engine) as session:
            store.import_csv(
                session, "default", "email,name\n" + "".join(f"{e},{e[:3]}\n" for e in emails), {}
            )
            rows = session.exec(select(Prospect).where(Prospect.program == "default"))
            ids = {p.email: p.id for p in rows if p.id is not None}
        values: dict[str, Any] = {"name": "Spring", "messages_per_minute": rate}
        body = CampaignIn.model_validate(values | ({"steps": steps} if steps else {}))
        tuning.setdefault("progress_every", timedelta(days=1))
        campaign_id = await start_campaign(self.engine, self.env.client, self.settings, body, **tuning)
        handle = self.env.client.get_workflow_handle_for(
            RecruitmentCampaignWorkflow.run, campaign_workflow_id(campaign_id)
        )
        await eventually(lambda: messages(self.engine, channel="email"))
        return campaign_id, ids, handle

    def member(self, campaign_id: int, prospect_id: int) -> CampaignMember:
        with session_scope(self.engine) as session:
            found = store.get_member(session, campaign_id, prospect_id)
        assert found is not None
        return found

    def prospect(self, prospect_id: int) -> Prospect:
        with session_scope(self.engine) as session:
            found = session.get(Prospect, prospect_id)
        assert found is not None
        return found

    def steps_sent(self, prospect_id: int) -> list[str]:
        prefix = f"prospect:{prospect_id}:campaign:"
        return [
            key.rsplit(":", 1)[1]
            for key in message_keys(self.engine, status="sent")
            if key.startswith(prefix)
        ]

    async def finish(self, handle: WorkflowHandle[Any, CampaignStatus]) -> CampaignStatus:
        """The campaign's result, once its next progress check (daily in these tests) has run.

        Handles got by id do not unlock time skipping while awaiting a result, so move the clock.
        """
        await self.env.sleep(timedelta(days=1, hours=1))
        return await handle.result()

    async def settled(self, campaign_id: int, prospect_id: int, status: str) -> None:
        await eventually(lambda: self.member(campaign_id, prospect_id).status == status)


@asynccontextmanager
async def recruiting(env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Recruit]:
    """The production worker plus the recruitment workflows and activities (bouncing inbox)."""
    settings = make_settings(tmp_path)
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    activities = RecruitmentActivities(
        settings, engine, BouncingBackend(settings.outbox_dir), slack_backend(settings)
    )
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with partnerflow_worker(
            env, settings, engine, executor,
            extra_workflows=[RecruitmentCampaignWorkflow, ProspectOutreachWorkflow],
            extra_activities=activities.activities(),
        ):  # fmt: skip
            yield Recruit(env, settings, engine)
    engine.dispose()
