"""Every email template, in every locale, is accepted by (fake) SendGrid through the real client.

The fake checks each body against SendGrid's published Mail Send schema and documented rules
(``fakes.sendgrid_rules``), so a template or backend change that real SendGrid would refuse
fails here instead of in production. Contexts are the ones the template tests use.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import make_settings
from engagement_contexts import EMAIL_EXTRA as ENGAGEMENT_EXTRA
from fakes.providers import FakeSendGrid
from helpers import add_partner
from onboarding_contexts import EMAIL_EXTRA as ONBOARDING_EXTRA
from pydantic import SecretStr
from template_contexts import REASON, email_context, partner_dict
from temporalio.testing import ActivityEnvironment

from partnerflow.activities.messaging import MessagingActivities
from partnerflow.config import Settings
from partnerflow.domain.messages import EmailRequest
from partnerflow.domain.stages import LOCALES
from partnerflow.providers import email_backend, slack_backend
from partnerflow.providers.email import (
    EmailAttachment,
    OutboundEmail,
    SendGridBackend,
    message_tags,
    unsubscribe_headers,
)
from partnerflow.rendering.calendar import webinar_ics
from partnerflow.rendering.templates import TEMPLATES_DIR, Renderer
from partnerflow.store.db import make_engine, session_scope, upgrade
from partnerflow.store.models import Webinar

KEY = "SG.templates-test"
SETTINGS = Settings(_env_file=None, public_url="https://partners.example.com")  # type: ignore[call-arg]
UNSUBSCRIBE_URL = "https://partners.example.com/unsubscribe/eyJwIjoiN2YzYyJ9.Qa9z.sig"
MIGRATION = {"portal_url": "https://partners.example.com/portal/tok", "run_id": 1, "segment": "top",
             "lifetime_revenue": 1234.5, "phase": 2, "source": "rewardful", "source_name": "Rewardful",
             "legacy_code": "ada-7", "tracking_url": "https://partners.example.com/r/ada-7",
             "legacy_tier": "Gold"}  # fmt: skip
OUTREACH = {"prospect": {"name": "Łucja Wiśniewska", "company": "Rowerowo", "email": "lucja@example.pl"},
            "program": "Velocity Affiliates", "signup_url": "https://example.com/apply?program=velocity",
            "unsubscribe_url": "https://partners.example.com/outreach/unsubscribe/tok", "step": 1}  # fmt: skip

# Template name → the extra context its sender gives it (beyond partner and links).
EXTRAS: dict[str, dict[str, Any]] = {
    "application_received": {},
    "welcome": {},
    "rejection": {"reason": REASON},
    **ONBOARDING_EXTRA,
    **ENGAGEMENT_EXTRA,
    "migration_moving": MIGRATION,
    "migration_reminder": MIGRATION,
    "outreach_intro": OUTREACH,
    "outreach_follow_up": OUTREACH | {"step": 2},
    "outreach_last_note": OUTREACH | {"step": 3},
}
WEBINAR = Webinar(
    id=12,
    title="Velocity partner onboarding",
    starts_at=datetime(2026, 12, 1, 15, 0, tzinfo=UTC),
    timezone="Europe/Warsaw",
    duration_minutes=45,
    join_url="https://meet.example.com/j/velocity-onboarding-8841",
    capacity=50,
)


@pytest.fixture(scope="module")
def sendgrid() -> Iterator[FakeSendGrid]:
    with FakeSendGrid(api_key=KEY) as fake:
        yield fake


def test_every_template_has_a_context_here() -> None:
    names = {path.stem for path in (TEMPLATES_DIR / "emails" / "en").glob("*.txt")}
    assert names == set(EXTRAS), "add the new template's context to EXTRAS"


def outbound(renderer: Renderer, name: str, locale: str) -> OutboundEmail:
    """The email as the activities assemble it, for the template's sample context."""
    extra = EXTRAS[name]
    rendered = renderer.email(name, locale, email_context(partner_dict(locale), locale, **extra))
    attachments = []
    if name in ("webinar_invite", "webinar_updated", "webinar_cancelled"):
        method = "CANCEL" if name == "webinar_cancelled" else "REQUEST"
        sequence = 0 if name == "webinar_invite" else 1
        ics = webinar_ics(
            WEBINAR, "marta.nowak@example.org", "Marta Nowak", SETTINGS, method=method, sequence=sequence
        )
        filename = "cancel.ics" if method == "CANCEL" else "invite.ics"
        attachments.append(EmailAttachment(filename, "text/calendar", ics))
    return OutboundEmail(
        idempotency_key=f"partner:7f3c1a2b4d5e6f78:{name}:{locale}",
        to="marta.nowak@example.org",
        to_name="Marta Nowak",
        from_email="partners@example.com",
        from_name="Velocity Partner Team",
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        attachments=attachments,
        headers=unsubscribe_headers(extra["unsubscribe_url"]) if "unsubscribe_url" in extra else {},
        categories=message_tags(name),
        metadata={"partner_id": "7f3c1a2b4d5e6f78"},
    )


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", sorted(EXTRAS))
def test_sendgrid_accepts_every_template(
    renderer: Renderer, sendgrid: FakeSendGrid, name: str, locale: str
) -> None:
    email = outbound(renderer, name, locale)
    before = len(sendgrid.requests)

    message_id = SendGridBackend(KEY, host=sendgrid.url).send(email)

    [request] = sendgrid.requests[before:]
    assert request.status == 202, request.body
    assert message_id == request.message_id
    body = request.json
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    assert body["subject"] == email.subject
    assert body["categories"] == ["partnerflow", name]
    assert body["personalizations"][0]["custom_args"] == {
        "idempotency_key": email.idempotency_key,
        "partner_id": "7f3c1a2b4d5e6f78",
    }
    assert body.get("headers", {}) == email.headers


