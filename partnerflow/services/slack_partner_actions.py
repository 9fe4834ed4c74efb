"""Slack buttons about active partners: confirm or keep a proposed tier, offboard or keep a silent partner.

They send the same workflow updates as the API and the dashboard (``decide_tier``, ``offboard``),
in the clicker's Slack name, then replace the clicked message with who did what. Anything refused
(not allowed, nothing waiting any more, already offboarded) is told privately and changes nothing.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine

from partnerflow.domain.lifecycle import PartnerStatus
from partnerflow.domain.review import OffboardInput, TierDecision
from partnerflow.domain.stages import Stage
from partnerflow.rendering.slack_blocks import escape
from partnerflow.rendering.slack_partner_blocks import (
    ModalTarget,
    TierChoice,
    offboard_modal,
    offboarding_outcome,
    tier_outcome,
)
from partnerflow.services.partners import UpdateRefused, WorkflowEnded, live_status, update_partner
from partnerflow.services.slack_interactions import Interaction, allowed, mark_message
from partnerflow.store.db import session_scope
from partnerflow.store.models import Partner, utcnow

REFUSAL = "Sorry, you are not allowed to act on partners. Nothing was changed."
OFFBOARDABLE = (Stage.ONBOARDING.value, Stage.ACTIVE.value)


async def decide_tier(ctx: Interaction, choice: TierChoice, confirm: bool) -> None:
    """Confirm the proposed tier, or keep the current one (the update refuses the proposal)."""
    if not await allowed(ctx):
        return await ctx.say(REFUSAL)
    partner = await asyncio.to_thread(_partner, ctx.engine, choice.partner_id)
    if partner is None:
        return await ctx.say(_nothing_waiting(partner))
    stored = PartnerStatus(partner.id, Stage(partner.stage), {}, partner.tier, [])
    live = await live_status(ctx.client(), partner.id, stored)
    if live.tier_proposal != choice.proposed:  # settled, applied, or a newer review's proposal
        return await ctx.say(_nothing_waiting(partner))
    try:
        await update_partner(ctx.client(), partner.id, "decide_tier", TierDecision(confirm, ctx.user_name))
    except (UpdateRefused, WorkflowEnded):
        return await ctx.say(_nothing_waiting(partner))
    await mark_message(ctx, tier_outcome(confirm, choice.proposed, live.tier, ctx.user_id, utcnow()))


async def open_offboard_modal(ctx: Interaction, partner_id: str, trigger_id: str) -> None:
    if not await allowed(ctx):
        return await ctx.say(REFUSAL)
    partner = await asyncio.to_thread(_partner, ctx.engine, partner_id)
    if partner is None or partner.stage not in OFFBOARDABLE:
        return await ctx.say(_not_offboardable(partner))
    target = ModalTarget(partner_id, ctx.channel, ctx.ts)
    view = offboard_modal(target, f"{partner.name} ({partner.email})")
    await asyncio.to_thread(ctx.backend.open_view, trigger_id, view)


async def offboard(ctx: Interaction, partner_id: str, reason: str) -> None:
    try:
        await update_partner(ctx.client(), partner_id, "offboard", OffboardInput(reason, ctx.user_name))
    except (UpdateRefused, WorkflowEnded):
        partner = await asyncio.to_thread(_partner, ctx.engine, partner_id)
        return await ctx.say(_not_offboardable(partner))
    await mark_message(ctx, offboarding_outcome(True, ctx.user_id, utcnow(), reason))


async def keep_partner(ctx: Interaction, partner_id: str) -> None:
    """Dismiss the suggestion: nothing changes for the partner; the message says who decided."""
    if not await allowed(ctx):
        return await ctx.say(REFUSAL)
    await mark_message(ctx, offboarding_outcome(False, ctx.user_id, utcnow()))


def _partner(engine: Engine, partner_id: str) -> Partner | None:
    with session_scope(engine) as session:
        return session.get(Partner, partner_id)


def _nothing_waiting(partner: Partner | None) -> str:
    who = f" of {escape(partner.name)}" if partner else ""
    tier = f" The tier is {escape(partner.tier)}." if partner and partner.tier else ""
    return (
        f"No tier change{who} is waiting any more (decided already, or applied automatically after "
        f"the deadline).{tier} Nothing was changed."
    )


def _not_offboardable(partner: Partner | None) -> str:
    if partner is None:
        return "That partner no longer exists. Nothing was changed."
    return f"{escape(partner.name)} is {partner.stage}; they cannot be offboarded. Nothing was changed."
