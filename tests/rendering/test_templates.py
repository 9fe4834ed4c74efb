"""The email and Slack templates render with the context the activities give them.

Contexts mirror ``MessagingActivities._partner_context``: the partner as JSON-ready dict plus
the portal, dashboard and workflow links.
"""

from __future__ import annotations

from typing import Any

import pytest
from template_contexts import (
    ABSENT_FIELDS,
    DASHBOARD_URL,
    HTML_HOSTILE_FIELDS,
    PORTAL_URL,
    REASON,
    WORKFLOW_URL,
    assert_english_fallback,
    assert_html_escaped,
    assert_no_missing_values,
    partner_dict,
)
from template_contexts import email_context as shared_email_context
from template_contexts import slack_context as shared_slack_context

from partnerflow.domain.stages import LOCALES
from partnerflow.rendering.templates import TEMPLATES_DIR, Renderer

EMAILS = ("application_received", "welcome", "rejection")
SLACK = ("application_submitted", "approval_reminder", "approval_escalation", "delivery_failed")


def make_partner(locale: str = "en", **overrides: Any) -> dict[str, Any]:
    return partner_dict(locale, **overrides)


def email_context(locale: str = "en", **extra: Any) -> dict[str, Any]:
    partner = extra.pop("partner", None) or make_partner(locale)
    return shared_email_context(partner, locale, **extra)


def email_extra(name: str) -> dict[str, Any]:
    return {"reason": REASON} if name == "rejection" else {}


def slack_context(**extra: Any) -> dict[str, Any]:
    partner = extra.pop("partner", None) or make_partner()
    return shared_slack_context(partner, "https://partners.example.com", **extra)


PENDING = [
    {
        "partner_id": "7f3c1a2b4d5e6f78",
        "name": "Marta Nowak",
        "email": "marta.nowak@example.org",
        "company": "Nowak Cycling Blog",
        "program": "Velocity Affiliates",
        "submitted_at": "2025-03-03 09:15:42.123456+00:00",
    },
    {
        "partner_id": "0a1b2c3d4e5f6a7b",
        "name": "Lucas Girard",
        "email": "lucas@example.fr",
        "company": "",
        "program": "Velocity Affiliates",
        "submitted_at": "2025-03-04 17:02:10+00:00",
    },
]

SLACK_EXTRA: dict[str, dict[str, Any]] = {
    "application_submitted": {},
    "approval_reminder": {},
    "approval_escalation": {"waiting_days": 5, "pending": PENDING},
    "delivery_failed": {
        "purpose": "welcome",
        "template": "welcome",
        "error": "InvalidRecipient: invalid address 'marta.nowak@example'",
    },
}


# --- email ---------------------------------------------------------------------------------


def test_every_email_template_exists_in_every_locale() -> None:
    for locale in LOCALES:
        for name in EMAILS:
            for ext in ("txt", "html"):
                path = TEMPLATES_DIR / "emails" / locale / f"{name}.{ext}"
                assert path.is_file(), f"missing {path}"


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", EMAILS)
def test_email_renders_with_subject_name_and_layout(renderer: Renderer, name: str, locale: str) -> None:
    email = renderer.email(name, locale, email_context(locale, **email_extra(name)))

    assert email.subject
    assert "\n" not in email.subject
    assert "Marta Nowak" in email.text
    assert "Marta Nowak" in email.html
    assert "Velocity Affiliates" in email.subject
    assert not email.text.startswith("Subject:")
    assert email.html.lstrip().startswith("<!DOCTYPE html>")
    assert f'<html lang="{locale}"' in email.html
    assert "Partnerflow" in email.html
    for rendered in (email.subject, email.text, email.html):
        assert "None" not in rendered
        assert "{{" not in rendered
        assert "{%" not in rendered


@pytest.mark.parametrize("name", EMAILS)
def test_subjects_are_translated(renderer: Renderer, name: str) -> None:
    subjects = {
        locale: renderer.email(name, locale, email_context(locale, **email_extra(name))).subject
        for locale in LOCALES
    }
    assert len(set(subjects.values())) == len(LOCALES), subjects
    assert subjects["en"] != subjects["fr"]


@pytest.mark.parametrize("name", EMAILS)
def test_bodies_are_translated(renderer: Renderer, name: str) -> None:
    texts = {
        locale: renderer.email(name, locale, email_context(locale, **email_extra(name))).text
        for locale in LOCALES
    }
    assert len(set(texts.values())) == len(LOCALES)


def test_french_html_declares_french(renderer: Renderer) -> None:
    email = renderer.email("welcome", "fr", email_context("fr"))
    assert 'lang="fr"' in email.html
    assert "Bonjour" in email.text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", EMAILS)
def test_optional_partner_fields_may_be_missing(renderer: Renderer, name: str, locale: str) -> None:
    partner = make_partner(locale, **ABSENT_FIELDS)
    context = email_context(locale, partner=partner, **email_extra(name))
    email = renderer.email(name, locale, context)
    assert_no_missing_values(email)


@pytest.mark.parametrize("locale", LOCALES)
def test_welcome_gives_the_portal_link(renderer: Renderer, locale: str) -> None:
    email = renderer.email("welcome", locale, email_context(locale))

    assert PORTAL_URL in email.text.splitlines(), "the portal URL must stand on its own line"
    assert f'href="{PORTAL_URL}"' in email.html


