"""Active partners on the time-skipping server: nudges, caps, reviews, tiers, offboarding, years."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from harness import Handle, Harness, running
from helpers import eventually, messages
from sqlmodel import select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from partnerflow.domain.review import OffboardInput, PauseInput, TierDecision
from partnerflow.domain.stages import Stage
from partnerflow.store.db import session_scope
from partnerflow.store.models import Partner, PerformanceEvent, Review, TrackingLink
from partnerflow.workflows.lifecycle import PartnerLifecycleWorkflow

# History budget of one workflow run (see the three-year test).
MAX_EVENTS_PER_RUN = 1_700  # measured 1,121
MAX_HISTORY_BYTES_PER_RUN = 230_000  # measured 153,428


@pytest.fixture
async def harness(time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Harness]:
    async with running(time_skipping_env, tmp_path) as item:
        yield item


def add_events(harness: Harness, pid: str, at: datetime, *events: tuple[str, float | None]) -> None:
    with session_scope(harness.engine) as session:
        for kind, amount in events:
            session.add(
                PerformanceEvent(
                    event_id=uuid.uuid4().hex, partner_id=pid, type=kind, amount=amount,
                    currency="USD" if amount else None, occurred_at=at,
                )
            )  # fmt: skip


async def status(handle: Handle):  # type: ignore[no-untyped-def]
    return await handle.query(PartnerLifecycleWorkflow.status)


def templates(harness: Harness, pid: str) -> list[str]:
    return [m.template for m in messages(harness.engine, partner_id=pid)]


async def test_a_quiet_partner_is_nudged_after_14_days_at_most_once_a_week(harness: Harness) -> None:
    pid, _ = await harness.active()

    await harness.env.sleep(timedelta(days=13, hours=12))
    assert "nudge_no_clicks" not in templates(harness, pid)
    # The partner's daily check (at their own time of day) after the 14th day sends it.
    await harness.env.sleep(timedelta(days=1, hours=12))
    await eventually(lambda: "nudge_no_clicks" in templates(harness, pid))
    nudge = next(m for m in messages(harness.engine, partner_id=pid) if m.template == "nudge_no_clicks")
    assert "/unsubscribe/" in nudge.body_text

    # A click, then 14 quiet days again: the next nudge waits for the 7-day cap, never two in a week.
    now = await harness.env.get_current_time()
    add_events(harness, pid, now, ("click", None))
    await harness.env.sleep(timedelta(days=20))
    await eventually(lambda: templates(harness, pid).count("nudge_no_clicks") == 2)
    sent = sorted(
        m.created_at for m in messages(harness.engine, partner_id=pid) if m.template == "nudge_no_clicks"
    )
    assert len(set(m.idempotency_key for m in messages(harness.engine, partner_id=pid))) == len(
        messages(harness.engine, partner_id=pid)
    )
    assert sent[0] < sent[1]


async def test_unsubscribed_and_paused_partners_get_no_nudges(harness: Harness) -> None:
    unsubscribed, _ = await harness.active()
    paused, paused_handle = await harness.active()
    with session_scope(harness.engine) as session:
        row = session.get(Partner, unsubscribed)
        assert row is not None
        row.unsubscribed_at = await harness.env.get_current_time()
        session.add(row)
    await paused_handle.execute_update(
        PartnerLifecycleWorkflow.set_paused, PauseInput(paused=True, manager="alice")
    )

    await harness.env.sleep(timedelta(days=15))
    await harness.env.sleep(timedelta(hours=1))

    assert "nudge_no_clicks" not in templates(harness, paused)
    suppressed = [
        m for m in messages(harness.engine, partner_id=unsubscribed) if m.template == "nudge_no_clicks"
    ]
    assert suppressed == []
    assert any(h.event == "paused" for h in (await status(paused_handle)).history)


async def test_first_conversion_is_congratulated_once(harness: Harness) -> None:
    pid, _ = await harness.active()
    now = await harness.env.get_current_time()
    add_events(harness, pid, now, ("click", None), ("conversion", 120.0))

    await harness.env.sleep(timedelta(days=3))
    await eventually(lambda: "first_conversion" in templates(harness, pid))
    add_events(harness, pid, now + timedelta(days=3), ("conversion", 80.0))
    await harness.env.sleep(timedelta(days=3))

    mail = [m for m in messages(harness.engine, partner_id=pid) if m.template == "first_conversion"]
    assert len(mail) == 1 and "120.00 USD" in mail[0].body_text


async def test_review_without_an_answer_applies_the_proposed_tier_and_continues_as_new(
    harness: Harness,
) -> None:
    pid, handle = await harness.active()
    first_run = (await handle.describe()).run_id
    now = await harness.env.get_current_time()
    add_events(harness, pid, now + timedelta(days=1), *[("conversion", 100.0)] * 60)  # 6,000 USD: silver

    await harness.env.sleep(timedelta(days=91))  # a review runs within a day of its boundary
    await eventually(lambda: "tier_change_proposed" in templates(harness, pid))
    assert "tier_changed" not in templates(harness, pid)
    await harness.env.sleep(timedelta(days=7, hours=1))
    await eventually(lambda: "scorecard" in templates(harness, pid))

    assert {"tier_change_applied", "tier_changed"} <= set(templates(harness, pid))
    current = await status(handle)
    assert current.stage == Stage.ACTIVE and current.tier == "silver"
    assert all(current.checklist.values())  # carried across continue-as-new
    assert (await handle.describe()).run_id != first_run
    with session_scope(harness.engine) as session:
        review = session.exec(select(Review).where(Review.partner_id == pid)).one()
        partner = session.get(Partner, pid)
    assert (review.tier_proposed, review.tier_after, review.decided_by) == ("silver", "silver", "auto")
    assert (
        review.revenue == 6000
        and review.segment == "top"
        and partner is not None
        and partner.tier == "silver"
    )
    scorecard = next(m for m in messages(harness.engine, partner_id=pid) if m.template == "scorecard")
    assert "6,000.00 USD" in scorecard.body_text


async def test_a_manager_can_refuse_a_proposed_tier(harness: Harness) -> None:
    pid, handle = await harness.active()
    now = await harness.env.get_current_time()
    add_events(harness, pid, now + timedelta(days=1), *[("conversion", 100.0)] * 60)
    with pytest.raises(WorkflowUpdateFailedError):  # nothing to decide yet
        await handle.execute_update(
            PartnerLifecycleWorkflow.decide_tier, TierDecision(approve=True, manager="bob")
        )

    await harness.env.sleep(timedelta(days=91))  # a review runs within a day of its boundary
    await eventually(lambda: "tier_change_proposed" in templates(harness, pid))
    await handle.execute_update(
        PartnerLifecycleWorkflow.decide_tier, TierDecision(approve=False, manager="bob")
    )
    await eventually(lambda: "scorecard" in templates(harness, pid))

    assert "tier_changed" not in templates(harness, pid)
    assert (await status(handle)).tier is None


async def test_offboarding_says_farewell_deactivates_the_link_and_completes(harness: Harness) -> None:
    pid, handle = await harness.active()

    await handle.execute_update(
        PartnerLifecycleWorkflow.offboard, OffboardInput(reason="brand safety", manager="alice")
    )
    final = await handle.result()

    assert final.stage == Stage.OFFBOARDED
    assert "farewell" in templates(harness, pid) and "partner_offboarded" in templates(harness, pid)
    with session_scope(harness.engine) as session:
        link = session.exec(select(TrackingLink).where(TrackingLink.partner_id == pid)).one()
        partner = session.get(Partner, pid)
    assert link.active is False and partner is not None and partner.stage == "offboarded"


async def test_three_years_of_reviews_keep_each_run_small_and_send_nothing_twice(harness: Harness) -> None:
    pid, handle = await harness.active()
    first_run = (await handle.describe()).run_id
    for quarter in range(12):
        now = await harness.env.get_current_time()
        add_events(harness, pid, now + timedelta(days=1), ("click", None), ("conversion", 50.0))
        await harness.env.sleep(timedelta(days=91))
        await eventually(lambda q=quarter: templates(harness, pid).count("scorecard") == q + 1)

    # Follow the chain of runs from the first one: each ends by continuing-as-new into the next.
    sizes, sizes_bytes, run_id = [], [], first_run
    while run_id:
        history = [
            e
            async for e in harness.env.client.get_workflow_handle(
                handle.id, run_id=run_id
            ).fetch_history_events()
        ]
        sizes.append(len(history))
        sizes_bytes.append(sum(event.ByteSize() for event in history))  # serialized, as the server counts
        last = history[-1]
        continued = last.workflow_execution_continued_as_new_event_attributes
        run_id = (
            continued.new_execution_run_id
            if last.HasField("workflow_execution_continued_as_new_event_attributes")
            else ""
        )
    assert len(sizes) == 13  # onboarding + 12 quarters, then the open run of the 13th
    # History budget per run (Temporal warns at 10,240 events / 10 MB). Measured: 1,121 events and
    # 153,428 bytes for the first run (onboarding + a quarter), 1,022 events and 143-149 kB for each
    # later quarter (the carried timeline grows until HISTORY_KEPT). Bounds: ~1.5x the measured peak.
    assert max(sizes) <= MAX_EVENTS_PER_RUN, sizes
    assert max(sizes_bytes) <= MAX_HISTORY_BYTES_PER_RUN, sizes_bytes
    keys = [m.idempotency_key for m in messages(harness.engine, partner_id=pid)]
    assert len(keys) == len(set(keys))
    assert templates(harness, pid).count("scorecard") == 12
    assert (await status(handle)).stage == Stage.ACTIVE
