"""Recruitment campaigns on the time-skipping server, with the real activities and a bouncing inbox."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from helpers import add_partner, eventually, message_keys, messages, offset_ids
from recruiting import INTRO_ONLY, Recruit, recruiting
from temporalio.testing import WorkflowEnvironment

from partnerflow.domain.prospects import outreach_workflow_id
from partnerflow.services.recruitment import on_partner_signup, unsubscribe_prospect
from partnerflow.store.db import session_scope
from partnerflow.store.models import EmailSuppression
from partnerflow.workflows.recruitment import ProspectOutreachWorkflow


@pytest.fixture
async def recruit(time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Recruit]:
    async with recruiting(time_skipping_env, tmp_path) as item:
        yield item


async def test_steps_wait_their_delays_then_the_campaign_completes(recruit: Recruit) -> None:
    cid, ids, handle = await recruit.campaign(["ada@example.com"])
    pid = ids["ada@example.com"]
    await eventually(lambda: recruit.steps_sent(pid) == ["1"])

    await recruit.env.sleep(timedelta(days=4) - timedelta(hours=1))
    assert recruit.steps_sent(pid) == ["1"]  # not before day 4
    await recruit.env.sleep(timedelta(hours=2))
    await eventually(lambda: recruit.steps_sent(pid) == ["1", "2"])
    await recruit.env.sleep(timedelta(days=6) - timedelta(hours=2))
    assert recruit.steps_sent(pid) == ["1", "2"]  # not before day 10
    await recruit.env.sleep(timedelta(hours=2))
    await eventually(lambda: recruit.steps_sent(pid) == ["1", "2", "3"])

    final = await recruit.finish(handle)
    assert final.phase == "completed" and final.progress.completed == 1 and final.progress.sent == 3
    assert recruit.member(cid, pid).status == "completed" and recruit.prospect(pid).status == "contacted"
    sent = sorted(messages(recruit.engine, channel="email"), key=lambda m: m.id or 0)
    assert [m.template for m in sent] == ["outreach_intro", "outreach_follow_up", "outreach_last_note"]
    assert all(
        "/outreach/unsubscribe/" in m.body_text and "https://example.com/?program=default" in m.body_text
        for m in sent
    )
    assert sent[0].idempotency_key == f"prospect:{pid}:campaign:{cid}:step:1"


async def test_signup_stops_the_sequence(recruit: Recruit) -> None:
    cid, ids, _ = await recruit.campaign(["ada@example.com", "bob@example.com"])
    await eventually(lambda: all(recruit.steps_sent(pid) == ["1"] for pid in ids.values()))
    partner = add_partner(recruit.engine, "ADA@example.com")

    told = await on_partner_signup(
        recruit.engine, recruit.env.client, "default", "ADA@example.com", partner.id
    )

    assert told == 1
    await recruit.settled(cid, ids["ada@example.com"], "converted")
    await recruit.env.sleep(timedelta(days=5))
    await eventually(lambda: recruit.steps_sent(ids["bob@example.com"]) == ["1", "2"])
    assert recruit.steps_sent(ids["ada@example.com"]) == ["1"]
    ada = recruit.prospect(ids["ada@example.com"])
    assert (ada.status, ada.partner_id) == ("converted", partner.id)


async def test_unsubscribe_stops_the_sequence_and_suppresses_the_address(recruit: Recruit) -> None:
    cid, ids, handle = await recruit.campaign(["ada@example.com"])
    pid = ids["ada@example.com"]
    await eventually(lambda: recruit.steps_sent(pid) == ["1"])

    assert await unsubscribe_prospect(recruit.engine, recruit.env.client, pid) == "ada@example.com"

    await recruit.settled(cid, pid, "unsubscribed")
    await recruit.env.sleep(timedelta(days=11))
    assert recruit.steps_sent(pid) == ["1"] and recruit.prospect(pid).status == "unsubscribed"
    with session_scope(recruit.engine) as session:
        assert session.get(EmailSuppression, "ada@example.com").reason == "unsubscribed"  # type: ignore[union-attr]
    outreach = recruit.env.client.get_workflow_handle_for(
        ProspectOutreachWorkflow.run, outreach_workflow_id(cid, pid)
    )
    assert (await outreach.result()).outcome == "unsubscribed"
    assert (await recruit.finish(handle)).progress.unsubscribed == 1


async def test_suppression_from_elsewhere_is_checked_before_every_send(recruit: Recruit) -> None:
    cid, ids, _ = await recruit.campaign(["ada@example.com"])
    pid = ids["ada@example.com"]
    await eventually(lambda: recruit.steps_sent(pid) == ["1"])
    with session_scope(recruit.engine) as session:  # e.g. another program's link: no signal reaches us
        session.add(EmailSuppression(email="ada@example.com", reason="unsubscribed"))

    await recruit.env.sleep(timedelta(days=5))

    await recruit.settled(cid, pid, "unsubscribed")
    assert recruit.steps_sent(pid) == ["1"] and recruit.prospect(pid).status == "unsubscribed"


async def test_a_hard_bounce_stops_the_sequence_and_suppresses_the_address(recruit: Recruit) -> None:
    cid, ids, handle = await recruit.campaign(["bounce@example.com", "ada@example.com"])
    pid = ids["bounce@example.com"]

    await recruit.settled(cid, pid, "bounced")

    assert recruit.prospect(pid).status == "bounced"
    with session_scope(recruit.engine) as session:
        assert session.get(EmailSuppression, "bounce@example.com").reason == "bounced"  # type: ignore[union-attr]
    failed = messages(recruit.engine, to="bounce@example.com")
    assert [m.status for m in failed] == ["failed"] and "no such mailbox" in (failed[0].error or "")
    await recruit.env.sleep(timedelta(days=11))
    assert recruit.steps_sent(pid) == [] and recruit.steps_sent(ids["ada@example.com"]) == ["1", "2", "3"]
    final = await recruit.finish(handle)
    assert (final.progress.bounced, final.progress.completed, final.progress.sent) == (1, 1, 3)


async def test_first_sends_are_spaced_by_the_rate_limit(recruit: Recruit) -> None:
    emails = [f"p{n}@example.com" for n in range(5)]
    cid, ids, handle = await recruit.campaign(emails, INTRO_ONLY, rate=2)

    await recruit.env.sleep(timedelta(minutes=3))

    await eventually(lambda: all(recruit.member(cid, pid).status == "completed" for pid in ids.values()))
    children = [recruit.env.client.get_workflow_handle_for(ProspectOutreachWorkflow.run, outreach_workflow_id(cid, pid))
                for pid in ids.values()]  # fmt: skip
    runs = sorted([await child.result() for child in children], key=lambda status: status.sent_at[0])
    slots = [run.first_send_at for run in runs]
    sent = [run.sent_at[0] for run in runs]
    slot_gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(slots)]  # type: ignore[operator]
    sent_gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(sent)]
    print(f"\nat 2 messages/minute: slots {slot_gaps} s apart, sends {sent_gaps} s apart")
    assert len(slot_gaps) == 4 and all(gap >= 30 for gap in slot_gaps)
    # A send happens at its slot plus the workflow task's latency (milliseconds), never before it.
    assert all(slot <= at < slot + timedelta(seconds=1) for slot, at in zip(slots, sent, strict=True))  # type: ignore[operator]
    assert all(gap >= 29.9 for gap in sent_gaps)
    recorded = sorted(recruit.member(cid, pid).last_sent_at for pid in ids.values())  # type: ignore[type-var]
    assert recorded == sent  # the store keeps the workflow's send times
    assert (await recruit.finish(handle)).progress.sent == 5


async def test_continue_as_new_covers_every_prospect_exactly_once(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    # On the dev server: the time-skipping test server stops skipping time for the children of a
    # parent that continued-as-new (temporalio/sdk-java#1540), and this test needs no long timers.
    async with recruiting(dev_env, tmp_path) as recruit:
        offset_ids(recruit.engine)
        emails = [f"p{n}@example.com" for n in range(5)]
        cid, ids, handle = await recruit.campaign(
            emails,
            INTRO_ONLY,
            rate=6000,
            batch_size=2,
            batches_per_run=1,
            progress_every=timedelta(seconds=1),
        )

        final = await handle.result()

        assert (final.launched, final.runs, final.phase) == (
            5,
            3,
            "completed",
        )  # batches 2 + 2 + 1, one per run
        assert (final.progress.members, final.progress.completed, final.progress.sent) == (5, 5, 5)
        keys = message_keys(recruit.engine, channel="email")
        assert keys == sorted(f"prospect:{pid}:campaign:{cid}:step:1" for pid in ids.values())
        for pid in ids.values():
            child = dev_env.client.get_workflow_handle_for(
                ProspectOutreachWorkflow.run, outreach_workflow_id(cid, pid)
            )
            assert (await child.result()).steps_sent == 1
