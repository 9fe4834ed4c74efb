"""Pausing, resuming and cancelling a campaign, on the time-skipping server with the real activities."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from helpers import eventually, messages
from recruiting import INTRO_ONLY, Recruit, recruiting
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from partnerflow.domain.campaign_controls import CampaignAction
from partnerflow.domain.prospects import OutreachStatus, campaign_workflow_id, outreach_workflow_id
from partnerflow.services.campaign_controls import CampaignConflict, control_campaign
from partnerflow.store.db import session_scope
from partnerflow.store.models import Campaign
from partnerflow.worker import WORKFLOWS
from partnerflow.workflows.outreach import ProspectOutreachWorkflow
from partnerflow.workflows.recruitment import RecruitmentCampaignWorkflow

PAUSE, RESUME, CANCEL = CampaignAction.PAUSE, CampaignAction.RESUME, CampaignAction.CANCEL


@pytest.fixture
async def recruit(time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Recruit]:
    async with recruiting(time_skipping_env, tmp_path) as item:
        yield item


async def control(recruit: Recruit, campaign_id: int, action: CampaignAction, reason: str = "") -> str:
    view = await control_campaign(recruit.engine, recruit.env.client, campaign_id, action, "alice", reason)
    return view.status


async def sequence(recruit: Recruit, campaign_id: int, prospect_id: int) -> OutreachStatus:
    handle = recruit.env.client.get_workflow_handle_for(
        ProspectOutreachWorkflow.run, outreach_workflow_id(campaign_id, prospect_id)
    )
    return await handle.query(ProspectOutreachWorkflow.status)


async def assert_replays(recruit: Recruit, campaign_id: int, prospect_ids: list[int]) -> None:
    """The histories these controls wrote rebuild on today's code (what every worker restart does)."""
    replayer = Replayer(workflows=list(WORKFLOWS), data_converter=pydantic_data_converter)
    ids = [campaign_workflow_id(campaign_id)] + [outreach_workflow_id(campaign_id, p) for p in prospect_ids]
    for workflow_id in ids:
        history = await recruit.env.client.get_workflow_handle(workflow_id).fetch_history()
        await replayer.replay_workflow(history)


def campaign_row(recruit: Recruit, campaign_id: int) -> Campaign:
    with session_scope(recruit.engine) as session:
        row = session.get(Campaign, campaign_id)
    assert row is not None
    return row


async def test_a_paused_campaign_sends_nothing_and_its_waits_move_by_the_pause(recruit: Recruit) -> None:
    cid, ids, handle = await recruit.campaign(["ada@example.com"])  # steps on days 0, 4 and 10
    pid = ids["ada@example.com"]
    await eventually(lambda: recruit.steps_sent(pid) == ["1"])
    await recruit.env.sleep(timedelta(days=1))

    assert await control(recruit, cid, PAUSE) == "paused"
    row = campaign_row(recruit, cid)
    assert (row.status, row.status_changed_by) == ("paused", "alice")
    await eventually_paused(recruit, cid, pid)
    with pytest.raises(CampaignConflict, match="already paused"):
        await control(recruit, cid, PAUSE)
    await recruit.env.sleep(timedelta(days=10))  # step 2 was due on day 4
    assert recruit.steps_sent(pid) == ["1"]

    assert await control(recruit, cid, RESUME) == "running"  # day 11
    with pytest.raises(CampaignConflict, match="not paused"):
        await control(recruit, cid, RESUME)
    await recruit.env.sleep(timedelta(days=3) - timedelta(hours=1))  # 4 days after step 1, not paused
    assert recruit.steps_sent(pid) == ["1"]
    await recruit.env.sleep(timedelta(hours=2))
    await eventually(lambda: recruit.steps_sent(pid) == ["1", "2"])
    await recruit.env.sleep(timedelta(days=6))
    await eventually(lambda: recruit.steps_sent(pid) == ["1", "2", "3"])
    final = await recruit.finish(handle)
    assert final.phase == "completed" and campaign_row(recruit, cid).status == "completed"
    await assert_replays(recruit, cid, [pid])


