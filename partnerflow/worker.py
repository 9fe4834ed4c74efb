"""The Temporal worker: settings → clients → Worker → run until told to stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine
from temporalio.activity import _Definition as ActivityDefinition
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
)
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from partnerflow.activities.approval import ApprovalActivities
from partnerflow.activities.campaign_controls import CampaignControlActivities
from partnerflow.activities.digest import DigestActivities
from partnerflow.activities.engagement import EngagementActivities
from partnerflow.activities.messaging import MessagingActivities
from partnerflow.activities.migration import MigrationActivities
from partnerflow.activities.onboarding import OnboardingActivities
from partnerflow.activities.recruitment import RecruitmentActivities
from partnerflow.activities.store import StoreActivities
from partnerflow.activities.webhooks import WebhookActivities
from partnerflow.config import Settings, warn_insecure_public_url
from partnerflow.providers import email_backend, slack_backend
from partnerflow.services.temporal import PartnerStarter
from partnerflow.services.webhooks import dispatch
from partnerflow.workflows.digest import DIGEST_SCHEDULE_PREFIX, ProgramDigestWorkflow
from partnerflow.workflows.lifecycle import PartnerLifecycleWorkflow
from partnerflow.workflows.migration import MigrationWorkflow
from partnerflow.workflows.outreach import ProspectOutreachWorkflow
from partnerflow.workflows.recruitment import RecruitmentCampaignWorkflow
from partnerflow.workflows.webhooks import WebhookDeliveryWorkflow

log = logging.getLogger(__name__)

WORKFLOWS: Sequence[type] = (
    PartnerLifecycleWorkflow,
    ProgramDigestWorkflow,
    WebhookDeliveryWorkflow,
    MigrationWorkflow,
    RecruitmentCampaignWorkflow,
    ProspectOutreachWorkflow,
)


def activities(settings: Settings, engine: Engine) -> list[Any]:
    emails, slack = email_backend(settings), slack_backend(settings)
    messaging = MessagingActivities(settings, engine, emails, slack)
    store = StoreActivities(engine)
    onboarding = OnboardingActivities(settings, engine)
    engagement = EngagementActivities(settings, engine)
    digest = DigestActivities(settings, engine)
    webhooks = WebhookActivities(engine, dispatch)
    migration = MigrationActivities(settings, engine, messaging, PartnerStarter(settings))
    recruitment = RecruitmentActivities(settings, engine, emails, slack)
    approval = ApprovalActivities(engine)
    return [
        *recruitment.activities(),
        *CampaignControlActivities(engine).activities(),
        migration.migration_progress,
        migration.migration_start_batch,
        migration.migration_nudge_batch,
        migration.migration_finish,
        webhooks.record_webhook_event,
        webhooks.deliver_webhook,
        webhooks.record_webhook_failure,
        digest.program_digests,
        engagement.engagement_snapshot,
        engagement.compute_review,
        engagement.apply_tier_change,
        engagement.deactivate_tracking_link,
        onboarding.prepare_kit,
        onboarding.reserve_webinar_seat,
        onboarding.mark_no_show,
        messaging.send_email,
        messaging.notify_managers,
        store.record_stage,
        store.record_decision,
        store.pending_applications,
        approval.match_approval_rule,
    ]


def build_worker(
    client: Client,
    settings: Settings,
    engine: Engine,
    executor: ThreadPoolExecutor,
    extra_workflows: Sequence[type] = (),
    extra_activities: Sequence[Callable[..., Any]] = (),
    max_cached_workflows: int | None = None,
) -> Worker:
    """The worker; ``extra_*`` add (or, by activity name, replace) workflows and activities.

    ``max_cached_workflows=0`` makes every workflow task replay the whole history (tests use it
    to prove the workflows are deterministic); None takes ``PARTNERFLOW_WORKER_MAX_CACHED_WORKFLOWS``.
    """
    if max_cached_workflows is None:
        max_cached_workflows = settings.worker_max_cached_workflows
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=list(dict.fromkeys([*WORKFLOWS, *extra_workflows])),
        activities=_by_name([*activities(settings, engine), *extra_activities]),
        activity_executor=executor,
        max_concurrent_activities=executor._max_workers,
        max_cached_workflows=max_cached_workflows,
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
        workflow_runner=workflow_runner(settings),
    )


def workflow_runner(settings: Settings) -> SandboxedWorkflowRunner:
    """The sandbox; with ``worker_sandbox_passthrough`` our modules are shared, not re-imported per
    run (a new workflow or one evicted from the cache: ~50 → ~20 ms CPU, bench in docs/measurements.md)."""
    if not settings.worker_sandbox_passthrough:
        return SandboxedWorkflowRunner()
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules("partnerflow")
    )


def _by_name(functions: Sequence[Callable[..., Any]]) -> list[Callable[..., Any]]:
    """One implementation per activity name; a later one (e.g. a test's) replaces an earlier one."""
    named = {ActivityDefinition.must_from_callable(fn).name: fn for fn in functions}
    return list(named.values())


async def ensure_digest_schedule(client: Client, settings: Settings) -> str:
    """Create (or update) the Temporal Schedule of the weekly program digest."""
    schedule_id = f"{DIGEST_SCHEDULE_PREFIX}-{settings.task_queue}"
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            ProgramDigestWorkflow.run,
            id=f"program-digest-{settings.task_queue}",
            task_queue=settings.task_queue,
        ),
        spec=ScheduleSpec(cron_expressions=[settings.digest_cron]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:
        await client.get_schedule_handle(schedule_id).update(lambda _: ScheduleUpdate(schedule=schedule))
    return schedule_id


async def run_worker(client: Client, settings: Settings, engine: Engine, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set, then finish in-flight tasks and return."""
    warn_insecure_public_url(settings)
    await ensure_digest_schedule(client, settings)
    slots = settings.worker_max_concurrent_activities
    with ThreadPoolExecutor(max_workers=slots, thread_name_prefix="activity") as executor:
        worker = build_worker(client, settings, engine, executor)
        async with worker:
            log.info("worker polling task queue %r", settings.task_queue)
            await stop.wait()
