"""Checks at each partner's own time of day, reviews still exact (patch spread-engagement-checks).

On the time-skipping server, with partners whose workflow starts in ``active`` at one instant, as a
bulk migration or a batch of approvals leaves them.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from harness import Harness, running
from helpers import eventually, eventually_async, messages
from run_history import events_of_all_runs, times_of
from sqlmodel import col, select
from temporalio.testing import WorkflowEnvironment

from partnerflow.domain.check_times import EPOCH, next_check, review_runs_at
from partnerflow.store.db import session_scope
from partnerflow.store.models import PerformanceEvent, Review
from partnerflow.workflows.lifecycle import PartnerLifecycleWorkflow

DAY = timedelta(days=1)
PERIOD = timedelta(days=90)  # the default rules: a check every 24 h, a review every 90 days
SLACK = timedelta(seconds=60)  # a wake-up is recorded when the worker gets to it, a moment after its timer


@pytest.fixture
async def harness(time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Harness]:
    async with running(time_skipping_env, tmp_path) as item:
        yield item


def near(a: datetime, b: datetime) -> bool:
    return abs(a - b) <= SLACK


def add_clicks(harness: Harness, pid: str, at: datetime, count: int) -> None:
    with session_scope(harness.engine) as session:
        for _ in range(count):
            event = PerformanceEvent(event_id=uuid.uuid4().hex, partner_id=pid, type="click", occurred_at=at)
            session.add(event)


async def snapshots(harness: Harness, handle) -> list[datetime]:  # type: ignore[no-untyped-def]
    """When each engagement snapshot ran: the first at the run's start, then one per check."""
    events = await events_of_all_runs(harness.env.client, handle.id, handle.first_execution_run_id)
    return times_of(events, "engagement_snapshot")


async def test_partners_activated_together_are_checked_at_their_own_time_of_day(harness: Harness) -> None:
    activated = await harness.env.get_current_time()
    partners = [await harness.already_active(activated) for _ in range(4)]
    await harness.env.sleep(3 * DAY + timedelta(hours=1))

    first_checks = []
    for pid, handle in partners:
        started, *checks = await eventually_async(lambda h=handle: _at_least(harness, h, 4))
        # The first check is at the partner's own slot, not a day after the run started...
        assert near(checks[0], next_check(pid, DAY, started)), (pid, started, checks)
        # ...and then exactly one per interval, at the same time of day.
        assert all(abs(b - a - DAY) <= SLACK for a, b in pairwise(checks)), checks
        first_checks.append(checks[0])
    # Activated at the same instant, they wake at different times of the day (phases from their ids).
    assert len({(check - EPOCH) % DAY // timedelta(minutes=1) for check in first_checks}) == 4


async def _at_least(harness: Harness, handle, count: int) -> list[datetime] | None:  # type: ignore[no-untyped-def]
    found = await snapshots(harness, handle)
    return found if len(found) >= count else None


def reviews(harness: Harness, pid: str) -> list[Review]:
    with session_scope(harness.engine) as session:
        statement = select(Review).where(Review.partner_id == pid).order_by(col(Review.period_start))
        return list(session.exec(statement))


async def test_reviews_run_at_the_partners_check_and_still_tile_exactly(harness: Harness) -> None:
    activated = await harness.env.get_current_time()
    pid, handle = await harness.already_active(activated)
    boundary = activated + PERIOD
    runs_at = review_runs_at(pid, DAY, PERIOD, boundary)
    # Recorded before the review runs: just before the boundary, at it, and while the review waits.
    add_clicks(harness, pid, boundary - timedelta(seconds=1), 2)
    add_clicks(harness, pid, boundary, 3)
    add_clicks(harness, pid, boundary + (runs_at - boundary) / 2, 1)

    await harness.env.sleep(PERIOD + DAY)
    await eventually(lambda: len(reviews(harness, pid)) == 1)
    status = await handle.query(PartnerLifecycleWorkflow.status)
    reviewed = datetime.fromisoformat(next(h.at for h in status.history if h.event == "review"))
    assert near(reviewed, runs_at) and boundary <= reviewed < boundary + DAY

    await harness.env.sleep(PERIOD + DAY)
    await eventually(lambda: len(reviews(harness, pid)) == 2)
    first, second = reviews(harness, pid)
    assert (first.period_start, first.period_end) == (activated, boundary)
    assert first.clicks == 2  # the boundary's clicks are not the first period's, though it ran later
    assert (second.period_start, second.period_end) == (boundary, boundary + PERIOD)  # no gap
    assert second.clicks == 4  # the boundary's 3 and the one while the review waited, counted once
    assert [m.template for m in messages(harness.engine, partner_id=pid)].count("scorecard") == 2

    # Across both reviews and the continue-as-new between them: one check a day, every day.
    started, *checks = await snapshots(harness, handle)
    assert near(checks[0], next_check(pid, DAY, started))
    gaps = [b - a for a, b in pairwise(checks)]
    assert all(abs(gap - DAY) <= SLACK for gap in gaps), sorted(gaps)[:3] + sorted(gaps)[-3:]
    assert len(checks) >= 181
