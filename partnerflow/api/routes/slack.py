"""Slack interactivity: Approve / Reject (and the reject modal), Confirm / Keep a proposed tier,
Offboard (and its modal) / Keep a long-inactive partner.

Slack wants an answer within 3 seconds, so the route verifies the request, answers at once and
does the workflow update and the Slack API calls in a background task.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, BackgroundTasks, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse

from partnerflow.api.deps import EngineDep, SettingsDep
from partnerflow.api.errors import responses
from partnerflow.api.slack_signature import verify_slack_request
from partnerflow.rendering.slack_blocks import (
    APPROVE_ACTION,
    REASON_BLOCK,
    REJECT_ACTION,
    REJECT_VIEW,
    SHARE_BLOCK,
    ModalTarget,
    read_reject_view,
)
from partnerflow.rendering.slack_partner_blocks import (
    CONFIRM_TIER_ACTION,
    KEEP_PARTNER_ACTION,
    KEEP_TIER_ACTION,
    OFFBOARD_ACTION,
    OFFBOARD_REASON_BLOCK,
    OFFBOARD_VIEW,
    TierChoice,
    read_offboard_view,
)
from partnerflow.services import slack_partner_actions as partner_actions
from partnerflow.services.slack_interactions import (
    REFUSAL,
    Interaction,
    allowed,
    approve,
    guarded,
    interactive_backend,
    open_reject_modal,
    reject,
)

log = logging.getLogger(__name__)
router = APIRouter(prefix="/slack", tags=["slack"])


@router.post(
    "/interactions",
    responses=responses(
        bad_request="no payload, or a button or modal without its metadata",
        unauthorized="bad, stale or replayed Slack signature",
        service_unavailable="no PARTNERFLOW_SLACK_SIGNING_SECRET configured",
    ),
)
async def interactions(
    request: Request, background: BackgroundTasks, settings: SettingsDep, engine: EngineDep
) -> Response:
    """Slack button clicks and modal submissions; answers at once, acts in the background."""
    body = await request.body()
    await verify_slack_request(settings, engine, body, request.headers)
    payload = _payload(body)
    user = payload.get("user") or {}
    ctx = Interaction(
        settings=settings,
        engine=engine,
        temporal=request.app.state.temporal,
        backend=interactive_backend(settings),
        user_id=str(user.get("id", "")),
        user_name=str(user.get("username") or user.get("name") or user.get("id", "")),
    )
    view = payload.get("view") or {}
    if payload.get("type") == "block_actions":
        _on_buttons(ctx, payload, background)
    elif payload.get("type") == "view_submission" and view.get("callback_id") in (REJECT_VIEW, OFFBOARD_VIEW):
        submitted = _on_reject_submitted if view.get("callback_id") == REJECT_VIEW else _on_offboard_submitted
        errors = await submitted(ctx, view, background)
        if errors:  # shown in the modal, which stays open
            return JSONResponse({"response_action": "errors", "errors": errors})
    return Response(status_code=status.HTTP_200_OK)


def _on_buttons(ctx: Interaction, payload: dict[str, Any], background: BackgroundTasks) -> None:
    container, message = payload.get("container") or {}, payload.get("message") or {}
    ctx.channel = str((payload.get("channel") or {}).get("id") or container.get("channel_id", ""))
    ctx.ts = str(container.get("message_ts") or message.get("ts", ""))
    ctx.fallback_text = str(message.get("text", ""))
    trigger_id = str(payload.get("trigger_id", ""))  # valid for 3 seconds
    for action in payload.get("actions") or []:
        value, action_id = str(action.get("value", "")), action.get("action_id")
        if action_id == APPROVE_ACTION:
            background.add_task(guarded, ctx, approve, value)
        elif action_id == REJECT_ACTION:
            background.add_task(guarded, ctx, open_reject_modal, value, trigger_id)
        elif action_id in (CONFIRM_TIER_ACTION, KEEP_TIER_ACTION):
            choice = _tier_choice(value)
            confirm = action_id == CONFIRM_TIER_ACTION
            background.add_task(guarded, ctx, partner_actions.decide_tier, choice, confirm)
        elif action_id == OFFBOARD_ACTION:
            background.add_task(guarded, ctx, partner_actions.open_offboard_modal, value, trigger_id)
        elif action_id == KEEP_PARTNER_ACTION:
            background.add_task(guarded, ctx, partner_actions.keep_partner, value)


def _tier_choice(value: str) -> TierChoice:
    try:
        return TierChoice.load(value)
    except (KeyError, TypeError, ValueError):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "tier button without its partner and tier") from None


async def _on_reject_submitted(
    ctx: Interaction, view: dict[str, Any], background: BackgroundTasks
) -> dict[str, str]:
    """Validate the reject modal; errors per input block, or schedule the decision."""
    try:
        target = ModalTarget.load(view.get("private_metadata") or "")
    except (KeyError, TypeError, ValueError, RecursionError):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "reject modal without its metadata") from None
    ctx.channel, ctx.ts = target.channel, target.ts
    reason, share = read_reject_view(view)
    if not await allowed(ctx):
        return {REASON_BLOCK: REFUSAL}
    if share and not reason:
        return {SHARE_BLOCK: "Write a reason to share it with the applicant."}
    background.add_task(guarded, ctx, reject, target.partner_id, reason, share)
    return {}


async def _on_offboard_submitted(
    ctx: Interaction, view: dict[str, Any], background: BackgroundTasks
) -> dict[str, str]:
    """Validate the offboard modal (a reason is required); errors per input block, or offboard."""
    try:
        target = ModalTarget.load(view.get("private_metadata") or "")
    except (KeyError, TypeError, ValueError):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "offboard modal without its metadata") from None
    ctx.channel, ctx.ts = target.channel, target.ts
    reason = read_offboard_view(view)
    if not await allowed(ctx):
        return {OFFBOARD_REASON_BLOCK: partner_actions.REFUSAL}
    if not reason:
        return {OFFBOARD_REASON_BLOCK: "Say why the partnership ends (managers see it in the timeline)."}
    background.add_task(guarded, ctx, partner_actions.offboard, target.partner_id, reason)
    return {}


def _payload(body: bytes) -> dict[str, Any]:
    fields = parse_qs(body.decode("utf-8", "replace"))
    try:
        payload = json.loads(fields["payload"][-1])
    except (KeyError, ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "expected a form field 'payload' with JSON"
        ) from None
    if not isinstance(payload, dict):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "payload must be a JSON object")
    return payload
