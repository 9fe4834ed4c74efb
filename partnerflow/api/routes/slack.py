"""Slack interactivity: the Approve / Reject buttons and the reject modal.

Slack wants an answer within 3 seconds, so the route verifies the request, answers at once and
does the workflow update and the Slack API calls in a background task.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, BackgroundTasks, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlmodel import col, select
from temporalio.client import Client

from partnerflow.activities.slack_backends import (
    LocalOutboxSlackBackend,
    SlackInteractiveBackend,
    SlackWebBackend,
)
from partnerflow.activities.slack_blocks import (
    APPROVE_ACTION,
    REASON_BLOCK,
    REJECT_ACTION,
    REJECT_VIEW,
    SHARE_BLOCK,
    RejectTarget,
    decided_blocks,
    escape,
    outcome_line,
    read_reject_view,
    reject_modal,
)
from partnerflow.api.decisions import AlreadyDecided, DecisionRefused, send_decision
from partnerflow.api.deps import SettingsDep
from partnerflow.api.slack_signature import verify_slack_request
from partnerflow.config import Settings
from partnerflow.domain.lifecycle import DecisionInput
from partnerflow.domain.stages import Decision
from partnerflow.store.db import session_scope
from partnerflow.store.models import Application, OutboxMessage, Partner, utcnow

log = logging.getLogger(__name__)
router = APIRouter(prefix="/slack", tags=["slack"])

GROUP_CACHE_SECONDS = 300
_groups: dict[str, tuple[float, frozenset[str]]] = {}  # user group → (fetched at, members)
REFUSAL = "Sorry, you are not allowed to decide partner applications. Nothing was changed."


@router.post(
    "/interactions",
    responses={
        401: {"description": "bad, stale or replayed Slack signature"},
        400: {"description": "no payload"},
    },
)
async def interactions(request: Request, background: BackgroundTasks, settings: SettingsDep) -> Response:
    """Slack button clicks and modal submissions; answers at once, acts in the background."""
    body = await request.body()
    verify_slack_request(settings, body, request.headers)
    payload = _payload(body)
    user = payload.get("user") or {}
    ctx = Interaction(
        settings=settings,
        engine=request.app.state.engine,
        temporal=request.app.state.temporal,
        backend=slack_backend(settings),
        user_id=str(user.get("id", "")),
        user_name=str(user.get("username") or user.get("name") or user.get("id", "")),
    )
    view = payload.get("view") or {}
    if payload.get("type") == "block_actions":
        _on_buttons(ctx, payload, background)
    elif payload.get("type") == "view_submission" and view.get("callback_id") == REJECT_VIEW:
        errors = await _on_reject_submitted(ctx, view, background)
        if errors:  # shown in the modal, which stays open
            return JSONResponse({"response_action": "errors", "errors": errors})
    return Response(status_code=status.HTTP_200_OK)


def _on_buttons(ctx: Interaction, payload: dict[str, Any], background: BackgroundTasks) -> None:
    container, message = payload.get("container") or {}, payload.get("message") or {}
    ctx.channel = str((payload.get("channel") or {}).get("id") or container.get("channel_id", ""))
    ctx.ts = str(container.get("message_ts") or message.get("ts", ""))
    ctx.fallback_text = str(message.get("text", ""))
    for action in payload.get("actions") or []:
        partner_id = str(action.get("value", ""))
        if action.get("action_id") == APPROVE_ACTION:
            background.add_task(_guarded, ctx, _approve, partner_id)
        elif action.get("action_id") == REJECT_ACTION:
            trigger_id = str(payload.get("trigger_id", ""))  # valid for 3 seconds
            background.add_task(_guarded, ctx, _open_reject_modal, partner_id, trigger_id)


async def _on_reject_submitted(
    ctx: Interaction, view: dict[str, Any], background: BackgroundTasks
) -> dict[str, str]:
    """Validate the reject modal; errors per input block, or schedule the decision."""
    try:
        target = RejectTarget.load(view.get("private_metadata") or "")
    except (KeyError, TypeError, ValueError):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "reject modal without its metadata") from None
    ctx.channel, ctx.ts = target.channel, target.ts
    reason, share = read_reject_view(view)
    if not await _allowed(ctx):
        return {REASON_BLOCK: REFUSAL}
    if share and not reason:
        return {SHARE_BLOCK: "Write a reason to share it with the applicant."}
    background.add_task(_guarded, ctx, _reject, target.partner_id, reason, share)
    return {}


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


def slack_backend(settings: Settings) -> SlackInteractiveBackend:
    if settings.slack_bot_token:
        return SlackWebBackend(settings.slack_bot_token.get_secret_value(), settings.slack_base_url)
    return LocalOutboxSlackBackend(settings.outbox_dir)


async def _approve(ctx: Interaction, partner_id: str) -> None:
    if not await _allowed(ctx):
        return await ctx.say(REFUSAL)
    if await _decide(ctx, partner_id, DecisionInput(Decision.APPROVE, ctx.user_name)):
        await _mark_decided(ctx, outcome_line(True, ctx.user_id, utcnow()))


async def _open_reject_modal(ctx: Interaction, partner_id: str, trigger_id: str) -> None:
    if not await _allowed(ctx):
        return await ctx.say(REFUSAL)
    application, partner = await asyncio.to_thread(_application, ctx.engine, partner_id)
    if application is not None and application.status != "pending":
        return await ctx.say(_already(application, partner))
    applicant = f"{partner.name} ({partner.email})" if partner else partner_id
    view = reject_modal(RejectTarget(partner_id, ctx.channel, ctx.ts), applicant)
    await asyncio.to_thread(ctx.backend.open_view, trigger_id, view)


async def _reject(ctx: Interaction, partner_id: str, reason: str | None, share: bool) -> None:
    decision = DecisionInput(Decision.REJECT, ctx.user_name, reason, share)
    if await _decide(ctx, partner_id, decision):
        await _mark_decided(ctx, outcome_line(False, ctx.user_id, utcnow(), reason, share))


async def _decide(ctx: Interaction, partner_id: str, decision: DecisionInput) -> bool:
    """Send the decision; tell the user privately why not if it was refused."""
    try:
        await send_decision(ctx.client(), partner_id, decision)
        return True
    except AlreadyDecided:
        application, partner = await asyncio.to_thread(_application, ctx.engine, partner_id)
        await ctx.say(_already(application, partner))
    except DecisionRefused as exc:
        await ctx.say(f"Partnerflow refused the decision: {escape(str(exc))}")
    return False


async def _mark_decided(ctx: Interaction, outcome: str) -> None:
    """Replace the clicked message: same text, no buttons, who decided and when."""
    text = await asyncio.to_thread(_posted_text, ctx.engine, ctx.ts) or ctx.fallback_text
    await asyncio.to_thread(
        ctx.backend.update, ctx.channel, ctx.ts, f"{outcome}\n{text}", decided_blocks(text, outcome)
    )


async def _allowed(ctx: Interaction) -> bool:
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


async def _guarded(ctx: Interaction, work: Callable[..., Awaitable[None]], *args: Any) -> None:
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


def _payload(body: bytes) -> dict[str, Any]:
    fields = parse_qs(body.decode("utf-8", "replace"))
    try:
        payload = json.loads(fields["payload"][-1])
    except (KeyError, ValueError):
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "expected a form field 'payload' with JSON"
        ) from None
    if not isinstance(payload, dict):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "payload must be a JSON object")
    return payload
