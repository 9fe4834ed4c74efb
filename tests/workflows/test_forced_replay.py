"""A partner from signup to active on a worker with no workflow cache: every task replays its history."""

from __future__ import annotations

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from conftest import make_settings
from harness import Harness
from helpers import messages
from temporalio.api.enums.v1 import EventType, TaskQueueKind
from temporalio.testing import WorkflowEnvironment

from partnerflow.domain.stages import Stage
from partnerflow.store.db import make_engine, upgrade
from partnerflow.worker import build_worker
from partnerflow.workflows.lifecycle import PartnerLifecycleWorkflow

EXPECTED_PURPOSES = [
    "application-received",
    "onboarding-complete",
    "slack:application-submitted",
    "slack:no-webinar",
    "slack:onboarding-complete",
    "welcome",
    "welcome-kit",
]


async def test_signup_to_active_replaying_every_task_sends_each_message_once(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    # The dev server, not the time-skipping one: only it reports which task queue (sticky or not)
    # each workflow task went to, and nothing in this flow waits for a timer.
    settings = make_settings(tmp_path)
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    with ThreadPoolExecutor(max_workers=8) as executor:
        worker = build_worker(dev_env.client, settings, engine, executor, max_cached_workflows=0)
        async with worker:
            harness = Harness(dev_env, settings, engine)
            pid, handle = await harness.active()  # signup → approve → terms → webinar waived → active
            status = await handle.query(PartnerLifecycleWorkflow.status)
            history = await handle.fetch_history()
            await handle.terminate("test over")
    engine.dispose()

    assert status.stage == Stage.ACTIVE and all(status.checklist.values())
    timeline = Counter(f"{entry.event} {entry.detail}" for entry in status.history)
    assert all(count == 1 for count in timeline.values()), timeline
    assert {"stage onboarding", "stage active"} <= set(timeline)
    # Each message exactly once, and delivered (the no-webinar alert's key carries the date).
    purposes = [re.sub(r":\d{4}-\d{2}-\d{2}$", "", purpose) for purpose in harness.purposes(pid)]
    assert sorted(purposes) == EXPECTED_PURPOSES
    assert {m.status for m in messages(engine, partner_id=pid)} == {"sent"}
    # No sticky task queue (a cached worker gets every task after the first there): each workflow task
    # went to the normal queue, so the worker rebuilt the workflow from its whole history every time.
    tasks = [
        event.workflow_task_scheduled_event_attributes.task_queue.kind
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED
    ]
    assert len(tasks) >= 5 and set(tasks) == {TaskQueueKind.TASK_QUEUE_KIND_NORMAL}, tasks