def test_webinar_invitation_from_the_activity_is_accepted(tmp_path: Path, sendgrid: FakeSendGrid) -> None:
    settings = make_settings(tmp_path, sendgrid_api_key=SecretStr(KEY), sendgrid_host=sendgrid.url)
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    partner = add_partner(engine, "zofia@example.com", name="Zofia", locale="pl")
    with session_scope(engine) as session:
        webinar = Webinar(title="Szkolenie partnerów: żółta ścieżka", starts_at=datetime.now(UTC) + timedelta(days=3),
                          timezone="Europe/Warsaw", join_url="https://meet.example.com/j/1", capacity=10)  # fmt: skip
        session.add(webinar)
        session.flush()
        webinar_id = webinar.id
    messaging = MessagingActivities(settings, engine, email_backend(settings), slack_backend(settings))
    request = EmailRequest(f"partner:{partner.id}:webinar-invite", partner.id, "webinar_invite",
                           {"attempt": 1}, webinar_id=webinar_id, attach_calendar=True)  # fmt: skip
    before = len(sendgrid.requests)

    result = ActivityEnvironment().run(messaging.send_email, request)

    [sent] = sendgrid.requests[before:]
    assert (result.status, sent.status) == ("sent", 202)
    [attachment] = sent.json["attachments"]
    assert {k: v for k, v in attachment.items() if k != "content"} == {
        "type": "text/calendar",
        "filename": "invite.ics",
        "disposition": "attachment",
    }
    assert b"METHOD:REQUEST\r\n" in base64.b64decode(attachment["content"])
    assert sent.json["categories"] == ["partnerflow", "webinar_invite"]
    assert sent.json["personalizations"][0]["custom_args"]["partner_id"] == partner.id
    engine.dispose()


@pytest.mark.parametrize(
    ("template", "method", "filename"),
    [("webinar_updated", "REQUEST", "invite.ics"), ("webinar_cancelled", "CANCEL", "cancel.ics")],
)
def test_webinar_change_from_the_activity_is_accepted(
    tmp_path: Path, sendgrid: FakeSendGrid, template: str, method: str, filename: str
) -> None:
    settings = make_settings(tmp_path, sendgrid_api_key=SecretStr(KEY), sendgrid_host=sendgrid.url)
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    partner = add_partner(engine, "zofia@example.com", name="Zofia", locale="pl")
    with session_scope(engine) as session:
        webinar = Webinar(title="Szkolenie partnerów", starts_at=datetime.now(UTC) + timedelta(days=3),
                          timezone="Europe/Warsaw", join_url="https://meet.example.com/j/1", capacity=10,
                          sequence=2)  # fmt: skip
        session.add(webinar)
        session.flush()
        webinar_id = webinar.id
    messaging = MessagingActivities(settings, engine, email_backend(settings), slack_backend(settings))
    request = EmailRequest(f"partner:{partner.id}:webinar-changed:{webinar_id}:2", partner.id, template,
                           {"moved": True, "reinvite": True}, webinar_id=webinar_id, attach_calendar=True,
                           calendar_method=method)  # fmt: skip
    before = len(sendgrid.requests)

    result = ActivityEnvironment().run(messaging.send_email, request)

    [sent] = sendgrid.requests[before:]
    assert (result.status, sent.status) == ("sent", 202)
    [attachment] = sent.json["attachments"]
    assert (attachment["type"], attachment["filename"]) == ("text/calendar", filename)
    ics = base64.b64decode(attachment["content"])
    assert f"METHOD:{method}\r\n".encode() in ics
    assert b"SEQUENCE:2\r\n" in ics  # the session's current sequence, as none was given
    engine.dispose()
