"""Approval rules applied by the partner's workflow, on the time-skipping server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from harness import Harness, running
from helpers import eventually, message_keys, messages
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from partnerflow.domain.approval_rules import ApprovalRules
from partnerflow.domain.stages import Decision, Stage
from partnerflow.store.approvals import store_approval_rules
from partnerflow.store.db import session_scope
from partnerflow.store.models import Application
from partnerflow.store.onboarding import ensure_program
from partnerflow.workflows.lifecycle import PartnerLifecycleWorkflow

RULES = [
    {"name": "throwaway", "if": {"disposable_email": True}, "then": "reject",
     "reason": "We cannot accept throwaway addresses", "share_reason": True},
    {"name": "customers", "if": {"email_domain_in": ["acme.com"], "country_in": ["US", "CA"]},
     "then": "approve", "delay": "PT2H"},
]  # fmt: skip


@pytest.fixture
async def harness(time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Harness]:
    async with running(time_skipping_env, tmp_path) as item:
        set_rules(item, RULES)
        yield item


def set_rules(harness: Harness, rules: list[dict[str, Any]], program: str = "default") -> None:
    with session_scope(harness.engine) as session:
        row = ensure_program(session, program, harness.settings.default_landing_url)
        store_approval_rules(row, ApprovalRules.model_validate({"rules": rules}))
        session.add(row)


def application(harness: Harness, pid: str) -> Application:
    with session_scope(harness.engine) as session:
        row = session.get(Application, pid)
        assert row is not None
        return row


async def test_a_matching_rule_approves_after_its_delay_as_the_rules_author(harness: Harness) -> None:
    pid, handle = await harness.start("ada@acme.com", country="US")
    submitted = next(m for m in messages(harness.engine, channel="slack") if m.partner_id == pid)
    assert "Approval rule *customers* will *approve* this application in 2 h" in submitted.body_text

    await harness.env.sleep(timedelta(hours=1, minutes=50))
    assert (await handle.query(PartnerLifecycleWorkflow.status)).stage == Stage.APPLIED
    await harness.env.sleep(timedelta(minutes=15))
    await harness.sent(pid, "welcome")

    status = await handle.query(PartnerLifecycleWorkflow.status)
    assert status.stage == Stage.ONBOARDING
    events = [(h.event, h.detail) for h in status.history]
    assert ("approval-rule", "rule:customers matched: approve after 2:00:00") in events
    assert ("approved", "by rule:customers") in events
    row = application(harness, pid)
    assert (row.status, row.decided_by) == ("approved", "rule:customers")
    with pytest.raises(WorkflowUpdateFailedError):  # decided: a manager's late decision is a 409
        await harness.decide(handle, Decision.REJECT)


async def test_a_reject_rule_without_delay_rejects_at_once_and_may_share_its_reason(harness: Harness) -> None:
    pid, handle = await harness.start("spam@mailinator.com", settled=False)

    final = await handle.result()

    assert final.stage == Stage.REJECTED  # type: ignore[attr-defined]
    assert ("rejected", "by rule:throwaway: We cannot accept throwaway addresses") in [
        (h.event, h.detail)
        for h in final.history  # type: ignore[attr-defined]
    ]
    row = application(harness, pid)
    assert (row.status, row.decided_by, row.reason) == (
        "rejected",
        "rule:throwaway",
        "We cannot accept throwaway addresses",
    )
    rejection = await eventually(
        lambda: [m for m in messages(harness.engine, partner_id=pid) if m.template == "rejection"]
    )
    assert "We cannot accept throwaway addresses" in rejection[0].body_text
    assert f"partner:{pid}:application-received" in message_keys(harness.engine, partner_id=pid)


async def test_a_manager_decision_within_the_delay_wins_and_the_rule_does_nothing(harness: Harness) -> None:
    pid, handle = await harness.start("bob@acme.com", country="CA")
    await harness.env.sleep(timedelta(hours=1))

    result = await harness.decide(handle, Decision.REJECT, reason="not a fit")
    await handle.result()
    await harness.env.sleep(timedelta(hours=2))

    assert result.stage == Stage.REJECTED  # type: ignore[attr-defined]
    row = application(harness, pid)
    assert (row.status, row.decided_by, row.reason) == ("rejected", "alice", "not a fit")
    history = [(h.event, h.detail) for h in (await handle.query(PartnerLifecycleWorkflow.status)).history]
    assert ("approval-rule-skipped", "rule:customers: a manager decided first") in history
    assert not any(event == "approved" for event, _ in history)
    assert "welcome" not in [m.template for m in messages(harness.engine, partner_id=pid)]


async def test_without_a_matching_rule_the_application_waits_for_a_manager(harness: Harness) -> None:
    pid, handle = await harness.start("eve@acme.com", country="DE")  # acme, but not US or CA

    await harness.env.sleep(timedelta(days=1))
    assert (await handle.query(PartnerLifecycleWorkflow.status)).stage == Stage.APPLIED
    await harness.env.sleep(timedelta(days=1, hours=1))
    await eventually(lambda: f"partner:{pid}:slack:approval-reminder" in message_keys(harness.engine))

    assert (await harness.decide(handle, Decision.APPROVE)).stage == Stage.ONBOARDING  # type: ignore[attr-defined]
    assert application(harness, pid).decided_by == "alice"
    history = [h.event for h in (await handle.query(PartnerLifecycleWorkflow.status)).history]
    assert "approval-rule" not in history
