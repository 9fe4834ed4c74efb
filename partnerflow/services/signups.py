"""A partner applies: one use case for the signup webhook and the hosted application page.

The same duplicate rule everywhere: the same email and program give the same partner, and the
workflow id is the business key, so a repeat never starts a second workflow.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine
from temporalio.client import Client

from partnerflow.config import Settings
from partnerflow.domain.lifecycle import workflow_id_for
from partnerflow.domain.signup import SignupPayload
from partnerflow.services.recruitment import on_partner_signup
from partnerflow.services.temporal import lifecycle_input, start_lifecycle
from partnerflow.store.db import session_scope
from partnerflow.store.models import Partner
from partnerflow.store.partners import register_signup

log = logging.getLogger(__name__)
OnRecorded = Callable[[Partner, bool], None]  # (partner, created): e.g. log context and metrics


@dataclass(frozen=True)
class SignupResult:
    partner: Partner
    created: bool  # a new partner row
    started: bool  # the lifecycle workflow started now (False: it exists or existed)

    @property
    def workflow_id(self) -> str:
        return workflow_id_for(self.partner.id)


async def apply(
    engine: Engine,
    client: Client,
    settings: Settings,
    signup: SignupPayload,
    on_recorded: OnRecorded | None = None,
) -> SignupResult:
    """Record the application and start the partner's lifecycle workflow, once. ``on_recorded``
    runs once the row is committed, before the workflow starts."""
    partner, created = await asyncio.to_thread(_register, engine, signup)
    if on_recorded is not None:
        on_recorded(partner, created)
    # The row is committed first; a crash before the start is repaired by a retry (the sender's,
    # or the applicant submitting again), which finds the row and starts the missing workflow.
    started = await start_lifecycle(client, settings, lifecycle_input(settings, partner.id, partner.program))
    # A recruited prospect: outreach stops, prospect.converted is published.
    await on_partner_signup(engine, client, partner.program, partner.email, partner.id, settings.task_queue)
    if started:
        log.info(
            "partner %s applied to %s (%s); workflow %s started",
            partner.id,
            partner.program,
            signup.source or "webhook",
            workflow_id_for(partner.id),
        )
    return SignupResult(partner, created, started)


def _register(engine: Engine, signup: SignupPayload) -> tuple[Partner, bool]:
    with session_scope(engine) as session:
        return register_signup(session, signup)
