"""Recruitment operations shared by the API, the CLI and the signup webhook."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from partnerflow.domain.prospects import ProspectConverted, ProspectUnsubscribed, outreach_workflow_id
from partnerflow.domain.signup import normalize_email
from partnerflow.services.webhooks import publish_from_api
from partnerflow.store import prospects as store
from partnerflow.store.db import session_scope
from partnerflow.store.models import Prospect
from partnerflow.workflows.outreach import ProspectOutreachWorkflow


@dataclass
class Conversion:
    """What a signup did to a recruited prospect, read in the signup's own transaction."""

    prospect: Prospect | None = None
    members: list[tuple[int, int]] = field(default_factory=list)  # (campaign, prospect) still open


def convert_prospect(session: Session, program: str, email: str, partner_id: str) -> Conversion:
    """Mark the prospect with this address (if any) converted; in the caller's transaction."""
    prospect = store.mark_converted(session, program, normalize_email(email), partner_id)
    if prospect is None:
        return Conversion()
    return Conversion(prospect, store.open_members(session, [prospect.email], program))


async def announce_conversion(
    engine: Engine,
    client: Client,
    conversion: Conversion,
    program: str,
    partner_id: str,
    task_queue: str | None = None,
) -> int:
    """After ``convert_prospect`` committed: publish ``prospect.converted`` and stop the outreach.

    Returns how many sequences were told; nothing to do (no Temporal call) for a partner who was
    never a prospect. Safe on repeat deliveries (the event id is stable).
    """
    prospect = conversion.prospect
    if prospect is not None and prospect.id is not None:
        data = {
            "prospect_id": prospect.id,
            "email": prospect.email,
            "program": program,
            "partner_id": partner_id,
        }
        await publish_from_api(engine, client, "prospect.converted", data, prospect.id, task_queue=task_queue)
    if not conversion.members:
        return 0
    signal = ProspectOutreachWorkflow.converted
    return await _signal(client, conversion.members, signal, ProspectConverted(partner_id))


async def on_partner_signup(
    engine: Engine,
    client: Client,
    program: str,
    email: str,
    partner_id: str,
    task_queue: str | None = None,
) -> int:
    """A prospect signed up: mark them converted, stop their outreach, publish ``prospect.converted``.

    Returns how many sequences were told. (The signup webhook does the same in its own transaction:
    ``convert_prospect`` there, ``announce_conversion`` after.)
    """

    def write() -> Conversion:
        with session_scope(engine) as session:
            return convert_prospect(session, program, email, partner_id)

    conversion = await asyncio.to_thread(write)
    return await announce_conversion(engine, client, conversion, program, partner_id, task_queue)


async def unsubscribe_prospect(engine: Engine, client: Client, prospect_id: int) -> str | None:
    """Suppress the prospect's address for good and stop every sequence writing to it."""

    def write() -> tuple[str | None, list[tuple[int, int]]]:
        with session_scope(engine) as session:
            prospect = session.get(Prospect, prospect_id)
            if prospect is None:
                return None, []
            store.suppress(session, prospect.email, "unsubscribed")
            return prospect.email, store.open_members(session, [prospect.email])

    email, members = await asyncio.to_thread(write)
    if email:
        await _signal(client, members, ProspectOutreachWorkflow.unsubscribed, ProspectUnsubscribed(email))
    return email


async def _signal(client: Client, members: list[tuple[int, int]], signal: Any, arg: Any) -> int:
    """Signal each member's sequence; one not started yet re-checks the store before every send."""

    async def one(campaign_id: int, prospect_id: int) -> bool:
        try:
            await client.get_workflow_handle(outreach_workflow_id(campaign_id, prospect_id)).signal(
                signal, arg
            )
            return True
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            return False

    return sum(await asyncio.gather(*(one(cid, pid) for cid, pid in members)))
