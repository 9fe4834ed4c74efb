"""Review periods start at activation and tile time, across continue-as-new (time-skipping server)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from harness import Harness, running
from helpers import eventually, messages
from sqlmodel import col, select
from temporalio.testing import WorkflowEnvironment

from partnerflow.store.db import session_scope
from partnerflow.store.models import PerformanceEvent, Review
from partnerflow.workflows.lifecycle import PartnerLifecycleWorkflow


@pytest.fixture
async def harness(time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Harness]:
    async with running(time_skipping_env, tmp_path) as item:
        yield item


def add_events(harness: Harness, pid: str, at: datetime, clicks: int, conversions: int) -> None:
    kinds = ["click"] * clicks + ["conversion"] * conversions
    with session_scope(harness.engine) as session:
        for kind in kinds:
            amount = 10.0 if kind == "conversion" else None
            session.add(
                PerformanceEvent(
                    event_id=uuid.uuid4().hex, partner_id=pid, type=kind, amount=amount,
                    currency="USD" if amount else None, occurred_at=at,
                )
            )  # fmt: skip


def reviews(harness: Harness, pid: str) -> list[Review]:
    with session_scope(harness.engine) as session:
        statement = select(Review).where(Review.partner_id == pid).order_by(col(Review.period_start))
        return list(session.exec(statement))


def scorecards(harness: Harness, pid: str) -> int:
    return [m.template for m in messages(harness.engine, partner_id=pid)].count("scorecard")


async def test_events_at_activation_count_in_the_first_review_and_reviews_tile(harness: Harness) -> None:
    pid, handle = await harness.active()
    history = (await handle.query(PartnerLifecycleWorkflow.status)).history
    activated = datetime.fromisoformat(
        next(h.at for h in history if (h.event, h.detail) == ("stage", "active"))
    )
    # Posted the instant the partner became active (the API answers "active" from then on), while the
    # workflow is still sending the activation messages.
    add_events(harness, pid, activated, clicks=100, conversions=10)
    first_run = (await handle.describe()).run_id

    await harness.env.sleep(timedelta(days=91))  # a review runs within a day of its boundary
    await eventually(lambda: scorecards(harness, pid) == 1)
    add_events(harness, pid, reviews(harness, pid)[0].period_end, clicks=7, conversions=0)  # the boundary
    await harness.env.sleep(timedelta(days=91))
    await eventually(lambda: scorecards(harness, pid) == 2)

    first, second = reviews(harness, pid)
    assert first.period_start == activated
    assert (first.clicks, first.conversions) == (100, 10)  # not 0 of 110
    assert first.period_end == second.period_start  # no gap, no overlap
    assert second.period_end - second.period_start == timedelta(days=90)
    assert (second.clicks, second.conversions) == (7, 0)  # counted once, in the period it starts
    assert (await handle.describe()).run_id != first_run  # the second review ran after continue-as-new
