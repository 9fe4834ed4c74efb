"""Program-level workflows: a recruitment campaign and its outreach, migrations, the weekly digest."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial

from driver import WAIT, Driver, Handle, Recording, record
from helpers import add_partner, eventually_async
from sqlmodel import select
from temporalio.client import ScheduleActionExecutionStartWorkflow
from temporalio.service import RPCError

from partnerflow.domain.campaign_controls import CampaignAction
from partnerflow.domain.migration import MigrationInput, MigrationProgress, Source, migration_workflow_id
from partnerflow.domain.prospects import campaign_workflow_id, outreach_workflow_id
from partnerflow.services.campaign_controls import control_campaign
from partnerflow.services.campaigns import CampaignIn, start_campaign
from partnerflow.services.migration import start_migration_workflow
from partnerflow.services.recruitment import on_partner_signup
from partnerflow.store import migration_import
from partnerflow.store import prospects as prospect_store
from partnerflow.store.db import session_scope
from partnerflow.store.models import Prospect
from partnerflow.worker import ensure_digest_schedule
from partnerflow.workflows.migration import MigrationWorkflow
from partnerflow.workflows.recruitment import ProspectOutreachWorkflow, RecruitmentCampaignWorkflow

STEPS = [  # intro at once, a follow-up 2 s later, the last note after a day
    {"template": "outreach_intro", "delay_days": 0},
    {"template": "outreach_follow_up", "delay_days": 2 / 86_400},
    {"template": "outreach_last_note", "delay_days": 1},
]


async def recruitment(d: Driver) -> list[Recording]:
    """Three prospects: two get intro and follow-up and wait for the last note; one signs up."""
    program = "rec-campaign"
    emails = [f"{name}@prospect.example.com" for name in ("ada", "bob", "cyd")]
    with session_scope(d.engine) as session:
        prospect_store.import_csv(
            session, program, "email,name\n" + "".join(f"{e},{e[:3]}\n" for e in emails), {}
        )
        ids = {p.email: p.id for p in session.exec(select(Prospect).where(Prospect.program == program))}
    body = CampaignIn.model_validate(
        {"name": "Spring", "program": program, "steps": STEPS, "messages_per_minute": 600}
    )
    campaign_id = await start_campaign(d.engine, d.client, d.settings, body)
    parent = d.client.get_workflow_handle_for(
        RecruitmentCampaignWorkflow.run, campaign_workflow_id(campaign_id)
    )

    def child(email: str) -> Handle:
        prospect_id = ids[email]
        assert prospect_id is not None
        return d.client.get_workflow_handle_for(
            ProspectOutreachWorkflow.run, outreach_workflow_id(campaign_id, prospect_id)
        )

    async def sent(email: str, steps: int) -> bool:
        try:
            return len((await child(email).query(ProspectOutreachWorkflow.status)).sent_at) >= steps
        except RPCError:  # not launched yet
            return False

    await eventually_async(partial(sent, emails[2], 1), timeout=WAIT)
    partner = add_partner(d.engine, emails[2], program=program)  # cyd signs up as a partner
    await on_partner_signup(d.engine, d.client, program, emails[2], partner.id, d.settings.task_queue)
    converted = child(emails[2])
    await converted.result()
    for email in emails[:2]:
        await eventually_async(partial(sent, email, 2), timeout=WAIT)
    await parent.signal(RecruitmentCampaignWorkflow.refresh)  # as the dashboard's refresh does
    return [
        await record(
            parent, "mid-sequence", "3 sequences launched: 2 mid-sequence, 1 converted; progress loop"
        ),
        await record(
            child(emails[0]), "mid-sequence", "intro and follow-up sent; waiting a day for the last"
        ),
        await record(converted, "converted", "intro sent, then the prospect signed up: stopped, completed"),
    ]


async def recruitment_paused(d: Driver) -> list[Recording]:
    """Two prospects got their intro; then a manager pauses the campaign, and later cancels another."""
    program = "rec-paused"
    emails = [f"{name}@paused.example.com" for name in ("ada", "bob")]
    with session_scope(d.engine) as session:
        prospect_store.import_csv(session, program, "email\n" + "".join(f"{e}\n" for e in emails), {})
        ids = [p.id for p in session.exec(select(Prospect).where(Prospect.program == program))]
    body = CampaignIn.model_validate(
        {"name": "Paused", "program": program, "steps": STEPS, "messages_per_minute": 600}
    )
    campaign_id = await start_campaign(d.engine, d.client, d.settings, body)
    parent = d.client.get_workflow_handle_for(
        RecruitmentCampaignWorkflow.run, campaign_workflow_id(campaign_id)
    )
    first = d.client.get_workflow_handle_for(
        ProspectOutreachWorkflow.run, outreach_workflow_id(campaign_id, ids[0] or 0)
    )

    async def intro_sent() -> bool:
        try:
            return len((await first.query(ProspectOutreachWorkflow.status)).sent_at) >= 1
        except RPCError:
            return False

    await eventually_async(intro_sent, timeout=WAIT)
    await control_campaign(d.engine, d.client, campaign_id, CampaignAction.PAUSE, "alice")

    async def told() -> bool:
        return (await first.query(ProspectOutreachWorkflow.status)).paused_at is not None

    await eventually_async(told, timeout=WAIT)
    return [
        await record(parent, "paused", "2 sequences launched, then paused by a manager; progress loop"),
        await record(first, "paused", "intro sent, follow-up held by the campaign's pause"),
    ]


def _import(d: Driver, program: str) -> migration_import.ImportReport:
    rows = "".join(
        f"{segment}{n}@{program}.example.com,{segment.title()} {n},{revenue},{program}-{segment}{n},{segment}\n"
        for segment, revenue in (("top", 50_000), ("middle", 5_000), ("long_tail", 100))
        for n in (1, 2)
    )
    with session_scope(d.engine) as session:
        return migration_import.import_csv(
            session,
            ("email,name,revenue,code,segment\n" + rows).encode(),
            Source.GENERIC,
            program,
            {"tracking_code": "code", "segment": "segment"},
        )


async def migration_pausing(d: Driver) -> list[Recording]:
    """Started as ``POST /migrations`` does: phase 1 (top partners) done, pausing before phase 2."""
    report = _import(d, "rec-migration")
    await start_migration_workflow(d.client, d.settings, report, pause=timedelta(hours=1))
    handle = d.client.get_workflow_handle_for(
        MigrationWorkflow.run, migration_workflow_id(report.run_id, report.file_sha256)
    )
    await _progress(handle, lambda p: p.status == "pausing")
    return [await record(handle, "pausing-before-phase-2", "phase 1 started (2 top partners); pausing 1 h")]


async def migration_mid_phase(d: Driver) -> list[Recording]:
    """One partner per chunk, an hour apart: recorded between the chunks of phase 1."""
    report = _import(d, "rec-migration-chunks")
    handle = await d.client.start_workflow(
        MigrationWorkflow.run,
        MigrationInput(
            run_id=report.run_id,
            program=report.program,
            pause=timedelta(hours=1),
            batch_size=1,
            batch_interval=timedelta(hours=1),
        ),
        id=migration_workflow_id(report.run_id, report.file_sha256),
        task_queue=d.settings.task_queue,
    )
    await _progress(handle, lambda p: p.status == "migrating" and p.phases[0].started == 1)
    return [await record(handle, "mid-phase", "phase 1, first chunk of 1 partner started; next chunk in 1 h")]


async def digest(d: Driver) -> list[Recording]:
    """The weekly digest, triggered on its Temporal Schedule (one Slack digest per program)."""
    schedule = d.client.get_schedule_handle(await ensure_digest_schedule(d.client, d.settings))
    await schedule.trigger()

    async def started() -> ScheduleActionExecutionStartWorkflow | None:
        actions = (await schedule.describe()).info.recent_actions
        action = actions[-1].action if actions else None
        return action if isinstance(action, ScheduleActionExecutionStartWorkflow) else None

    action = await eventually_async(started, timeout=WAIT)
    assert action is not None
    handle = d.client.get_workflow_handle(action.workflow_id, run_id=action.first_execution_run_id)
    await handle.result()
    await schedule.delete()
    return [await record(handle, "weekly-digest", "triggered on the digest schedule; a digest per program")]


async def _progress(handle: Handle, ready: Callable[[MigrationProgress], bool]) -> MigrationProgress:
    async def check() -> MigrationProgress | None:
        progress: MigrationProgress = await handle.query(MigrationWorkflow.progress)
        return progress if ready(progress) else None

    found = await eventually_async(check, timeout=WAIT)
    assert found is not None
    return found