async def eventually_paused(recruit: Recruit, campaign_id: int, prospect_id: int) -> None:
    async def paused() -> bool:
        return (await sequence(recruit, campaign_id, prospect_id)).paused_at is not None

    for _ in range(100):
        if await paused():
            return
        await recruit.env.sleep(timedelta(seconds=0.1))
    raise AssertionError("the sequence was not told about the pause")


async def test_a_pause_holds_launches_and_first_sends_and_resuming_keeps_the_rate(recruit: Recruit) -> None:
    emails = [f"p{n}@example.com" for n in range(5)]
    cid, ids, handle = await recruit.campaign(emails, INTRO_ONLY, rate=1, batch_size=2)  # a slot a minute
    assert await control(recruit, cid, PAUSE) == "paused"
    first = len(messages(recruit.engine, channel="email", status="sent"))

    await recruit.env.sleep(timedelta(days=2))
    assert len(messages(recruit.engine, channel="email", status="sent")) == first == 1
    status = await handle.query(RecruitmentCampaignWorkflow.status)
    assert status.phase == "paused" and status.launched == 2  # the next batch waits for the resume

    assert await control(recruit, cid, RESUME) == "running"
    await recruit.env.sleep(timedelta(minutes=6))
    await eventually(lambda: len(messages(recruit.engine, channel="email", status="sent")) == 5)
    runs = [await sequence(recruit, cid, pid) for pid in ids.values()]
    sent = sorted(run.sent_at[0] for run in runs)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(sent)]
    assert gaps[0] >= 2 * 86_400 and all(gap >= 59.9 for gap in gaps[1:]), gaps  # a minute apart still
    assert (await recruit.finish(handle)).progress.completed == 5


async def test_cancel_ends_every_sequence_and_marks_the_members(recruit: Recruit) -> None:
    cid, ids, handle = await recruit.campaign(["ada@example.com", "bob@example.com"])
    await eventually(lambda: all(recruit.steps_sent(pid) == ["1"] for pid in ids.values()))
    assert await control(recruit, cid, PAUSE) == "paused"

    assert await control(recruit, cid, CANCEL, "wrong audience") == "cancelled"  # from paused

    final = await handle.result()
    assert final.phase == "cancelled" and final.progress.cancelled == 2 and final.progress.sent == 2
    row = campaign_row(recruit, cid)
    assert (row.status, row.cancel_reason, row.status_changed_by) == ("cancelled", "wrong audience", "alice")
    for pid in ids.values():
        await recruit.settled(cid, pid, "cancelled")
        assert (await sequence(recruit, cid, pid)).outcome == "cancelled"
        assert recruit.prospect(pid).status == "contacted"  # free for another campaign
    await recruit.env.sleep(timedelta(days=11))
    assert all(recruit.steps_sent(pid) == ["1"] for pid in ids.values())
    for action in (PAUSE, RESUME, CANCEL):
        with pytest.raises(CampaignConflict, match="cancelled"):
            await control(recruit, cid, action)
    await assert_replays(recruit, cid, list(ids.values()))


async def test_a_send_that_finds_the_campaign_paused_holds_without_a_signal(recruit: Recruit) -> None:
    cid, ids, _ = await recruit.campaign(["ada@example.com"])
    pid = ids["ada@example.com"]
    await eventually(lambda: recruit.steps_sent(pid) == ["1"])
    with session_scope(recruit.engine) as session:  # as if the signals had not arrived yet
        session.get(Campaign, cid).status = "paused"  # type: ignore[union-attr]

    await recruit.env.sleep(timedelta(days=4, hours=1))
    assert recruit.steps_sent(pid) == ["1"]
    assert (await sequence(recruit, cid, pid)).paused_at is not None
    assert recruit.member(cid, pid).status == "in_sequence"
    with session_scope(recruit.engine) as session:
        session.get(Campaign, cid).status = "running"  # type: ignore[union-attr]

    await recruit.env.sleep(timedelta(days=1))  # it looks again daily
    await eventually(lambda: recruit.steps_sent(pid) == ["1", "2"])
    await assert_replays(recruit, cid, [pid])
