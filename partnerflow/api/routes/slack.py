"""Slack interactivity: the Approve / Reject buttons and the reject modal.

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

from partnerflow.api.deps import SettingsDep
from partnerflow.api.slack_signature import verify_slack_request
from partnerflow.rendering.slack_blocks import (
    APPROVE_ACTION,
    REASON_BLOCK,
    REJECT_ACTION,
    REJECT_VIEW,
    SHARE_BLOCK,
    RejectTarget,
    read_reject_view,
)
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
        backend=interactive_backend(settings),
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
            background.add_task(guarded, ctx, approve, partner_id)
        elif action.get("action_id") == REJECT_ACTION:
            trigger_id = str(payload.get("trigger_id", ""))  # valid for 3 seconds
            background.add_task(guarded, ctx, open_reject_modal, partner_id, trigger_id)


async def _on_reject_submitted(
    ctx: Interaction, view: dict[str, Any], background: BackgroundTasks
) -> dict[str, str]:
    """Validate the reject modal; errors per input block, or schedule the decision."""
    try:
        target = RejectTarget.load(view.get("private_metadata") or "")
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