@pytest.mark.parametrize("locale", LOCALES)
def test_rejection_includes_a_shared_reason(renderer: Renderer, locale: str) -> None:
    email = renderer.email("rejection", locale, email_context(locale, reason=REASON))
    assert REASON in email.text
    assert REASON in email.html


@pytest.mark.parametrize("reason", [None, ""])
@pytest.mark.parametrize("locale", LOCALES)
def test_rejection_without_reason_says_nothing_about_one(
    renderer: Renderer, locale: str, reason: str | None
) -> None:
    with_reason = renderer.email("rejection", locale, email_context(locale, reason=REASON))
    without = renderer.email("rejection", locale, email_context(locale, reason=reason))

    assert REASON not in without.text
    assert REASON not in without.html
    assert "None" not in without.text
    assert "<blockquote" not in without.html
    # Exactly the reason block disappears: no leftover "our team shared this note:" line.
    assert len(without.text.splitlines()) < len(with_reason.text.splitlines()) - 2
    if locale == "en":
        assert "note" not in without.text.lower()
        assert "reason" not in without.text.lower()


def test_rejection_invites_to_apply_again(renderer: Renderer) -> None:
    email = renderer.email("rejection", "en", email_context("en", reason=None))
    assert "apply again" in email.text


def test_reason_is_escaped_in_html(renderer: Renderer) -> None:
    reason = 'Traffic < 1000 visits & "no" content'
    email = renderer.email("rejection", "en", email_context("en", reason=reason))
    assert reason in email.text
    assert "Traffic &lt; 1000 visits &amp; &#34;no&#34; content" in email.html


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", EMAILS)
def test_html_escapes_the_partner_name(renderer: Renderer, name: str, locale: str) -> None:
    partner = make_partner(locale, **HTML_HOSTILE_FIELDS)
    email = renderer.email(name, locale, email_context(locale, partner=partner, **email_extra(name)))

    assert_html_escaped(email)


def test_unknown_locale_falls_back_to_english(renderer: Renderer) -> None:
    english = renderer.email("welcome", "en", email_context("en"))
    spanish = renderer.email("welcome", "es", email_context("es", partner=make_partner("es")))

    assert_english_fallback(spanish, english)
    assert 'lang="es"' not in spanish.html


# --- Slack ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SLACK)
def test_every_slack_template_renders(renderer: Renderer, name: str) -> None:
    text = renderer.slack(name, slack_context(**SLACK_EXTRA[name]))

    assert "Marta Nowak" in text
    assert DASHBOARD_URL in text
    assert WORKFLOW_URL in text
    assert "None" not in text
    assert "{{" not in text


@pytest.mark.parametrize("name", SLACK)
def test_slack_copes_without_optional_fields(renderer: Renderer, name: str) -> None:
    partner = make_partner(company=None, website=None, source=None, phone=None)
    text = renderer.slack(name, slack_context(partner=partner, **SLACK_EXTRA[name]))
    assert "Marta Nowak" in text
    assert "None" not in text


def test_application_submitted_tells_how_to_decide(renderer: Renderer) -> None:
    text = renderer.slack("application_submitted", slack_context())

    for value in (
        "marta.nowak@example.org",
        "Nowak Cycling Blog",
        "https://nowak-cycling.example.org",
        "Velocity Affiliates",
        "newsletter",
    ):
        assert value in text
    assert f"POST {DASHBOARD_URL}/decision" in text
    assert '"decision": "approve"' in text


def test_application_submitted_leaves_out_missing_fields(renderer: Renderer) -> None:
    partner = make_partner(company=None, website=None, source=None)
    text = renderer.slack("application_submitted", slack_context(partner=partner))
    assert "Company" not in text
    assert "Website" not in text
    assert "Source" not in text


def test_approval_reminder_names_the_applicant(renderer: Renderer) -> None:
    text = renderer.slack("approval_reminder", slack_context())
    assert "marta.nowak@example.org" in text
    assert "2025-03-03 09:15" in text


def test_escalation_lists_every_pending_application(renderer: Renderer) -> None:
    text = renderer.slack("approval_escalation", slack_context(**SLACK_EXTRA["approval_escalation"]))

    assert "5 days" in text
    for item in PENDING:
        lines = [line for line in text.splitlines() if item["name"] in line and item["email"] in line]
        assert lines, f"{item['name']} is not listed"
        assert f"/partners/{item['partner_id']}" in lines[-1]
    assert "|Lucas Girard> (lucas@example.fr) ·" in text  # empty company: no dangling comma


def test_escalation_with_nothing_else_pending(renderer: Renderer) -> None:
    text = renderer.slack("approval_escalation", slack_context(waiting_days=1, pending=[]))
    assert "Marta Nowak" in text
    assert "1 day" in text
    assert "1 days" not in text


def test_delivery_failed_explains_the_failure(renderer: Renderer) -> None:
    text = renderer.slack("delivery_failed", slack_context(**SLACK_EXTRA["delivery_failed"]))

    assert "marta.nowak@example.org" in text
    assert "welcome" in text
    assert "invalid address 'marta.nowak@example'" in text
    assert "address" in text.lower()


def test_slack_escapes_applicant_text(renderer: Renderer) -> None:
    partner = make_partner(name="Eve <!channel> & <https://evil.example|click>")
    text = renderer.slack("application_submitted", slack_context(partner=partner))

    assert "<!channel>" not in text
    assert "<https://evil.example" not in text
    assert "Eve &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in text
