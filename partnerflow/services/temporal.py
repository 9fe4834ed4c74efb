"""One way to reach Temporal, shared by the worker, the API and the CLI.

Every call a client made here sends to Temporal (start, signal, query, update, describe, cancel,
terminate) waits at most ``PARTNERFLOW_TEMPORAL_WAIT``: an unreachable server or a workflow
without a worker never holds an HTTP request for longer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
)
from temporalio.common import WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig

from partnerflow.config import Settings
from partnerflow.domain.lifecycle import ApprovalTimings, LifecycleInput, LifecycleState, workflow_id_for
from partnerflow.domain.onboarding import OnboardingTimings

# Beyond the RPC deadline, the SDK's own retries of an unreachable server (which do not stop at
# the deadline) get this long before the call is abandoned as unanswered.
RETRY_GRACE = timedelta(seconds=1)


class TemporalUnavailable(Exception):
    """Temporal did not answer within the bound (HTTP 503 with Retry-After)."""


class BoundedCalls(Interceptor):
    """Gives every outbound call a deadline (unless the caller set one) and a hard limit."""

    def __init__(self, wait: timedelta) -> None:
        self.wait = wait

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Bounded(next, self.wait)


class _Bounded(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, wait: timedelta) -> None:
        super().__init__(next)
        self.wait = wait

    async def _bounded(self, call: Any, input: Any) -> Any:
        input.rpc_timeout = input.rpc_timeout or self.wait
        limit = (input.rpc_timeout + RETRY_GRACE).total_seconds()
        try:
            return await asyncio.wait_for(call(input), limit)
        except TimeoutError:
            raise TemporalUnavailable(f"Temporal did not answer within {limit:.0f} s") from None
        except RuntimeError as exc:  # a lazy client's first connection attempt failed
            if "client connect" not in str(exc):
                raise
            raise TemporalUnavailable(str(exc)) from exc

    async def start_workflow(self, input: Any) -> Any:
        return await self._bounded(super().start_workflow, input)

    async def signal_workflow(self, input: Any) -> None:
        await self._bounded(super().signal_workflow, input)

    async def query_workflow(self, input: Any) -> Any:
        return await self._bounded(super().query_workflow, input)

    async def start_workflow_update(self, input: Any) -> Any:
        return await self._bounded(super().start_workflow_update, input)

    async def describe_workflow(self, input: Any) -> Any:
        return await self._bounded(super().describe_workflow, input)

    async def cancel_workflow(self, input: Any) -> None:
        await self._bounded(super().cancel_workflow, input)

    async def terminate_workflow(self, input: Any) -> None:
        await self._bounded(super().terminate_workflow, input)


def bounded(client: Client, wait: timedelta) -> Client:
    """The same connection, with every call bounded by ``wait`` (no-op if it already is)."""
    if not isinstance(client, Client):  # a stand-in (tests)
        return client
    config = client.config()
    if any(isinstance(i, BoundedCalls) for i in config["interceptors"]):
        return client
    config["interceptors"] = [*config["interceptors"], BoundedCalls(wait)]
    return Client(**config)


async def connect(
    settings: Settings, runtime: Runtime | None = None, interceptors: Sequence[Interceptor] = ()
) -> Client:
    """Client with the pydantic converter (datetimes, timedeltas and models round-trip).

    ``runtime`` carries the worker's metrics (``observability.runtime``); ``interceptors`` the
    tracing interceptor, which a worker built on this client uses too. mTLS and the API key come
    from the settings (a Temporal cluster or Temporal Cloud). Connecting is bounded, and every
    call on the client waits at most ``settings.temporal_wait``.
    """
    return await asyncio.wait_for(
        Client.connect(
            settings.temporal_address,
            namespace=settings.temporal_namespace,
            data_converter=pydantic_data_converter,
            tls=tls_config(settings),
            api_key=settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None,
            runtime=runtime,
            interceptors=[*interceptors, BoundedCalls(settings.temporal_wait)],
        ),
        (settings.temporal_wait + RETRY_GRACE).total_seconds(),
    )


def tls_config(settings: Settings) -> TLSConfig | None:
    """mTLS from PEM files when a certificate or CA is configured; None leaves it to the SDK.

    (With only an API key the SDK turns TLS on by itself, with the system's roots.)
    """
    cert, key, ca = settings.temporal_tls_cert, settings.temporal_tls_key, settings.temporal_tls_ca
    if (cert is None) != (key is None):
        raise ValueError("set PARTNERFLOW_TEMPORAL_TLS_CERT and PARTNERFLOW_TEMPORAL_TLS_KEY together")
    if cert is None and ca is None:
        return None
    return TLSConfig(
        client_cert=cert.read_bytes() if cert else None,
        client_private_key=key.read_bytes() if key else None,
        server_root_ca_cert=ca.read_bytes() if ca else None,
        domain=settings.temporal_tls_server_name,
    )


def lifecycle_input(
    settings: Settings,
    partner_id: str,
    program: str,
    state: LifecycleState | None = None,
    reapplication: bool = False,
) -> LifecycleInput:
    """A partner's workflow input, with today's timing settings snapshotted into it."""
    return LifecycleInput(
        partner_id=partner_id,
        program=program,
        approval=ApprovalTimings(settings.approval_reminder, settings.approval_escalation),
        onboarding=OnboardingTimings(
            terms_reminders=list(settings.terms_reminders),
            terms_escalation=settings.terms_escalation,
            webinar_reminders=list(settings.webinar_reminders),
            webinar_max_reinvites=settings.webinar_max_reinvites,
            attendance_grace=settings.webinar_attendance_grace,
        ),
        state=state,
        reapplication=reapplication,
    )


async def start_lifecycle(
    client: Client, settings: Settings, workflow_input: LifecycleInput, reapplication: bool = False
) -> bool:
    """Start the partner's workflow; False when it exists or existed (never a second one).

    Only a ``reapplication`` (a rejected partner applying again, services/signups.py) may start a
    new run under the id of a closed one; a running one is never duplicated either way.
    """
    from partnerflow.workflows.lifecycle import PartnerLifecycleWorkflow

    try:
        await client.start_workflow(
            PartnerLifecycleWorkflow.run,
            workflow_input,
            id=workflow_id_for(workflow_input.partner_id),
            task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE
            if reapplication
            else WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
        return True
    except WorkflowAlreadyStartedError:
        return False


class PartnerStarter:
    """Starts a partner's workflow from a ready state (migration); injected into activities."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def __call__(self, client: Client, partner_id: str, program: str, state: LifecycleState) -> bool:
        workflow_input = lifecycle_input(self.settings, partner_id, program, state)
        return await start_lifecycle(client, self.settings, workflow_input)
