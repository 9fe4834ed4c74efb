"""Drives partners through the lifecycle the way the API does, and captures a workflow's history."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from helpers import add_partner, eventually, messages
from sqlalchemy import Engine
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle, WorkflowHistory

from partnerflow.config import Settings
from partnerflow.domain.lifecycle import DecisionInput, workflow_id_for
from partnerflow.domain.onboarding import ChecklistUpdate, TermsAccepted
from partnerflow.domain.stages import Decision
from partnerflow.services.temporal import lifecycle_input, start_lifecycle
from partnerflow.store import onboarding
from partnerflow.store.db import session_scope
from partnerflow.store.models import PerformanceEvent, Webinar
from partnerflow.workflows.lifecycle import PartnerLifecycleWorkflow

Handle = WorkflowHandle[Any, Any]
WAIT = 60.0  # seconds for a step of a scenario (the worker runs many scenarios at once)
# A workflow task in flight: the history is about to grow.
BUSY = {EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED}


@dataclass
class Recording:
    """One saved history: ``<WorkflowType>/<state>.json``."""

    state: str
    description: str
    workflow_id: str
    history: WorkflowHistory
    scenario: str = ""  # filled in by record.py: the scenario function that produced it

    @property
    def workflow_type(self) -> str:
        return self.history.events[0].workflow_execution_started_event_attributes.workflow_type.name


async def quiet_history(handle: Handle, timeout: float = WAIT) -> WorkflowHistory:
    """The history once the workflow waits: no workflow task or activity in flight, twice in a row."""
    deadline, seen = time.monotonic() + timeout, -1
    while time.monotonic() < deadline:
        history = await handle.fetch_history()
        pending = (await handle.describe()).raw_description.pending_activities
        busy = history.events[-1].event_type in BUSY or len(pending) > 0
        if not busy and len(history.events) == seen:
            return history
        seen = -1 if busy else len(history.events)
        await asyncio.sleep(0.4)
    raise TimeoutError(f"{handle.id} never settled within {timeout} s")


async def record(handle: Handle, state: str, description: str) -> Recording:
    return Recording(state, description, handle.id, await quiet_history(handle))


@dataclass
class Driver:
    client: Client
    settings: Settings
    engine: Engine

    async def partner(self, program: str, **timings: Any) -> tuple[str, Handle]:
        """A signup in ``program`` whose workflow starts with ``timings`` (Settings fields) snapshotted."""
        partner = add_partner(self.engine, f"{program}-{uuid.uuid4().hex[:6]}@example.com", program=program)
        settings = self.settings.model_copy(update=timings)
        await start_lifecycle(self.client, settings, lifecycle_input(settings, partner.id, partner.program))
        handle = self.client.get_workflow_handle_for(
            PartnerLifecycleWorkflow.run, workflow_id_for(partner.id)
        )
        await self.sent(partner.id, "application-received", "slack:application-submitted")
        return partner.id, handle

    async def approved(self, program: str, **timings: Any) -> tuple[str, Handle]:
        pid, handle = await self.partner(program, **timings)
        await self.decide(handle, Decision.APPROVE)
        await self.sent(pid, "welcome")
        return pid, handle

    async def active(self, program: str, **timings: Any) -> tuple[str, Handle]:
        """Onboarded as a manager would: terms accepted in the portal, the webinar waived."""
        pid, handle = await self.approved(program, **timings)
        await self.accept_terms(pid, handle)
        await handle.execute_update(
            PartnerLifecycleWorkflow.complete_checklist_item,
            ChecklistUpdate("webinar_attended", "alice", waive=True),
        )
        await self.sent(pid, "onboarding-complete")
        return pid, handle

    async def decide(self, handle: Handle, decision: Decision, **fields: Any) -> None:
        await handle.execute_update(
            PartnerLifecycleWorkflow.decide, DecisionInput(decision=decision, manager="alice", **fields)
        )

    async def accept_terms(self, pid: str, handle: Handle) -> None:
        accepted = TermsAccepted(version=1, accepted_at=datetime.now(UTC))
        await handle.signal(PartnerLifecycleWorkflow.terms_accepted, accepted)
        await self.sent(pid, "welcome-kit")

    async def sent(self, pid: str, *purposes: str) -> None:
        """Wait until each ``partner:<pid>:<purpose>`` left the outbox (a ``...*`` purpose is a prefix)."""

        for purpose in purposes:
            key = f"partner:{pid}:{purpose}"

            def done(key: str = key) -> bool:
                return any(
                    (
                        m.idempotency_key.startswith(key[:-1])
                        if key.endswith("*")
                        else m.idempotency_key == key
                    )
                    and m.status != "pending"
                    for m in messages(self.engine, partner_id=pid)
                )

            await eventually(done, timeout=WAIT)

    def rules(self, program: str, **overrides: float) -> None:
        """The program's engagement overrides, as ``PUT /programs/{program}/engagement`` stores them."""
        with session_scope(self.engine) as session:
            row = onboarding.ensure_program(session, program, self.settings.default_landing_url)
            row.engagement_rules = json.dumps(overrides)
            session.add(row)

    def webinar(self, program: str, starts_in: timedelta, minutes: int = 60) -> int:
        with session_scope(self.engine) as session:
            row = Webinar(
                title=f"Partner training ({program})",
                starts_at=datetime.now(UTC) + starts_in,
                duration_minutes=minutes,
                join_url="https://meet.example.com/training",
                capacity=10,
                program=program,
            )
            session.add(row)
            session.flush()
            assert row.id is not None
            return row.id

    def events(self, pid: str, at: datetime, kind: str, amount: float | None = None, count: int = 1) -> None:
        """Tracked clicks/conversions, as ``POST /events`` records them."""
        with session_scope(self.engine) as session:
            for _ in range(count):
                session.add(
                    PerformanceEvent(
                        event_id=uuid.uuid4().hex,
                        partner_id=pid,
                        type=kind,
                        amount=amount,
                        currency="USD" if amount else None,
                        occurred_at=at,
                    )
                )
