"""Partner-portal requests that the partner's workflow carries out (retried, audited, in the timeline)."""

from __future__ import annotations

from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.service import RPCError, RPCStatusCode

from partnerflow.domain.lifecycle import workflow_id_for
from partnerflow.domain.onboarding import PortalLinkRequest
from partnerflow.workflows.lifecycle import PartnerLifecycleWorkflow


class NoPortal(Exception):
    """The partner's workflow has ended or is not onboarding/active: no link to send."""


async def request_portal_link(client: Client, partner_id: str, requested_from: str = "portal") -> None:
    """Ask the workflow to email a fresh link; returns once the workflow has accepted the request.

    ``requested_from`` goes to the partner's timeline ("portal", or e.g. "dashboard by alice").
    """
    handle = client.get_workflow_handle(workflow_id_for(partner_id))
    try:
        await handle.start_update(
            PartnerLifecycleWorkflow.resend_portal_link,
            PortalLinkRequest(requested_from),
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
        )
    except WorkflowUpdateFailedError as exc:
        raise NoPortal(str(exc.cause or exc)) from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise NoPortal(f"partner {partner_id} has no running workflow") from exc
        raise
