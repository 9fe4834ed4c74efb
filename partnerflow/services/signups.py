"""A signup, whichever way it arrives: a new partner, a repeat, a reapplication, or a banned email.

- **new**: the partner and application rows, then their workflow (``partner-<id>``).
- **repeat** of a known email: the same partner; a missing workflow is started (crash repair).
- **rejected** before: after the program's ``reapply_after_days`` a new application starts a new
  run of the *same* workflow id (allowed for this case only), carrying the partner's history; before
  that nothing starts and the answer names the date (``reapply_after``).
- **banned** email: nothing starts and the answer is a plain rejection (the word "banned" is for
  managers only); the attempt is counted on the ban.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.service import RPCError, RPCStatusCode

from partnerflow.config import Settings
from partnerflow.domain.lifecycle import HistoryEntry, LifecycleState, PartnerStatus, workflow_id_for
from partnerflow.domain.signup import SignupPayload
from partnerflow.domain.stages import Stage
from partnerflow.services.recruitment import Conversion, announce_conversion, convert_prospect
from partnerflow.services.temporal import lifecycle_input, start_lifecycle
from partnerflow.store import approvals
from partnerflow.store.db import session_scope
from partnerflow.store.models import Application, Partner, utcnow
from partnerflow.store.partners import register_signup
from partnerflow.workflows.lifecycle import HISTORY_KEPT

log = logging.getLogger(__name__)
OnRecorded = Callable[[Partner, bool], None]  # (partner, created): e.g. log context and metrics


class SignupKind(StrEnum):
    NEW = "new"
    REPEAT = "repeat"
    REAPPLIED = "reapplied"
    TOO_SOON = "too_soon"  # rejected, and the reapplication period is not over
    BANNED = "banned"


@dataclass
class SignupOutcome:
    partner: Partner
    kind: SignupKind
    started: bool = False  # a workflow (run) started now: 202
    reapply_after: datetime | None = None
    conversion: Conversion | None = None  # a recruited prospect marked converted with the signup

    @property
    def workflow_id(self) -> str:
        return workflow_id_for(self.partner.id)

    @property
    def status(self) -> str:
        return Stage.REJECTED.value if self.kind == SignupKind.BANNED else self.partner.stage


@dataclass
class _Found:
    kind: SignupKind
    partner: Partner
    attempt: int = 1
    reapply_after: datetime | None = None
    past: approvals.PastDecision | None = None
    conversion: Conversion | None = None


async def accept_signup(
    engine: Engine, client: Client, settings: Settings, signup: SignupPayload
) -> SignupOutcome:
    """Register the signup and start (or not) the partner's workflow, as the module says."""
    # The row is committed first; a crash before the start is repaired by the sender's retry,
    # which finds the row and starts the missing workflow (202 then, since it starts now).
    found = await asyncio.to_thread(_find, engine, signup)
    outcome = await _start(engine, client, settings, signup, found)
    outcome.conversion = found.conversion
    return outcome


async def _start(
    engine: Engine, client: Client, settings: Settings, signup: SignupPayload, found: _Found
) -> SignupOutcome:
    partner = found.partner
    if found.kind == SignupKind.BANNED:
        log.info("signup of a banned email to %s turned away (partner %s)", partner.program, partner.id)
        return SignupOutcome(partner, SignupKind.BANNED)
    reopened = found.attempt > 1 and partner.stage == Stage.APPLIED.value
    if found.kind == SignupKind.REPEAT and reopened:  # a reapplication whose run may not have started
        if await _running(client, partner.id):
            return SignupOutcome(partner, SignupKind.REPEAT)
        started = await _start_reapplication(client, settings, partner, found.attempt, None)
        return SignupOutcome(partner, SignupKind.REPEAT, started)
    if found.kind in (SignupKind.NEW, SignupKind.REPEAT):  # never a second run of a closed workflow
        workflow_input = lifecycle_input(settings, partner.id, partner.program)
        return SignupOutcome(partner, found.kind, await start_lifecycle(client, settings, workflow_input))
    assert found.reapply_after is not None and found.past is not None
    if utcnow() < found.reapply_after or await _running(client, partner.id):
        return SignupOutcome(partner, SignupKind.TOO_SOON, reapply_after=found.reapply_after)
    attempt = found.past.attempt + 1
    if not await asyncio.to_thread(_reopen, engine, partner, signup, attempt):
        return SignupOutcome(partner, SignupKind.REPEAT)  # another delivery reopened it first
    started = await _start_reapplication(client, settings, partner, attempt, found.past)
    log.info("partner %s reapplied to %s (application %d)", partner.id, partner.program, attempt)
    return SignupOutcome(partner, SignupKind.REAPPLIED, started)


