"""PartnerLifecycleWorkflow on the time-skipping server, with the real activities."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from fakes.providers import FakeSendGrid
from harness import Harness, running
from helpers import eventually, message_keys, messages
from pydantic import SecretStr
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from partnerflow.domain.stages import Decision, Stage
from partnerflow.workflows.lifecycle import PartnerLifecycleWorkflow


@pytest.fixture
async def harness(time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Harness]:
    async with running(time_skipping_env, tmp_path) as item:
        yield item


async def test_application_notifies_managers_and_thanks_the_partner(harness: Harness) -> None:
    pid, handle = await harness.start(locale="de")

    keys = message_keys(harness.engine, partner_id=pid)
    assert keys == [f"partner:{pid}:application-received", f"partner:{pid}:slack:application-submitted"]
    slack = messages(harness.engine, channel="slack")[0]
    assert slack.recipient == harness.settings.slack_channel and "Ada Lovelace" in slack.body_text
    status = await handle.query(PartnerLifecycleWorkflow.status)
    assert status.stage == Stage.APPLIED and [h.event for h in status.history] == ["applied"]


async def test_approval_moves_to_onboarding_and_sends_welcome_with_portal_link(harness: Harness) -> None:
    pid, handle = await harness.start()

    result = await harness.decide(handle, Decision.APPROVE)

    assert result.stage == Stage.ONBOARDING  # type: ignore[attr-defined]
    sent = await eventually(
        lambda: [
            m for m in messages(harness.engine, partner_id=pid, status="sent") if m.template == "welcome"
        ]
    )
    welcome_mail = sent[0]
    assert f"{harness.settings.public_url}/portal/" in welcome_mail.body_text
    status = await handle.query(PartnerLifecycleWorkflow.status)
    assert status.stage == Stage.ONBOARDING
    assert [h.event for h in status.history] == ["applied", "approved", "stage"]
    assert status.checklist == dict.fromkeys(status.checklist, False) and "terms_accepted" in status.checklist


async def test_rejection_shares_the_reason_only_when_allowed(harness: Harness) -> None:
    shared_pid, shared = await harness.start()
    private_pid, private = await harness.start()

    await harness.decide(shared, Decision.REJECT, reason="Your site has no audience yet", share_reason=True)
    await harness.decide(private, Decision.REJECT, reason="Looks like a coupon site", share_reason=False)

    assert (await shared.result()).stage == Stage.REJECTED  # type: ignore[attr-defined]
    assert (await private.result()).stage == Stage.REJECTED  # type: ignore[attr-defined]
    shared_mail = next(
        m for m in messages(harness.engine, partner_id=shared_pid) if m.template == "rejection"
    )
    private_mail = next(
        m for m in messages(harness.engine, partner_id=private_pid) if m.template == "rejection"
    )
    assert "Your site has no audience yet" in shared_mail.body_text
    assert "coupon" not in private_mail.body_text and "coupon" not in (private_mail.body_html or "")


async def test_second_decision_is_refused(harness: Harness) -> None:
    _, handle = await harness.start()
    await harness.decide(handle, Decision.APPROVE)

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await harness.decide(handle, Decision.REJECT)

    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == "AlreadyDecided"
    assert (await handle.query(PartnerLifecycleWorkflow.status)).stage == Stage.ONBOARDING


async def test_undecided_application_reminds_after_2_days_and_escalates_after_5(harness: Harness) -> None:
    older_pid, _ = await harness.start("older@example.com", name="Older Applicant")
    pid, handle = await harness.start("late@example.com", name="Late Applicant")
    reminder, escalation = (
        f"partner:{pid}:slack:approval-reminder",
        f"partner:{pid}:slack:approval-escalation",
    )

    await harness.env.sleep(timedelta(days=1, hours=23))
    assert reminder not in message_keys(harness.engine)

    await harness.env.sleep(timedelta(hours=2))
    await eventually(lambda: reminder in message_keys(harness.engine))
    assert escalation not in message_keys(harness.engine)

    await harness.env.sleep(timedelta(days=3))
    await eventually(lambda: escalation in message_keys(harness.engine))
    text = next(m for m in messages(harness.engine) if m.idempotency_key == escalation).body_text
    listing = text[text.index("Older Applicant") :]
    assert "Late Applicant" in listing  # the list of pending applications starts with the oldest

    # A decision after the escalation still works, and nothing is sent twice.
    await harness.decide(handle, Decision.APPROVE)
    await eventually(lambda: f"partner:{pid}:welcome" in message_keys(harness.engine))
    keys = message_keys(harness.engine, partner_id=pid)
    assert len(keys) == len(set(keys))
    assert older_pid != pid


async def test_transient_provider_errors_are_retried_without_sending_twice(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    with FakeSendGrid(api_key="SG.key") as sendgrid:
        sendgrid.fail_next(500, count=1)
        sendgrid.fail_next(429, count=1)
        async with running(
            time_skipping_env, tmp_path, sendgrid_api_key=SecretStr("SG.key"), sendgrid_host=sendgrid.url
        ) as harness:
            pid, handle = await harness.start(settled=False)
            await harness.decide(handle, Decision.REJECT)
            await handle.result()  # the clock skips through the retry backoff to the end

            record = next(
                m for m in messages(harness.engine, partner_id=pid) if m.template == "application_received"
            )
            assert record.status == "sent" and record.attempts == 3
            assert record.provider_message_id == sendgrid.messages[0].message_id
            rejection = next(m for m in messages(harness.engine, partner_id=pid) if m.template == "rejection")
            assert [m.json["subject"] for m in sendgrid.messages] == [record.subject, rejection.subject]
            assert len(sendgrid.requests) == 4  # two refused attempts, then each email once


async def test_a_rejected_address_alerts_managers_and_the_workflow_goes_on(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    with FakeSendGrid(api_key="SG.key") as sendgrid:
        sendgrid.fail_next(400, count=1)
        async with running(
            time_skipping_env, tmp_path, sendgrid_api_key=SecretStr("SG.key"), sendgrid_host=sendgrid.url
        ) as harness:
            pid, handle = await harness.start(settled=False)
            alert_key = f"partner:{pid}:slack:delivery-failed:application-received"
            await eventually(lambda: alert_key in message_keys(harness.engine))

            failed = messages(harness.engine, partner_id=pid, status="failed")
            assert [m.template for m in failed] == ["application_received"]
            assert "400" in (failed[0].error or "") and len(sendgrid.requests) == 1
            alert = next(m for m in messages(harness.engine) if m.idempotency_key == alert_key)
            assert "ada" not in alert.body_text or pid  # alert names the partner
            assert (await harness.decide(handle, Decision.APPROVE)).stage == Stage.ONBOARDING  # type: ignore[attr-defined]
