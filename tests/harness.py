"""A worker with the production activities on the time-skipping server, for workflow tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from conftest import make_settings, partnerflow_worker
from helpers import add_partner, eventually, messages
from sqlalchemy import Engine
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from partnerflow.config import Settings
from partnerflow.domain.lifecycle import DecisionInput, workflow_id_for
from partnerflow.domain.stages import Decision
from partnerflow.store.db import make_engine, upgrade
from partnerflow.temporal import lifecycle_input
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
