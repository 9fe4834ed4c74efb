"""Banning an email from a program: it may never apply again, and a partner with it is stopped.

A ban is stored first; then the partner's workflow is told, through the same updates a manager
uses: a pending application is rejected (the reason is not shared), an onboarding or active
partner is offboarded (tracking link deactivated, farewell, managers told). Rejected and
offboarded partners only get the ban.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine
from temporalio.client import Client

from partnerflow.domain.lifecycle import DecisionInput, PartnerStatus
from partnerflow.domain.review import OffboardInput
from partnerflow.domain.stages import Decision, Stage
from partnerflow.services.decisions import AlreadyDecided, DecisionRefused, send_decision
from partnerflow.services.partners import UpdateRefused, WorkflowEnded, live_status, update_partner
from partnerflow.store import approvals
from partnerflow.store.db import session_scope
from partnerflow.store.models import Ban, Partner
from partnerflow.store.onboarding import ensure_program

log = logging.getLogger(__name__)


class UnknownPartner(LookupError):
    """No partner with that id (HTTP 404)."""


class AlreadyBanned(ValueError):
    """The email is banned already (its ban, with its author and date, is kept as it was)."""

    def __init__(self, ban: Ban) -> None:
        super().__init__(f"{ban.email} is banned already (by {ban.banned_by}, {ban.banned_at:%Y-%m-%d})")
        self.ban = ban


@dataclass
class BanAction:
    """What a ban did to a partner with the banned email."""

    partner_id: str
    email: str
    stage: str  # after the ban
    action: str  # "rejected" | "offboarded" | "none"


async def ban_partner(
    engine: Engine, client: Client, partner_id: str, reason: str, manager: str
) -> BanAction:
    """Ban the partner's email in their program and stop the partner."""

    def write() -> Partner:
        with session_scope(engine) as session:
            partner = session.get(Partner, partner_id)
            if partner is None:
                raise UnknownPartner(f"partner {partner_id} not found")
            approvals.ban(session, partner.program, partner.email, reason, manager)
            return partner

    partner = await asyncio.to_thread(write)
    return await _stop(client, partner, reason, manager)


async def replace_bans(
    engine: Engine, client: Client, program: str, bans: Sequence[tuple[str, str]], manager: str
) -> tuple[list[Ban], list[BanAction]]:
    """The program's bans become ``bans`` (email, reason); partners newly banned are stopped."""

    def write() -> tuple[list[Ban], list[Partner]]:
        with session_scope(engine) as session:
            added = approvals.replace_bans(session, program, bans, manager)
            partners = approvals.partners_with_emails(session, program, [row.email for row in added])
            return approvals.list_bans(session, program), partners

    rows, partners = await asyncio.to_thread(write)
    reasons = {row.email: row.reason for row in rows}
    actions = [await _stop(client, partner, reasons[partner.email], manager) for partner in partners]
    return rows, actions


async def add_ban(
    engine: Engine, client: Client, program: str, email: str, reason: str, manager: str, landing_url: str
) -> tuple[Ban, list[BanAction]]:
    """Ban one email in ``program`` (as one more line of ``PUT /programs/{program}/bans``); a partner
    with it is stopped. An email banned already raises ``AlreadyBanned``: its ban stays as it was."""

    def write() -> tuple[Ban, list[Partner]]:
        with session_scope(engine) as session:
            ensure_program(session, program, landing_url)
            row, created = approvals.ban(session, program, email, reason, manager)
            if not created:
                raise AlreadyBanned(row)
            return row, approvals.partners_with_emails(session, program, [row.email])

    row, partners = await asyncio.to_thread(write)
    return row, [await _stop(client, partner, reason, manager) for partner in partners]


def lift_ban(engine: Engine, program: str, email: str) -> Ban | None:
    """Lift the ban of ``email`` (as ``PUT /programs/{program}/bans`` without it): it may apply again."""
    with session_scope(engine) as session:
        return approvals.lift_ban(session, program, email)


def find_ban(engine: Engine, program: str, email: str) -> Ban | None:
    with session_scope(engine) as session:
        return approvals.find_ban(session, program, email)


def bans_of(engine: Engine, program: str) -> list[Ban]:
    with session_scope(engine) as session:
        return approvals.list_bans(session, program)


async def _stop(client: Client, partner: Partner, reason: str, manager: str) -> BanAction:
    fallback = PartnerStatus(partner.id, Stage(partner.stage), {}, partner.tier, [])
    stage = (await live_status(client, partner.id, fallback)).stage
    detail = f"banned: {reason}" if reason else "banned"
    action = "none"
    try:
        if stage == Stage.APPLIED:
            stage = (
                await send_decision(client, partner.id, DecisionInput(Decision.REJECT, manager, detail))
            ).stage
            action = "rejected"
        elif stage in (Stage.ONBOARDING, Stage.ACTIVE):
            stage = (
                await update_partner(client, partner.id, "offboard", OffboardInput(detail, manager))
            ).stage
            action = "offboarded"
    except (AlreadyDecided, DecisionRefused, UpdateRefused, WorkflowEnded) as exc:
        # It changed stage meanwhile (decided, offboarded): the ban stands, the workflow had its way.
        log.warning("ban of partner %s: the workflow refused (%s); ban recorded only", partner.id, exc)
    log.info("partner %s banned from %s by %s: %s", partner.id, partner.program, manager, action)
    return BanAction(partner.id, partner.email, stage.value, action)
