"""Sending messages from a workflow: one bad address never kills the workflow."""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from partnerflow.activities.messaging import MessagingActivities
    from partnerflow.domain.messages import EmailRequest, SlackRequest, message_key
    from partnerflow.workflows.policies import MESSAGE_ATTEMPT_TIMEOUT, MESSAGE_GIVE_UP_AFTER, MESSAGE_RETRY


async def email_partner(
    partner_id: str,
    purpose: str,
    template: str,
    context: dict[str, Any] | None = None,
    webinar_id: int | None = None,
    attach_calendar: bool = False,
    essential: bool = True,
    calendar_method: str = "REQUEST",
    calendar_sequence: int | None = None,
) -> bool:
    """Email the partner once per ``purpose``; on failure alert managers and return False.

    Non-essential email (nudges) carries an unsubscribe link and is skipped for partners who used it.
    An attached calendar (``attach_calendar``) is a REQUEST or a CANCEL, with the session's current
    SEQUENCE unless ``calendar_sequence`` is given.
    """
    request = EmailRequest(
        message_key(partner_id, purpose),
        partner_id,
        template,
        context or {},
        webinar_id,
        attach_calendar,
        essential,
        calendar_method,
        calendar_sequence,
    )
    try:
        await workflow.execute_activity_method(
            MessagingActivities.send_email,
            request,
            retry_policy=MESSAGE_RETRY,
            start_to_close_timeout=MESSAGE_ATTEMPT_TIMEOUT,
            schedule_to_close_timeout=MESSAGE_GIVE_UP_AFTER,
        )
        return True
    except ActivityError as err:
        reason = _describe(err)
        workflow.logger.warning("email %s to partner %s failed: %s", purpose, partner_id, reason)
        await notify_managers(
            partner_id,
            f"delivery-failed:{purpose}",
            "delivery_failed",
            {"purpose": purpose, "template": template, "error": reason},
        )
        return False


async def notify_managers(
    partner_id: str | None, purpose: str, template: str, context: dict[str, Any] | None = None
) -> bool:
    """Post to the managers' Slack channel once per ``purpose``; a failure is logged, not fatal."""
    # Slack keys get their own namespace: the partner's email for the same purpose is another message.
    key = message_key(partner_id, f"slack:{purpose}") if partner_id else f"slack:{purpose}"
    request = SlackRequest(key, template, context or {}, partner_id)
    try:
        await workflow.execute_activity_method(
            MessagingActivities.notify_managers,
            request,
            retry_policy=MESSAGE_RETRY,
            start_to_close_timeout=MESSAGE_ATTEMPT_TIMEOUT,
            schedule_to_close_timeout=MESSAGE_GIVE_UP_AFTER,
        )
        return True
    except ActivityError as err:
        workflow.logger.error("slack %s failed, managers not told: %s", key, _describe(err))
        return False


def _describe(err: ActivityError) -> str:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return f"{cause.type}: {cause.message}"
    return str(cause or err)
