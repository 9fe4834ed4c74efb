"""Talking to a partner's workflow by business key: live status, manager updates, partner signals."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowQueryFailedError, WorkflowQueryRejectedError
from temporalio.client import WorkflowUpdateFailedError as _UpdateFailed
from temporalio.service import RPCError, RPCStatusCode

from partnerflow.domain.lifecycle import PartnerStatus, workflow_id_for
from partnerflow.domain.onboarding import TermsAccepted
from partnerflow.workflows.lifecycle import PartnerLifecycleWorkflow

log = logging.getLogger(__name__)


class WorkflowEnded(Exception):
    """The partner's workflow has completed (rejected, offboarded) or never started."""


class UpdateRefused(Exception):
    """The workflow's validator refused the update; ``kind`` is its ApplicationError type."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


async def live_status(
    client: Client | None,
    partner_id: str,
    fallback: PartnerStatus,
    rpc_timeout: timedelta | None = None,
    tolerate_errors: bool = False,
) -> PartnerStatus:
    """Stage, checklist and timeline from the workflow; ``fallback`` if it has ended.

    With ``tolerate_errors`` (pages a partner sees) any failure to answer also gives ``fallback``.
    """
    if client is None:
        return fallback
    handle = client.get_workflow_handle(workflow_id_for(partner_id))
    try:
        return await handle.query(PartnerLifecycleWorkflow.status, rpc_timeout=rpc_timeout)
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND and not tolerate_errors:
            raise
        log.warning("status of partner %s not available (%s); showing the stored stage", partner_id, exc)
    except (WorkflowQueryFailedError, WorkflowQueryRejectedError, TimeoutError) as exc:
        if not tolerate_errors:
            raise
        log.warning("status of partner %s not available (%s); showing the stored stage", partner_id, exc)
    return fallback


async def update_partner(client: Client, partner_id: str, update: str, arg: Any) -> Any:
    """Run one of the workflow's manager updates (``decide_tier``, ``offboard``, ...) by name."""
    handle = client.get_workflow_handle(workflow_id_for(partner_id))
    try:
        return await handle.execute_update(getattr(PartnerLifecycleWorkflow, update), arg)
    except _UpdateFailed as exc:
        cause = exc.cause
        raise UpdateRefused(getattr(cause, "type", "") or "", getattr(cause, "message", str(exc))) from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise WorkflowEnded(f"partner {partner_id}'s workflow has ended") from exc
        raise


async def signal_terms_accepted(client: Client, partner_id: str, accepted: TermsAccepted) -> bool:
    """Tell the workflow (again, harmlessly, on a repeat); False when it has no running workflow."""
    handle = client.get_workflow_handle(workflow_id_for(partner_id))
    try:
        await handle.signal(PartnerLifecycleWorkflow.terms_accepted, accepted)
        return True
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        log.warning("no running workflow for partner %s; acceptance only recorded", partner_id)
        return False
