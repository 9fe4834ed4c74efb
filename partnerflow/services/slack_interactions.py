"""Slack interactivity use cases: decide from a button or the reject modal, then edit the message.

The API route verifies and parses Slack's request and answers within 3 seconds; this module does
the work in the background: the workflow update, and Slack's interactive responses (open the
reject modal, replace the clicked message, tell the clicker privately).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlmodel import col, select
from temporalio.client import Client

from partnerflow.config import Settings
from partnerflow.domain.lifecycle import DecisionInput
from partnerflow.domain.stages import Decision
from partnerflow.providers.slack import LocalOutboxSlackBackend, SlackInteractiveBackend, SlackWebBackend
from partnerflow.rendering.slack_blocks import (
    ModalTarget,
    decided_blocks,
    escape,
    outcome_line,
    reject_modal,
)
from partnerflow.services.decisions import (
    AlreadyDecided,
    DecisionNotTaken,
    DecisionPending,
    DecisionRefused,
    send_decision,
)
from partnerflow.store.db import session_scope
from partnerflow.store.models import Application, OutboxMessage, Partner, utcnow

log = logging.getLogger(__name__)

GROUP_CACHE_SECONDS = 300
_groups: dict[str, tuple[float, frozenset[str]]] = {}  # user group → (fetched at, members)
REFUSAL = "Sorry, you are not allowed to decide partner applications. Nothing was changed."


@dataclass
class Interaction:
    """Who clicked, on which message, and what answering needs."""

    settings: Settings
    engine: Engine
    temporal: Client | None
    backend: SlackInteractiveBackend
    user_id: str
    user_name: str
    channel: str = ""
    ts: str = ""
    fallback_text: str = ""

    async def say(self, text: str) -> None:
        """An ephemeral message to the user who clicked."""
        await asyncio.to_thread(self.backend.post_ephemeral, self.channel, self.user_id, text)

    def client(self) -> Client:
        if self.temporal is None:
            raise RuntimeError("Partnerflow is not connected to Temporal yet; try again in a moment")
        return self.temporal


def interactive_backend(settings: Settings) -> SlackInteractiveBackend:
    """Slack's Web API when a bot token is configured, else the local outbox folder."""
    if settings.slack_bot_token:
        return SlackWebBackend(settings.slack_bot_token.get_secret_value(), settings.slack_base_url)
    return LocalOutboxSlackBackend(settings.outbox_dir)


async def approve(ctx: Interaction, partner_id: str) -> None:
    if not await allowed(ctx):
        return await ctx.say(REFUSAL)
    if await _decide(ctx, partner_id, DecisionInput(Decision.APPROVE, ctx.user_name, via="slack")):
        await mark_message(ctx, outcome_line(True, ctx.user_id, utcnow()))


async def open_reject_modal(ctx: Interaction, partner_id: str, trigger_id: str) -> None:
    if not await allowed(ctx):
        return await ctx.say(REFUSAL)
    application, partner = await asyncio.to_thread(_application, ctx.engine, partner_id)
    if application is not None and application.status != "pending":
        return await ctx.say(_already(application, partner))
    applicant = f"{partner.name} ({partner.email})" if partner else partner_id
    view = reject_modal(ModalTarget(partner_id, ctx.channel, ctx.ts), applicant)
    await asyncio.to_thread(ctx.backend.open_view, trigger_id, view)


async def reject(ctx: Interaction, partner_id: str, reason: str | None, share: bool) -> None:
    decision = DecisionInput(Decision.REJECT, ctx.user_name, reason, share, via="slack")
    if await _decide(ctx, partner_id, decision):
        await mark_message(ctx, outcome_line(False, ctx.user_id, utcnow(), reason, share))


async def _decide(ctx: Interaction, partner_id: str, decision: DecisionInput) -> bool:
    """Send the decision; tell the user privately why not if it was refused."""
    try:
        await send_decision(ctx.client(), partner_id, decision, ctx.settings.temporal_wait)
        return True
    except DecisionPending:
        await ctx.say(
            "Your decision reached Partnerflow and is being applied; this message updates when it is."
        )
    except DecisionNotTaken:
        await ctx.say("Partnerflow could not record your decision just now; please click again in a minute.")
    except AlreadyDecided:
        application, partner = await asyncio.to_thread(_application, ctx.engine, partner_id)
        await ctx.say(_already(application, partner))
    except DecisionRefused as exc:
        await ctx.say(f"Partnerflow refused the decision: {escape(str(exc))}")
    return False


async def mark_message(ctx: Interaction, outcome: str) -> None:
    """Replace the clicked message: same text, no buttons, who decided and when."""
    text = await asyncio.to_thread(_posted_text, ctx.engine, ctx.ts) or ctx.fallback_text
    await asyncio.to_thread(
        ctx.backend.update, ctx.channel, ctx.ts, f"{outcome}\n{text}", decided_blocks(text, outcome)
    )


async def allowed(ctx: Interaction) -> bool:
    """Allowed users and members of allowed user groups; everyone if none are configured."""
    entries = [entry.strip() for entry in ctx.settings.slack_allowed_users.split(",") if entry.strip()]
    if not entries or ctx.user_id in entries:
        return bool(ctx.user_id)
    for group in (entry for entry in entries if entry.startswith("S")):
        fetched_at, members = _groups.get(group, (0.0, frozenset()))
        if time.monotonic() - fetched_at > GROUP_CACHE_SECONDS:
            try:
                members = frozenset(await asyncio.to_thread(ctx.backend.usergroup_members, group))
            except Exception:
                log.exception("could not list the members of Slack user group %s", group)
                continue
            _groups[group] = (time.monotonic(), members)
        if ctx.user_id in members:
            return True
    return False


async def guarded(ctx: Interaction, work: Callable[..., Awaitable[None]], *args: Any) -> None:
    """Run background work; a failure is logged and told to the user who clicked."""
    try:
        await work(ctx, *args)
    except Exception as exc:
        log.exception("Slack interaction by %s failed", ctx.user_id)
        try:
            await ctx.say(f"Sorry, that did not work: {escape(str(exc))}")
        except Exception:
            log.exception("could not tell %s about the failure", ctx.user_id)


def _application(engine: Engine, partner_id: str) -> tuple[Application | None, Partner | None]:
    with session_scope(engine) as session:
        return session.get(Application, partner_id), session.get(Partner, partner_id)


def _posted_text(engine: Engine, ts: str) -> str | None:
    """The text we posted as message ``ts`` (the outbox keeps Slack's ts as the provider id)."""
    with session_scope(engine) as session:
        statement = select(OutboxMessage.body_text).where(
            OutboxMessage.channel == "slack", OutboxMessage.provider_message_id == ts
        )
        return session.exec(statement.order_by(col(OutboxMessage.id).desc())).first()


def _already(application: Application | None, partner: Partner | None) -> str:
    who = f" from {escape(partner.name)}" if partner else ""
    if application is None or application.status == "pending":
        return f"The application{who} is already decided. Nothing was changed."
    by = f" by {escape(application.decided_by)}" if application.decided_by else ""
    return f"The application{who} was already {application.status}{by}. Nothing was changed."
