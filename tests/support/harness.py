"""A worker with the production activities on the time-skipping server, for workflow tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from conftest import make_settings, partnerflow_worker
from helpers import add_partner, eventually, messages
from sqlalchemy import Engine
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from partnerflow.config import Settings
from partnerflow.domain.lifecycle import DecisionInput, LifecycleState, workflow_id_for
from partnerflow.domain.onboarding import ChecklistUpdate, TermsAccepted
from partnerflow.domain.stages import CHECKLIST_ITEMS, Decision, Stage
from partnerflow.services.temporal import lifecycle_input
from partnerflow.store.db import make_engine, upgrade
from partnerflow.workflows.lifecycle import PartnerLifecycleWorkflow

Handle = WorkflowHandle[PartnerLifecycleWorkflow, object]


@dataclass
class Harness:
    env: WorkflowEnvironment
    settings: Settings
    engine: Engine
    started: list[Handle] = field(default_factory=list)

    async def start(
        self, email: str | None = None, settled: bool = True, **fields: object
    ) -> tuple[str, Handle]:
        """Start a partner's workflow; ``settled`` waits until its first two messages are sent."""
        partner = add_partner(self.engine, email or f"{uuid.uuid4().hex[:8]}@example.com", **fields)
        handle = await self.env.client.start_workflow(
            PartnerLifecycleWorkflow.run,
            lifecycle_input(self.settings, partner.id, partner.program),
            id=workflow_id_for(partner.id) + uuid.uuid4().hex[:4],
            task_queue=self.settings.task_queue,
        )
        self.started.append(handle)
        if settled:  # no activity in flight when a test moves the clock
            await eventually(lambda: len(messages(self.engine, partner_id=partner.id, status="sent")) == 2)
        else:
            await eventually(lambda: messages(self.engine, partner_id=partner.id, channel="email"))
        return partner.id, handle

    async def approved(self, **fields: object) -> tuple[str, Handle]:
        """A partner whose application was approved and welcomed (stage onboarding)."""
        pid, handle = await self.start(**fields)
        await self.decide(handle, Decision.APPROVE)
        await self.sent(pid, "welcome")
        return pid, handle

    async def accept_terms(self, pid: str, handle: Handle, version: int = 1) -> None:
        now = await self.env.get_current_time()
        await handle.signal(
            PartnerLifecycleWorkflow.terms_accepted, TermsAccepted(version=version, accepted_at=now)
        )
        await self.sent(pid, "welcome-kit")

    async def active(self, **fields: object) -> tuple[str, Handle]:
        """A partner through onboarding (terms accepted, webinar waived): stage active."""
        pid, handle = await self.approved(**fields)
        await self.accept_terms(pid, handle)
        await handle.execute_update(
            PartnerLifecycleWorkflow.complete_checklist_item,
            ChecklistUpdate("webinar_attended", "alice", waive=True),
        )
        await self.sent(pid, "onboarding-complete")
        return pid, handle

    async def already_active(self, since: datetime, **fields: object) -> tuple[str, Handle]:
        """A partner whose workflow starts in ``active`` (as after continue-as-new), active since ``since``."""
        partner = add_partner(self.engine, f"{uuid.uuid4().hex[:8]}@example.com", **fields)
        state = LifecycleState(
            stage=Stage.ACTIVE, checklist={item: True for item in CHECKLIST_ITEMS}, active_since=since
        )
        handle = await self.env.client.start_workflow(
            PartnerLifecycleWorkflow.run,
            lifecycle_input(self.settings, partner.id, partner.program, state),
            id=workflow_id_for(partner.id) + uuid.uuid4().hex[:4],
            task_queue=self.settings.task_queue,
        )
        self.started.append(handle)
        return partner.id, handle

    async def sent(self, pid: str, purpose: str) -> None:
        """Wait until the message ``partner:<pid>:<purpose>`` was delivered (or failed for good)."""
        key = f"partner:{pid}:{purpose}"
        await eventually(
            lambda: any(m.idempotency_key == key and m.status != "pending" for m in messages(self.engine))
        )

    def purposes(self, pid: str) -> list[str]:
        """The purposes of every message about this partner (keys without ``partner:<pid>:``)."""
        prefix = f"partner:{pid}:"
        return [m.idempotency_key.removeprefix(prefix) for m in messages(self.engine, partner_id=pid)]

    async def decide(self, handle: Handle, decision: Decision, **fields: object) -> object:
        return await handle.execute_update(
            PartnerLifecycleWorkflow.decide, DecisionInput(decision=decision, manager="alice", **fields)
        )


@asynccontextmanager
async def running(env: WorkflowEnvironment, tmp_path: Path, **overrides: object) -> AsyncIterator[Harness]:
    """A worker with the production activities on a fresh database."""
    settings = make_settings(tmp_path, **overrides)
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with partnerflow_worker(env, settings, engine, executor):
            harness = Harness(env, settings, engine)
            try:
                yield harness
            finally:
                # Left running, their timers would hold the shared time-skipping clock for later tests.
                for handle in harness.started:
                    with suppress(RPCError):
                        await handle.terminate("test over")
    engine.dispose()
