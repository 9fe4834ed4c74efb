"""Sending a manager's decision to a partner's workflow, shared by the API and Slack buttons.

The wait is bounded: once Temporal holds the update but the workflow has not applied it within
``wait`` (no worker running, say), the caller hears ``DecisionPending`` (HTTP 202) instead of
waiting; when Temporal itself does not answer, ``TemporalUnavailable`` or an RPC error (503).
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from partnerflow.domain.lifecycle import DecisionInput, DecisionResult, workflow_id_for
from partnerflow.services.temporal import TemporalUnavailable
from partnerflow.workflows.lifecycle import ALREADY_DECIDED, PartnerLifecycleWorkflow

PROBE_TIMEOUT = timedelta(seconds=2)


class AlreadyDecided(Exception):
    """The application was decided before (HTTP 409)."""


class DecisionRefused(Exception):
    """The workflow refused the decision for another reason, e.g. no manager name (HTTP 422)."""


class DecisionPending(Exception):
    """The workflow accepted (durably recorded) the decision and is still applying it (HTTP 202)."""

    def __init__(self) -> None:
        super().__init__("accepted, applying")


class DecisionNotTaken(Exception):
    """No worker accepted the decision in time (HTTP 503 with Retry-After).

    Temporal may still hand it to the workflow when a worker comes back, but an update that was
    not accepted is not durable (a server restart loses it), so the caller must repeat it; a
    repeat of a decision that was applied meanwhile answers 409.
    """


async def send_decision(
    client: Client, partner_id: str, decision: DecisionInput, wait: timedelta = timedelta(seconds=10)
) -> DecisionResult:
    """Run the ``decide`` update; answers once the workflow has taken the decision, or within ``wait``."""
    handle = client.get_workflow_handle(workflow_id_for(partner_id))
    deadline = time.monotonic() + wait.total_seconds()
    try:
        update = await handle.start_update(
            PartnerLifecycleWorkflow.decide,
            decision,
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
            rpc_timeout=wait,
        )
        remaining = max(deadline - time.monotonic(), 0.5)
        try:
            return await asyncio.wait_for(update.result(rpc_timeout=timedelta(seconds=remaining)), remaining)
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
            raise DecisionPending() from None
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        # Not accepted in time: either no worker runs the workflow, or Temporal is unreachable.
        await _probe(handle)
        raise DecisionNotTaken(
            f"no worker took the decision within {wait.total_seconds():g} s; it is not recorded: "
            "repeat it (if it was applied meanwhile, the repeat answers 409)"
        ) from None
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type == ALREADY_DECIDED:
            raise AlreadyDecided(cause.message) from exc
        raise DecisionRefused(getattr(cause, "message", None) or str(cause or exc)) from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:  # the workflow has completed (rejected)
            raise AlreadyDecided(f"application of partner {partner_id} is already decided") from exc
        raise


async def _probe(handle: WorkflowHandle) -> None:
    """Raise TemporalUnavailable unless Temporal answers now, and the workflow still runs."""
    try:
        limit = PROBE_TIMEOUT.total_seconds() + 0.5
        await asyncio.wait_for(handle.describe(rpc_timeout=PROBE_TIMEOUT), limit)
    except (RPCError, TemporalUnavailable, TimeoutError) as exc:
        raise TemporalUnavailable(f"Temporal did not answer: {exc}") from exc
