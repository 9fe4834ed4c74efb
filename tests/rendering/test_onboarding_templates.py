"""The onboarding email and Slack templates render with the context the onboarding stage gives them.

Contexts mirror ``MessagingActivities``: the partner as JSON-ready dict plus the portal, dashboard
and workflow links, the extra context of ``partnerflow.workflows.onboarding`` and, for webinar
emails, ``calendar.webinar_context``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from onboarding_contexts import (
    EMAIL_EXTRA,
    RESOURCES,
    TRACKING_URL,
    WEBINAR,
)
from template_contexts import (
    ABSENT_FIELDS,
    DASHBOARD_URL,
    HOSTILE_FIELDS,
    HTML_HOSTILE_FIELDS,
    PORTAL_URL,
    WORKFLOW_URL,
    assert_english_fallback,
    assert_html_escaped,
    assert_no_missing_values,
    assert_slack_escaped,
    assert_slack_without_optional_fields,
    partner_dict,
)
from template_contexts import email_context as shared_email_context
from template_contexts import slack_context as shared_slack_context

from partnerflow.domain.stages import LOCALES
from partnerflow.rendering.templates import TEMPLATES_DIR, Renderer

EMAILS = tuple(EMAIL_EXTRA)

# Every value of an extra that changes the wording, so each variant gets the generic checks too.
EMAIL_VARIANTS: list[tuple[str, dict[str, Any]]] = [
    ("terms_reminder", {"reminder_number": 1}),
    ("terms_reminder", {"reminder_number": 2}),
    ("welcome_kit", {"tracking_url": TRACKING_URL, "resources": RESOURCES}),
    ("welcome_kit", {"tracking_url": TRACKING_URL, "resources": []}),
    ("webinar_invite", {"webinar": WEBINAR, "attempt": 1}),
    ("webinar_invite", {"webinar": WEBINAR, "attempt": 2}),
    ("webinar_reminder", {"webinar": WEBINAR, "hours_before": 24}),
    ("webinar_reminder", {"webinar": WEBINAR, "hours_before": 1}),
    ("webinar_updated", {"webinar": WEBINAR, "moved": True}),
    ("webinar_updated", {"webinar": WEBINAR, "moved": False}),
    ("webinar_cancelled", {"webinar": WEBINAR, "reinvite": True}),
    ("webinar_cancelled", {"webinar": WEBINAR, "reinvite": False}),
    ("onboarding_complete", {"tracking_url": TRACKING_URL}),
    ("onboarding_complete", {"tracking_url": ""}),
    ("terms_updated", {"version": 2}),
    ("portal_link", {}),
]

SLACK_EXTRA: dict[str, dict[str, Any]] = {
    "terms_escalation": {"days": 14},
    "webinar_no_shows": {"missed": 2},
    "no_webinar_available": {},
    "onboarding_complete": {},
}
SLACK = tuple(SLACK_EXTRA)


def make_partner(locale: str = "en", **overrides: Any) -> dict[str, Any]:
    return partner_dict(
        locale, **({"stage": "onboarding", "stage_changed_at": "2025-03-05T11:20:03.654321Z"} | overrides)
    )


def email_context(locale: str = "en", **extra: Any) -> dict[str, Any]:
    partner = extra.pop("partner", None) or make_partner(locale)
    return shared_email_context(partner, locale, **extra)


def render(renderer: Renderer, name: str, locale: str = "en", **extra: Any) -> Any:
    return renderer.email(name, locale, email_context(locale, **(EMAIL_EXTRA[name] | extra)))


def slack_context(**extra: Any) -> dict[str, Any]:
    partner = extra.pop("partner", None) or make_partner()
    return shared_slack_context(partner, "https://partners.example.com/", **extra)


def variant_id(variant: tuple[str, dict[str, Any]]) -> str:
    name, extra = variant
    details = [f"{key}={value!r}" for key, value in extra.items() if key not in ("webinar", "tracking_url")]
    if name == "welcome_kit":
        details = [f"resources={len(extra['resources'])}"]
    return "-".join([name, *details])


# --- every email ---------------------------------------------------------------------------


def test_every_onboarding_email_template_exists_in_every_locale() -> None:
    for locale in LOCALES:
        for name in EMAILS:
            for ext in ("txt", "html"):
                path = TEMPLATES_DIR / "emails" / locale / f"{name}.{ext}"
                assert path.is_file(), f"missing {path}"


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("variant", EMAIL_VARIANTS, ids=variant_id)
def test_email_renders_with_subject_name_and_layout(
    renderer: Renderer, variant: tuple[str, dict[str, Any]], locale: str
) -> None:
    name, extra = variant
    email = renderer.email(name, locale, email_context(locale, **extra))

    assert email.subject
    assert "\n" not in email.subject
    assert "Marta Nowak" not in email.subject  # the greeting did not run into the subject line
    assert "Velocity Affiliates" in email.subject
    assert "Marta Nowak" in email.text.splitlines()[0]
    assert "Marta Nowak" in email.html
    assert not email.text.startswith("Subject:")
    assert "\n\n\n" not in email.text  # no empty paragraphs left by a skipped block
    assert email.html.lstrip().startswith("<!DOCTYPE html>")
    assert f'<html lang="{locale}"' in email.html
    assert "Partnerflow" in email.html
    for rendered in (email.subject, email.text, email.html):
        assert "None" not in rendered
        assert "{{" not in rendered
        assert "{%" not in rendered


@pytest.mark.parametrize("variant", EMAIL_VARIANTS, ids=variant_id)
def test_subjects_and_bodies_are_translated(renderer: Renderer, variant: tuple[str, dict[str, Any]]) -> None:
    name, extra = variant
    emails = {locale: renderer.email(name, locale, email_context(locale, **extra)) for locale in LOCALES}

    subjects = {locale: email.subject for locale, email in emails.items()}
    assert all(subjects.values()), subjects
    assert len(set(subjects.values())) == len(LOCALES), subjects
    assert len({email.text for email in emails.values()}) == len(LOCALES)
    assert len({email.html for email in emails.values()}) == len(LOCALES)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", EMAILS)
def test_optional_partner_fields_may_be_missing(renderer: Renderer, name: str, locale: str) -> None:
    partner = make_partner(locale, **ABSENT_FIELDS)
    email = render(renderer, name, locale, partner=partner)
    assert_no_missing_values(email)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", EMAILS)
def test_html_escapes_the_partner_name(renderer: Renderer, name: str, locale: str) -> None:
    partner = make_partner(locale, **HTML_HOSTILE_FIELDS)
    email = render(renderer, name, locale, partner=partner)

    assert_html_escaped(email)


@pytest.mark.parametrize("name", EMAILS)
def test_unknown_locale_falls_back_to_english(renderer: Renderer, name: str) -> None:
    english = render(renderer, name, "en")
    spanish = render(renderer, name, "es", partner=make_partner("es"))

    assert_english_fallback(spanish, english)


# --- portal link ---------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("terms_reminder", {"reminder_number": 1}),
        ("terms_reminder", {"reminder_number": 2}),
        ("portal_link", {}),
        ("terms_updated", {}),
        ("welcome_kit", {}),
        ("onboarding_complete", {}),
    ],
)
def test_portal_link_stands_on_its_own_line(
    renderer: Renderer, name: str, extra: dict[str, Any], locale: str
) -> None:
    email = render(renderer, name, locale, **extra)

    assert PORTAL_URL in email.text.splitlines(), "the portal URL must stand on its own line"
    assert f'href="{PORTAL_URL}"' in email.html


# --- terms_reminder ------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_second_terms_reminder_is_worded_differently(renderer: Renderer, locale: str) -> None:
    first = render(renderer, "terms_reminder", locale, reminder_number=1)
    second = render(renderer, "terms_reminder", locale, reminder_number=2)

    assert first.subject != second.subject
    assert first.text != second.text
    assert first.html != second.html


def test_second_terms_reminder_announces_a_personal_check_in(renderer: Renderer) -> None:
    first = render(renderer, "terms_reminder", "en", reminder_number=1)
    second = render(renderer, "terms_reminder", "en", reminder_number=2)

    assert "personally" in second.text
    assert "personally" not in first.text
    assert "last reminder" in second.text.lower()


# --- welcome_kit ---------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", ["welcome_kit", "onboarding_complete"])
def test_tracking_link_is_given(renderer: Renderer, name: str, locale: str) -> None:
    email = render(renderer, name, locale)

    assert TRACKING_URL in email.text.splitlines(), "the tracking URL must stand on its own line"
    assert TRACKING_URL in email.html
    assert "monospace" in email.html


@pytest.mark.parametrize("locale", LOCALES)
def test_welcome_kit_lists_every_resource(renderer: Renderer, locale: str) -> None:
    email = render(renderer, "welcome_kit", locale)

    for resource in RESOURCES:
        lines = [line for line in email.text.splitlines() if resource["title"] in line]
        assert lines, f"{resource['title']} is not listed"
        assert resource["url"] in lines[0]
        assert resource["title"] in email.html
        assert f'href="{resource["url"]}"' in email.html
    assert "product_sheet" not in email.text  # kinds are shown as words, not as codes


@pytest.mark.parametrize("locale", LOCALES)
def test_welcome_kit_without_resources(renderer: Renderer, locale: str) -> None:
    with_resources = render(renderer, "welcome_kit", locale)
    without = render(renderer, "welcome_kit", locale, resources=[])

    assert without.text != with_resources.text
    assert TRACKING_URL in without.text.splitlines()
    assert PORTAL_URL in without.text.splitlines()
    for rendered in (without.text, without.html):
        assert "None" not in rendered
        assert "cdn.example.com" not in rendered
    assert "<ul" not in without.html
    if locale == "en":
        assert "being prepared" in without.text


def test_welcome_kit_names_unknown_resource_kinds_as_given(renderer: Renderer) -> None:
    resources = [{"title": "Podcast script", "kind": "script", "url": "https://cdn.example.com/kit/pod.txt"}]
    email = render(renderer, "welcome_kit", "en", resources=resources)
    assert "- Podcast script — script — https://cdn.example.com/kit/pod.txt" in email.text.splitlines()


def test_welcome_kit_escapes_resource_titles_in_html(renderer: Renderer) -> None:
    resources = [{"title": "<b>x</b> & more", "kind": "guide", "url": "https://cdn.example.com/kit/x.pdf"}]
    email = render(renderer, "welcome_kit", "en", resources=resources)

    assert "&lt;b&gt;x&lt;/b&gt; &amp; more" in email.html
    assert "<b>x</b>" not in email.html
    assert "<b>x</b> & more" in email.text


# --- webinar emails ------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", ["webinar_invite", "webinar_reminder", "webinar_updated"])
def test_webinar_emails_give_the_session_and_join_link(renderer: Renderer, name: str, locale: str) -> None:
    email = render(renderer, name, locale)

    assert WEBINAR["join_url"] in email.text.splitlines(), "the join URL must stand on its own line"
    assert WEBINAR["starts_at_local"] in email.text
    assert WEBINAR["title"] in email.text
    assert re.search(r"\b45\b", email.text), "duration missing"
    assert f'href="{WEBINAR["join_url"]}"' in email.html
    assert WEBINAR["starts_at_local"] in email.html


@pytest.mark.parametrize("locale", LOCALES)
def test_webinar_invite_mentions_the_calendar_file(renderer: Renderer, locale: str) -> None:
    email = render(renderer, "webinar_invite", locale)
    assert ".ics" in email.text
    assert ".ics" in email.html


@pytest.mark.parametrize("locale", LOCALES)
def test_webinar_reinvite_differs_from_first_invite(renderer: Renderer, locale: str) -> None:
    first = render(renderer, "webinar_invite", locale, attempt=1)
    again = render(renderer, "webinar_invite", locale, attempt=2)
    third = render(renderer, "webinar_invite", locale, attempt=3)

    assert first.subject != again.subject
    assert first.text != again.text
    assert first.html != again.html
    assert third.text == again.text  # every re-invitation reads the same
    assert WEBINAR["join_url"] in again.text.splitlines()


def test_webinar_reinvite_says_we_missed_them(renderer: Renderer) -> None:
    first = render(renderer, "webinar_invite", "en", attempt=1)
    again = render(renderer, "webinar_invite", "en", attempt=2)
    assert "missed you" in again.text
    assert "missed you" not in first.text


@pytest.mark.parametrize("locale", LOCALES)
def test_webinar_reminders_a_day_and_an_hour_before_differ(renderer: Renderer, locale: str) -> None:
    day = render(renderer, "webinar_reminder", locale, hours_before=24)
    hour = render(renderer, "webinar_reminder", locale, hours_before=1)

    assert day.subject != hour.subject
    assert day.text != hour.text
    assert day.html != hour.html


def test_webinar_reminder_wording(renderer: Renderer) -> None:
    day = render(renderer, "webinar_reminder", "en", hours_before=24)
    hour = render(renderer, "webinar_reminder", "en", hours_before=1)

    assert "tomorrow" in day.text
    assert "one hour" not in day.text
    assert "one hour" in hour.text
    assert "tomorrow" not in hour.text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", ["webinar_updated", "webinar_cancelled"])
def test_webinar_changes_name_the_session_and_the_calendar_file(
    renderer: Renderer, name: str, locale: str
) -> None:
    email = render(renderer, name, locale)

    assert WEBINAR["title"] in email.text and WEBINAR["starts_at_local"] in email.text
    assert WEBINAR["starts_at_local"] in email.html
    assert ".ics" in email.text and ".ics" in email.html


@pytest.mark.parametrize("locale", LOCALES)
def test_a_moved_session_reads_differently_from_new_details(renderer: Renderer, locale: str) -> None:
    moved = render(renderer, "webinar_updated", locale, moved=True)
    details = render(renderer, "webinar_updated", locale, moved=False)

    assert moved.subject != details.subject and moved.text != details.text and moved.html != details.html
    assert WEBINAR["join_url"] in details.text.splitlines()


def test_webinar_update_wording(renderer: Renderer) -> None:
    moved = render(renderer, "webinar_updated", "en", moved=True)
    details = render(renderer, "webinar_updated", "en", moved=False)
    assert "new date" in moved.text and "new date" not in details.text
    assert "updates the session already in your calendar" in moved.text


@pytest.mark.parametrize("locale", LOCALES)
def test_a_cancellation_has_no_join_link_and_promises_a_new_invitation_only_when_one_follows(
    renderer: Renderer, locale: str
) -> None:
    waiting = render(renderer, "webinar_cancelled", locale, reinvite=True)
    done = render(renderer, "webinar_cancelled", locale, reinvite=False)

    for email in (waiting, done):
        assert WEBINAR["join_url"] not in email.text and WEBINAR["join_url"] not in email.html
    assert waiting.subject == done.subject
    assert len(waiting.text.splitlines()) == len(done.text.splitlines()) + 2
    assert set(done.text.splitlines()) < set(waiting.text.splitlines())


def test_webinar_cancellation_wording(renderer: Renderer) -> None:
    waiting = render(renderer, "webinar_cancelled", "en", reinvite=True)
    done = render(renderer, "webinar_cancelled", "en", reinvite=False)
    assert waiting.subject == "Cancelled: Velocity Affiliates onboarding webinar"
    assert "invitation to another session" in waiting.text and "another session" not in done.text
    assert "removes the session from your calendar" in done.text


# --- onboarding_complete, terms_updated, portal_link ---------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_onboarding_complete_without_tracking_link(renderer: Renderer, locale: str) -> None:
    with_link = render(renderer, "onboarding_complete", locale)
    without = render(renderer, "onboarding_complete", locale, tracking_url="")

    assert TRACKING_URL not in without.text
    assert "monospace" not in without.html
    assert len(without.text.splitlines()) < len(with_link.text.splitlines()) - 2


@pytest.mark.parametrize("locale", LOCALES)
def test_terms_updated_gives_the_version(renderer: Renderer, locale: str) -> None:
    v42 = render(renderer, "terms_updated", locale, version=42)
    v43 = render(renderer, "terms_updated", locale, version=43)

    for rendered in (v42.subject, v42.text, v42.html):
        assert re.search(r"(?<!\d)42(?!\d)", rendered)
    # the version number is the only thing that changes
    assert v42.text.replace("42", "43") == v43.text
    assert v42.subject.replace("42", "43") == v43.subject


def test_terms_updated_says_nothing_else_changes(renderer: Renderer) -> None:
    email = render(renderer, "terms_updated", "en", version=3)
    assert "Nothing else changes" in email.text


@pytest.mark.parametrize("locale", LOCALES)
def test_portal_link_differs_from_the_other_portal_emails(renderer: Renderer, locale: str) -> None:
    fresh = render(renderer, "portal_link", locale)
    others = {render(renderer, name, locale).subject for name in EMAILS if name != "portal_link"}
    assert fresh.subject not in others


def test_portal_link_says_the_link_is_temporary(renderer: Renderer) -> None:
    email = render(renderer, "portal_link", "en")
    assert "expired" in email.text
    assert "limited time" in email.text


# --- Slack ---------------------------------------------------------------------------------


def test_every_onboarding_slack_template_exists() -> None:
    for name in SLACK:
        assert (TEMPLATES_DIR / "slack" / f"{name}.txt").is_file()


@pytest.mark.parametrize("name", SLACK)
def test_every_slack_template_renders(renderer: Renderer, name: str) -> None:
    text = renderer.slack(name, slack_context(**SLACK_EXTRA[name]))

    assert "Marta Nowak" in text
    assert "marta.nowak@example.org" in text
    assert "Velocity Affiliates" in text
    assert DASHBOARD_URL in text
    assert WORKFLOW_URL in text
    assert PORTAL_URL not in text  # the partner's personal link stays out of the channel
    assert "None" not in text
    assert "{{" not in text


@pytest.mark.parametrize("name", SLACK)
def test_slack_copes_without_optional_fields(renderer: Renderer, name: str) -> None:
    partner = make_partner(**ABSENT_FIELDS)
    assert_slack_without_optional_fields(
        renderer.slack(name, slack_context(partner=partner, **SLACK_EXTRA[name]))
    )


@pytest.mark.parametrize("name", SLACK)
def test_slack_escapes_applicant_text(renderer: Renderer, name: str) -> None:
    partner = make_partner(**HOSTILE_FIELDS)
    assert_slack_escaped(renderer.slack(name, slack_context(partner=partner, **SLACK_EXTRA[name])))


def test_terms_escalation_gives_the_delay(renderer: Renderer) -> None:
    text = renderer.slack("terms_escalation", slack_context(days=14))
    assert "14 days" in text
    assert "onboarding" in text
    assert "+48 600 123 456" in text

    one = renderer.slack("terms_escalation", slack_context(days=1))
    assert "1 day " in one
    assert "1 days" not in one


def test_webinar_no_shows_tells_how_to_waive(renderer: Renderer) -> None:
    text = renderer.slack("webinar_no_shows", slack_context(missed=2))

    assert "2 " in text
    assert "in person" in text
    assert f"POST {DASHBOARD_URL}/checklist" in text
    assert '{"item": "webinar_attended", "waive": true}' in text

    one = renderer.slack("webinar_no_shows", slack_context(missed=1))
    assert "1 onboarding webinar session." in one


def test_no_webinar_available_tells_how_to_create_one(renderer: Renderer) -> None:
    text = renderer.slack("no_webinar_available", slack_context())
    assert "POST https://partners.example.com/webinars" in text  # no double slash from public_url
    assert "free seats" in text


def test_onboarding_complete_announces_an_active_partner(renderer: Renderer) -> None:
    text = renderer.slack("onboarding_complete", slack_context())
    assert "active" in text
    assert "Nowak Cycling Blog" in text
