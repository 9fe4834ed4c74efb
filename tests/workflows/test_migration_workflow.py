"""MigrationWorkflow on the time-skipping server with the real activities: phases, pauses, back-checks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import make_settings, partnerflow_worker
from helpers import eventually, eventually_async, messages
from sqlalchemy import Engine
from sqlmodel import select
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from partnerflow.config import Settings
from partnerflow.domain.lifecycle import workflow_id_for
from partnerflow.domain.migration import MigrationInput, MigrationProgress, Source, migration_workflow_id
from partnerflow.domain.stages import LOCALES, Stage
from partnerflow.rendering.templates import Renderer
from partnerflow.store import onboarding
from partnerflow.store.db import make_engine, session_scope, upgrade
from partnerflow.store.migration_import import import_csv
from partnerflow.store.models import MigratedPartner, Partner, TrackingLink
from partnerflow.workflows.lifecycle import PartnerLifecycleWorkflow
from partnerflow.workflows.migration import MigrationWorkflow

PAUSE = timedelta(days=7)
BASE = """email,name,revenue,code,segment
top1@example.com,Tara Top,50000,top-one,top
top2@example.com,Tom Top,40000,top-two,top
mid1@example.com,Mia Middle,5000,mid-one,middle
mid2@example.com,Max Middle,4000,,middle
tail1@example.com,Tia Tail,100,tail-one,long_tail
tail2@example.com,Ted Tail,0,,long_tail
"""


@dataclass
class Migration:
    env: WorkflowEnvironment
    settings: Settings
    engine: Engine
    run_id: int = 0
    workflow_id: str = ""

    def ids(self) -> dict[str, str]:
        with session_scope(self.engine) as session:
            rows = session.exec(select(MigratedPartner).where(MigratedPartner.run_id == self.run_id))
            return {member.partner_id: member.segment for member in rows}

    def purposes(self, pid: str) -> list[str]:
        return [
            m.idempotency_key.removeprefix(f"partner:{pid}:") for m in messages(self.engine, partner_id=pid)
        ]

    async def start(self, **options: Any) -> WorkflowHandle[MigrationWorkflow, Any]:
        with session_scope(self.engine) as session:
            mapping = {"tracking_code": "code", "segment": "segment"}
            report = import_csv(session, BASE.encode(), Source.GENERIC, mapping=mapping)
        self.run_id, self.workflow_id = (
            report.run_id,
            migration_workflow_id(report.run_id, report.file_sha256),
        )
        return await self.env.client.start_workflow(
            MigrationWorkflow.run,
            MigrationInput(run_id=self.run_id, pause=PAUSE, **options),
            id=self.workflow_id,
            task_queue=self.settings.task_queue,
        )

    async def lifecycle_stage(self, pid: str) -> Stage | None:
        handle = self.env.client.get_workflow_handle_for(PartnerLifecycleWorkflow.run, workflow_id_for(pid))
        try:
            return (await handle.query(PartnerLifecycleWorkflow.status)).stage
        except RPCError:
            return None  # not started


@pytest.fixture
async def migration(time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Migration]:
    settings = make_settings(tmp_path)
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    item = Migration(time_skipping_env, settings, engine)
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with partnerflow_worker(time_skipping_env, settings, engine, executor):
            yield item
            for pid in item.ids():  # their timers would keep the test server busy
                with suppress(RPCError):
                    await time_skipping_env.client.get_workflow_handle(workflow_id_for(pid)).terminate()
            with suppress(RPCError):
                await time_skipping_env.client.get_workflow_handle(item.workflow_id).terminate()
    engine.dispose()


def by_segment(migration: Migration) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {"top": [], "middle": [], "long_tail": []}
    for pid, segment in migration.ids().items():
        grouped[segment].append(pid)
    return grouped


async def test_phases_in_order_with_back_checks(migration: Migration) -> None:
    handle = await migration.start()
    seg = by_segment(migration)
    top, middle, tail = seg["top"], seg["middle"], seg["long_tail"]
    told = lambda pid, purpose: purpose in migration.purposes(pid)  # noqa: E731

    # Phase 1: the personal email and a Slack task per top partner, then their lifecycle (welcome).
    await eventually(lambda: all(told(p, "migration-moving") and told(p, "welcome") for p in top))
    assert all(told(p, "slack:migration-top-partner") for p in top)
    for pid in top:
        purposes = migration.purposes(pid)
        assert purposes.index("migration-moving") > purposes.index(
            "welcome"
        )  # newest first: moving came first
    assert all(migration.purposes(p) == [] for p in middle + tail)
    assert [await migration.lifecycle_stage(p) for p in middle + tail] == [None] * 4

    async def pausing() -> MigrationProgress | None:
        progress = await handle.query(MigrationWorkflow.progress)
        return progress if progress.status == "pausing" else None

    progress = await eventually_async(pausing)
    assert (progress.phase, [p.started for p in progress.phases]) == (2, [2, 0, 0])
    assert progress.next_step_at is not None

    # One top partner accepts the new terms; the other is reminded when the middle starts.
    with session_scope(migration.engine) as session:
        terms = onboarding.publish_terms(session, "default", "Terms", "Be nice.", "alice")
        onboarding.record_acceptance(session, top[0], terms, "127.0.0.1", "test")
    await migration.env.sleep(PAUSE - timedelta(hours=1))
    assert all(migration.purposes(p) == [] for p in middle)  # not before the pause is over
    await migration.env.sleep(timedelta(hours=2))
    await eventually(lambda: all(told(p, "welcome") for p in middle))
    assert told(top[1], "migration-reminder:phase-2") and not told(top[0], "migration-reminder:phase-2")
    assert not any(told(p, "migration-moving") or told(p, "slack:migration-top-partner") for p in middle)
    assert all(migration.purposes(p) == [] for p in tail)

    # Phase 3 after the second pause; earlier phases are checked back on again.
    await migration.env.sleep(PAUSE + timedelta(hours=1))
    await eventually(lambda: all(told(p, "welcome") for p in tail))
    reminded = {p for p in top + middle if told(p, "migration-reminder:phase-3")}
    assert reminded == {top[1], *middle}
    for pid in top + middle + tail:
        status = await migration.env.client.get_workflow_handle_for(
            PartnerLifecycleWorkflow.run, workflow_id_for(pid)
        ).query(PartnerLifecycleWorkflow.status)
        assert status.stage == Stage.ONBOARDING and status.history[0].event == "migrated"
        assert not status.checklist["terms_accepted"]  # the next onboarding step: terms

    # After one more pause the last back-check covers everyone; then the run is complete.
    await migration.env.sleep(PAUSE + timedelta(hours=1))
    result = await handle.result()
    assert result.status == "completed"
    assert [(p.total, p.started, p.accepted) for p in result.phases] == [(2, 2, 1), (2, 2, 0), (2, 2, 0)]
    assert {p for p in top + middle + tail if told(p, "migration-reminder:final")} == {top[1], *middle, *tail}
    with session_scope(migration.engine) as session:
        links = {link.code: link.partner_id for link in session.exec(select(TrackingLink))}
        kit_link = onboarding.issue_tracking_link(session, session.get_one(Partner, top[0]))
    assert kit_link.code == "top-one" and set(links) == {"top-one", "top-two", "mid-one", "tail-one"}


async def test_large_bases_continue_as_new_between_chunks(migration: Migration) -> None:
    handle = await migration.start(batch_size=1, max_history_events=30, final_check=False)
    first_run = handle.first_execution_run_id

    await migration.env.sleep(PAUSE * 2 + timedelta(hours=1))
    result = await handle.result()

    assert [(p.total, p.started) for p in result.phases] == [(2, 2), (2, 2), (2, 2)]
    description = await handle.describe()
    assert description.status == WorkflowExecutionStatus.COMPLETED and description.run_id != first_run
    assert all([await migration.lifecycle_stage(p) for p in migration.ids()])


async def test_an_empty_phase_is_skipped_without_a_pause(migration: Migration) -> None:
    with session_scope(migration.engine) as session:
        content = b"email,name,segment\nsolo@example.com,Solo,long_tail\nduo@example.com,Duo,long_tail\n"
        report = import_csv(session, content, Source.GENERIC, mapping={"segment": "segment"})
    migration.run_id, migration.workflow_id = (
        report.run_id,
        migration_workflow_id(report.run_id, report.file_sha256),
    )
    handle = await migration.env.client.start_workflow(
        MigrationWorkflow.run,
        MigrationInput(run_id=migration.run_id, pause=PAUSE, final_check=False),
        id=migration.workflow_id,
        task_queue=migration.settings.task_queue,
    )
    result = await handle.result()  # no pause: nobody was migrated before the long tail
    assert [(p.total, p.started) for p in result.phases] == [(0, 0), (0, 0), (2, 2)]
    assert (await migration.env.get_current_time()) - (await handle.describe()).start_time < PAUSE


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", ["migration_moving", "migration_reminder"])
def test_migration_emails_render_in_every_locale(name: str, locale: str) -> None:
    partner = {
        "id": "p1",
        "program": "Acme",
        "email": "ada@example.com",
        "name": "Ada <Lovelace>",
        "locale": locale,
    }
    base = {"partner": partner, "portal_url": "https://x.test/portal/tok", "run_id": 1, "segment": "top",
            "lifetime_revenue": 1234.5, "phase": 2}  # fmt: skip
    with_code = base | {"source": "rewardful", "source_name": "Rewardful", "legacy_code": "ada-7",
                        "tracking_url": "https://x.test/r/ada-7", "legacy_tier": "Gold"}  # fmt: skip
    without = base | {"source": "generic", "source_name": "x", "legacy_code": None, "tracking_url": None,
                      "legacy_tier": None}  # fmt: skip
    first, second = Renderer().email(name, locale, with_code), Renderer().email(name, locale, without)

    assert "Acme" in first.subject and "https://x.test/portal/tok" in first.text + first.html
    assert "ada-7" in first.text and "ada-7" in first.html and "Rewardful" in first.text
    assert "ada-7" not in second.text and "Rewardful" not in second.text and "None" not in second.text
    assert "Ada &lt;Lovelace&gt;" in first.html and f'lang="{locale}"' in first.html
    assert "{{" not in first.text + first.html and "\n- " in (
        first.text if name == "migration_moving" else "\n- "
    )


def test_top_partner_slack_task() -> None:
    text = Renderer().slack(
        "migration_top_partner",
        {"partner": {"name": "Ada <L>", "email": "ada@example.com", "company": None, "program": "Acme"},
         "source_name": "PartnerStack", "legacy_code": "ada-7", "lifetime_revenue": 48200.0, "legacy_tier": "Gold",
         "email_sent": False, "dashboard_url": "https://x.test/d", "workflow_url": "https://x.test/w"},
    )  # fmt: skip
    assert (
        "Ada &lt;L&gt;" in text
        and "48,200.00" in text
        and "`ada-7`" in text
        and "could not be delivered" in text
    )
