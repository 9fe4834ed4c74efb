"""Providers' own back-off (SendGrid's X-RateLimit-Reset, Slack's Retry-After) sets the next retry."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from email.utils import formatdate
from pathlib import Path

import pytest
from conftest import make_settings, partnerflow_worker
from fakes.providers import FakeSendGrid, FakeSlack
from helpers import add_partner, messages
from pydantic import SecretStr
from sqlalchemy import Engine
from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from partnerflow.activities.messaging import MessagingActivities
from partnerflow.config import Settings
from partnerflow.domain.delivery import PROVIDER_THROTTLED, TransientDeliveryError, retry_after_seconds
from partnerflow.domain.messages import EmailRequest, SlackRequest
from partnerflow.providers import email_backend, slack_backend
from partnerflow.providers.email import OutboundEmail, SendGridBackend
from partnerflow.providers.slack import OutboundSlack, SlackWebBackend
from partnerflow.store.db import make_engine, upgrade
from partnerflow.workflows.policies import MESSAGE_ATTEMPT_TIMEOUT, MESSAGE_RETRY

KEY, TOKEN = "SG.key", "xoxb-key"


@pytest.fixture
def providers() -> tuple[FakeSendGrid, FakeSlack]:
    with FakeSendGrid(api_key=KEY) as sendgrid, FakeSlack(token=TOKEN) as slack:
        yield sendgrid, slack  # type: ignore[misc]


def _settings(tmp_path: Path, sendgrid: FakeSendGrid, slack: FakeSlack) -> Settings:
    return make_settings(
        tmp_path,
        sendgrid_api_key=SecretStr(KEY),
        sendgrid_host=sendgrid.url,
        slack_bot_token=SecretStr(TOKEN),
        slack_base_url=slack.url,
        slack_channel="#partners",
    )


@pytest.fixture
def activities(
    tmp_path: Path, providers: tuple[FakeSendGrid, FakeSlack]
) -> tuple[MessagingActivities, Engine]:
    settings = _settings(tmp_path, *providers)
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    return MessagingActivities(settings, engine, email_backend(settings), slack_backend(settings)), engine


def test_retry_after_reads_seconds_http_dates_and_reset_times() -> None:
    now = 1_800_000_000.0
    assert retry_after_seconds({"Retry-After": "7"}, now) == 7
    assert retry_after_seconds({"retry-after": formatdate(now + 30, usegmt=True)}, now) == pytest.approx(30)
    assert retry_after_seconds({"X-RateLimit-Reset": str(int(now) + 42)}, now, "X-RateLimit-Reset") == 42
    assert retry_after_seconds({"X-RateLimit-Reset": str(int(now) - 5)}, now, "X-RateLimit-Reset") == 0
    assert retry_after_seconds({"X-RateLimit-Reset": "soon"}, now, "X-RateLimit-Reset") is None
    assert retry_after_seconds({"Retry-After": "whenever"}, now) is None
    assert retry_after_seconds({}, now) is None and retry_after_seconds(None, now) is None


def test_sendgrid_429_reports_the_rate_limit_reset(providers: tuple[FakeSendGrid, FakeSlack]) -> None:
    sendgrid, _ = providers
    sendgrid.fail_next(429, retry_after=30)
    email = OutboundEmail("k", "ada@example.com", "Ada", "p@example.com", "P", "Hi", "hi", "<p>hi</p>")

    with pytest.raises(TransientDeliveryError) as caught:
        SendGridBackend(KEY, host=sendgrid.url).send(email)
    assert caught.value.retry_after == pytest.approx(30, abs=1.5)


def test_slack_429_reports_retry_after(providers: tuple[FakeSendGrid, FakeSlack]) -> None:
    _, slack = providers
    slack.fail_next(429, retry_after=7)

    with pytest.raises(TransientDeliveryError) as caught:
        SlackWebBackend(TOKEN, base_url=slack.url).post(OutboundSlack("k", "#partners", "hi"))
    assert caught.value.retry_after == 7


def test_server_errors_without_a_wait_keep_the_policy_backoff(
    providers: tuple[FakeSendGrid, FakeSlack],
) -> None:
    _, slack = providers
    slack.fail_next(503)
    with pytest.raises(TransientDeliveryError) as caught:
        SlackWebBackend(TOKEN, base_url=slack.url).post(OutboundSlack("k", "#partners", "hi"))
    assert caught.value.retry_after is None


@pytest.mark.parametrize(("asked", "expected"), [(45, 45), (3600, 300), (0, 1)])
def test_throttled_email_activity_carries_the_providers_delay_capped(
    activities: tuple[MessagingActivities, Engine],
    providers: tuple[FakeSendGrid, FakeSlack],
    asked: float,
    expected: float,
) -> None:
    messaging, engine = activities
    sendgrid, _ = providers
    sendgrid.fail_next(429, retry_after=asked)
    partner = add_partner(engine)

    with pytest.raises(ApplicationError) as failure:
        ActivityEnvironment().run(
            messaging.send_email, EmailRequest(f"partner:{partner.id}:welcome", partner.id, "welcome")
        )

    error = failure.value
    assert error.type == PROVIDER_THROTTLED and not error.non_retryable
    assert error.next_retry_delay is not None
    assert error.next_retry_delay.total_seconds() == pytest.approx(expected, abs=1.5)
    [record] = messages(engine)
    assert record.status == "pending" and "429" in (record.error or "")


def test_throttled_slack_activity_carries_retry_after(
    activities: tuple[MessagingActivities, Engine], providers: tuple[FakeSendGrid, FakeSlack]
) -> None:
    messaging, engine = activities
    _, slack = providers
    slack.fail_next(429, retry_after=12)
    partner = add_partner(engine)

    with pytest.raises(ApplicationError) as failure:
        ActivityEnvironment().run(
            messaging.notify_managers, SlackRequest("k", "application_submitted", {}, partner.id)
        )
    assert failure.value.next_retry_delay == timedelta(seconds=12)


@workflow.defn(sandboxed=False)
class SendOneEmail:
    """The production retry policy around one email, as the lifecycle's messages use it."""

    @workflow.run
    async def run(self, request: EmailRequest) -> str:
        result = await workflow.execute_activity_method(
            MessagingActivities.send_email,
            request,
            retry_policy=MESSAGE_RETRY,
            start_to_close_timeout=MESSAGE_ATTEMPT_TIMEOUT,
        )
        return result.status


async def test_temporal_retries_after_the_providers_wait_not_the_policy_backoff(
    dev_env: WorkflowEnvironment, tmp_path: Path, providers: tuple[FakeSendGrid, FakeSlack]
) -> None:
    """The policy would wait 5 s; SendGrid's reset is 1-2 s away, so the retry comes then."""
    sendgrid, slack = providers
    settings = _settings(tmp_path, sendgrid, slack)
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    partner = add_partner(engine)
    sendgrid.fail_next(429, retry_after=1)
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with partnerflow_worker(dev_env, settings, engine, executor, extra_workflows=[SendOneEmail]):
            started = time.monotonic()
            status = await dev_env.client.execute_workflow(
                SendOneEmail.run,
                EmailRequest(f"partner:{partner.id}:welcome", partner.id, "welcome"),
                id=f"backoff-{uuid.uuid4().hex[:8]}",
                task_queue=settings.task_queue,
            )
    first, second = sendgrid.requests
    assert status == "sent" and (first.status, second.status) == (429, 202)
    assert 0.9 <= second.at - first.at < 4.5, second.at - first.at
    assert time.monotonic() - started < 5
    engine.dispose()