async def apply(
    engine: Engine,
    client: Client,
    settings: Settings,
    signup: SignupPayload,
    on_recorded: OnRecorded | None = None,
) -> SignupOutcome:
    """The whole application, for the signup webhook and the hosted page alike.

    ``accept_signup``, then ``on_recorded(partner, created)`` (log context, metrics), then a
    recruited prospect's outreach stops (``prospect.converted``); a banned email changes nothing.
    """
    outcome = await accept_signup(engine, client, settings, signup)
    if on_recorded is not None:
        on_recorded(outcome.partner, outcome.kind in (SignupKind.NEW, SignupKind.REAPPLIED))
    if outcome.conversion is not None:  # every kind but BANNED
        partner = outcome.partner
        await announce_conversion(
            engine, client, outcome.conversion, partner.program, partner.id, settings.task_queue
        )
    if outcome.started:
        log.info("partner %s applied to %s (%s)", outcome.partner.id, outcome.partner.program, signup.source)
    return outcome


def _find(engine: Engine, signup: SignupPayload) -> _Found:
    """One transaction: the ban check, the partner row, and the prospect it converts (if any)."""
    with session_scope(engine) as session:
        ban = approvals.find_ban(session, signup.program, signup.email)
        if ban is not None:
            return _Found(SignupKind.BANNED, approvals.turned_away(session, ban, signup))
        found = _register(session, signup)
        found.conversion = convert_prospect(session, signup.program, found.partner.email, found.partner.id)
        return found


def _register(session: Session, signup: SignupPayload) -> _Found:
    partner, created = register_signup(session, signup)
    if created:
        return _Found(SignupKind.NEW, partner)
    rejected = approvals.reapply_after(session, partner)
    if rejected is not None:
        when, past = rejected
        return _Found(SignupKind.TOO_SOON, partner, past.attempt, when, past)
    application = session.get(Application, partner.id)
    return _Found(SignupKind.REPEAT, partner, application.attempt if application else 1)


def _reopen(engine: Engine, partner: Partner, signup: SignupPayload, attempt: int) -> bool:
    with session_scope(engine) as session:
        row = session.get(Partner, partner.id)
        assert row is not None
        reopened = approvals.reopen_application(session, row, signup, attempt)
        if reopened:
            partner.sqlmodel_update(row.model_dump())
        return reopened


async def _running(client: Client, partner_id: str) -> bool:
    try:
        description = await client.get_workflow_handle(workflow_id_for(partner_id)).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return description.status == WorkflowExecutionStatus.RUNNING


async def _start_reapplication(
    client: Client, settings: Settings, partner: Partner, attempt: int, past: approvals.PastDecision | None
) -> bool:
    history = await _previous_history(client, partner.id) or _stored_history(partner, past)
    state = LifecycleState(history=history[-HISTORY_KEPT:], attempt=attempt)
    workflow_input = lifecycle_input(settings, partner.id, partner.program, state, reapplication=True)
    return await start_lifecycle(client, settings, workflow_input, reapplication=True)


async def _previous_history(client: Client, partner_id: str) -> list[HistoryEntry]:
    """The timeline the rejected run ended with, while Temporal still keeps it (its retention)."""
    handle = client.get_workflow_handle(workflow_id_for(partner_id), result_type=PartnerStatus)
    try:
        status: PartnerStatus = await handle.result(follow_runs=False)
    except (RPCError, WorkflowFailureError) as exc:
        log.info("no earlier run of partner %s to carry history from (%s); using the store", partner_id, exc)
        return []
    return list(status.history)


def _stored_history(partner: Partner, past: approvals.PastDecision | None) -> list[HistoryEntry]:
    """The earlier application as the store remembers it, once Temporal has let its run go."""
    if past is None:
        return []
    decided = f"by {past.decided_by}" + (f": {past.reason}" if past.reason else "")
    return [
        HistoryEntry(at=past.submitted_at.isoformat(), event="applied", detail=f"program {partner.program}"),
        HistoryEntry(at=past.decided_at.isoformat(), event="rejected", detail=decided),
        HistoryEntry(at=past.decided_at.isoformat(), event="stage", detail=Stage.REJECTED.value),
    ]
