"""One way to reach Temporal, shared by the worker, the API and the CLI."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.client import Client, Interceptor
from temporalio.common import WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig

from partnerflow.config import Settings
from partnerflow.domain.lifecycle import ApprovalTimings, LifecycleInput, LifecycleState, workflow_id_for
from partnerflow.domain.onboarding import OnboardingTimings


async def connect(
    settings: Settings, runtime: Runtime | None = None, interceptors: Sequence[Interceptor] = ()
) -> Client:
    """Client with the pydantic converter (datetimes, timedeltas and models round-trip).

    ``runtime`` carries the worker's metrics (``observability.runtime``); ``interceptors`` the
    tracing interceptor, which a worker built on this client uses too. mTLS and the API key come
    from the settings (a Temporal cluster or Temporal Cloud).
    """
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        tls=tls_config(settings),
        api_key=settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None,
        runtime=runtime,
        interceptors=list(interceptors),
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
    settings: Settings, partner_id: str, program: str, state: LifecycleState | None = None
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
    )


async def start_lifecycle(client: Client, settings: Settings, workflow_input: LifecycleInput) -> bool:
    """Start the partner's workflow; False when it exists or existed (never a second one)."""
    from partnerflow.workflows.lifecycle import PartnerLifecycleWorkflow

    try:
        await client.start_workflow(
            PartnerLifecycleWorkflow.run,
            workflow_input,
            id=workflow_id_for(workflow_input.partner_id),
            task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
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
