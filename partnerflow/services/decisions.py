"""Sending a manager's decision to a partner's workflow, shared by the API and Slack buttons."""

from __future__ import annotations

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from partnerflow.domain.lifecycle import DecisionInput, DecisionResult, workflow_id_for
from partnerflow.workflows.lifecycle import ALREADY_DECIDED, PartnerLifecycleWorkflow


class AlreadyDecided(Exception):
    """The application was decided before (HTTP 409)."""


class DecisionRefused(Exception):
    """The workflow refused the decision for another reason, e.g. no manager name (HTTP 422)."""


async def send_decision(client: Client, partner_id: str, decision: DecisionInput) -> DecisionResult:
    """Run the ``decide`` update; answers once the workflow has taken the decision."""
    handle = client.get_workflow_handle(workflow_id_for(partner_id))
    try:
        return await handle.execute_update(PartnerLifecycleWorkflow.decide, decision)
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type == ALREADY_DECIDED:
            raise AlreadyDecided(cause.message) from exc
        raise DecisionRefused(getattr(cause, "message", None) or str(cause or exc)) from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:  # the workflow has completed (rejected)
            raise AlreadyDecided(f"application of partner {partner_id} is already decided") from exc
        raise
