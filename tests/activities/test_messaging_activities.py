"""Messaging activities through the real provider clients against local fakes."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_settings
from fakes.providers import FakeSendGrid, FakeSlack
from helpers import add_partner, messages
from pydantic import SecretStr
from sqlalchemy import Engine
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from partnerflow.activities.messaging import MessagingActivities
from partnerflow.domain.messages import EmailRequest, SlackRequest
from partnerflow.providers import email_backend, slack_backend
from partnerflow.store.db import make_engine, session_scope, upgrade
from partnerflow.store.models import Partner


@pytest.fixture
def providers() -> tuple[FakeSendGrid, FakeSlack]:
    with FakeSendGrid(api_key="SG.key") as sendgrid, FakeSlack(token="xoxb-key") as slack:
        yield sendgrid, slack  # type: ignore[misc]


@pytest.fixture
def activities(
    tmp_path: Path, providers: tuple[FakeSendGrid, FakeSlack]
) -> tuple[MessagingActivities, Engine]:
    sendgrid, slack = providers
    settings = make_settings(
        tmp_path,
        sendgrid_api_key=SecretStr("SG.key"),
        sendgrid_host=sendgrid.url,
        slack_bot_token=SecretStr("xoxb-key"),
        slack_base_url=slack.url,
        slack_channel="#partners",
    )
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    return MessagingActivities(settings, engine, email_backend(settings), slack_backend(settings)), engine


def test_replayed_email_activity_sends_once(
    activities: tuple[MessagingActivities, Engine], providers: tuple[FakeSendGrid, FakeSlack]
) -> None:
    messaging, engine = activities
    sendgrid, _ = providers
    partner = add_partner(engine, "zofia@example.com", name="Zofia", locale="pl")
    request = EmailRequest(f"partner:{partner.id}:welcome", partner.id, "welcome")

    first = ActivityEnvironment().run(messaging.send_email, request)
    replay = ActivityEnvironment().run(messaging.send_email, request)

    assert (first.status, replay.status) == ("sent", "duplicate")
    assert replay.provider_message_id == first.provider_message_id
    assert len(sendgrid.messages) == 1
    sent = sendgrid.messages[0].json
    assert sent["personalizations"][0]["to"][0]["email"] == "zofia@example.com"
    assert "/portal/" in next(c["value"] for c in sent["content"] if c["type"] == "text/plain")
    assert sendgrid.messages[0].header("Authorization") == "Bearer SG.key"
    assert [m.status for m in messages(engine)] == ["sent"]


def test_slack_goes_to_the_configured_channel_once(
    activities: tuple[MessagingActivities, Engine], providers: tuple[FakeSendGrid, FakeSlack]
) -> None:
    messaging, engine = activities
    _, slack = providers
    partner = add_partner(engine, "zofia@example.com", name="Zofia Nowak", company="Nowak Media")
    request = SlackRequest(
        f"partner:{partner.id}:application-submitted", "application_submitted", {}, partner.id
    )

    ActivityEnvironment().run(messaging.notify_managers, request)
    ActivityEnvironment().run(messaging.notify_managers, request)

    assert len(slack.messages) == 1
    posted = slack.messages[0].params
    assert (
        posted["channel"] == "#partners"
        and "Zofia Nowak" in posted["text"]
        and "Nowak Media" in posted["text"]
    )
    assert slack.messages[0].header("Authorization") == "Bearer xoxb-key"


def test_invalid_stored_address_is_a_recorded_non_retryable_failure(
    activities: tuple[MessagingActivities, Engine], providers: tuple[FakeSendGrid, FakeSlack]
) -> None:
    messaging, engine = activities
    sendgrid, _ = providers
    partner = add_partner(engine, "ok@example.com")
    with session_scope(engine) as session:  # e.g. an imported partner base with a typo
        row = session.get(Partner, partner.id)
        assert row is not None
        row.email = "broken@@example"
        session.add(row)

    with pytest.raises(ApplicationError) as failure:
        ActivityEnvironment().run(
            messaging.send_email, EmailRequest(f"partner:{partner.id}:welcome", partner.id, "welcome")
        )

    assert failure.value.type == "InvalidRecipient" and failure.value.non_retryable
    assert sendgrid.requests == []
    [record] = messages(engine)
    assert record.status == "failed" and "invalid address" in (record.error or "")


def test_provider_auth_failure_is_non_retryable(
    activities: tuple[MessagingActivities, Engine], providers: tuple[FakeSendGrid, FakeSlack]
) -> None:
    messaging, engine = activities
    _, slack = providers
    slack.fail_next(200, error="invalid_auth")
    partner = add_partner(engine)

    with pytest.raises(ApplicationError) as failure:
        ActivityEnvironment().run(
            messaging.notify_managers, SlackRequest("k", "application_submitted", {}, partner.id)
        )

    assert failure.value.type == "ProviderRejected" and "invalid_auth" in failure.value.message
    assert messages(engine)[0].status == "failed"


def test_rate_limit_is_retryable_and_recorded(
    activities: tuple[MessagingActivities, Engine], providers: tuple[FakeSendGrid, FakeSlack]
) -> None:
    messaging, engine = activities
    sendgrid, _ = providers
    sendgrid.fail_next(429)
    partner = add_partner(engine)
    request = EmailRequest(f"partner:{partner.id}:welcome", partner.id, "welcome")

    with pytest.raises(Exception) as failure:
        ActivityEnvironment().run(messaging.send_email, request)
    assert not isinstance(failure.value, ApplicationError) or not failure.value.non_retryable
    [record] = messages(engine)
    assert (record.status, record.attempts) == ("pending", 1) and "429" in (record.error or "")

    assert ActivityEnvironment().run(messaging.send_email, request).status == "sent"
    assert messages(engine)[0].attempts == 2 and len(sendgrid.messages) == 1


def test_nudges_carry_one_click_unsubscribe_headers_and_essential_mail_does_not(
    activities: tuple[MessagingActivities, Engine], providers: tuple[FakeSendGrid, FakeSlack]
) -> None:
    messaging, engine = activities
    sendgrid, _ = providers
    partner = add_partner(engine, "zofia@example.com", name="Zofia")
    context = {"days_without_clicks": 14, "tracking_url": "http://partnerflow.test/r/abc", "resources": []}

    ActivityEnvironment().run(
        messaging.send_email,
        EmailRequest(f"partner:{partner.id}:nudge", partner.id, "nudge_no_clicks", context, essential=False),
    )
    ActivityEnvironment().run(
        messaging.send_email, EmailRequest(f"partner:{partner.id}:welcome", partner.id, "welcome")
    )

    nudge, welcome = (m.json for m in sendgrid.messages)
    assert nudge["headers"]["List-Unsubscribe"].startswith("<http://partnerflow.test/unsubscribe/")
    assert nudge["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "headers" not in welcome
