"""The engagement email and Slack templates render with the context the active stage gives them.

Contexts mirror ``MessagingActivities``: the partner as JSON-ready dict plus the portal, dashboard
and workflow links, and the extra context of each nudge, review and offboarding message.
Non-essential emails (nudges) also get an ``unsubscribe_url``; essential ones never do.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from engagement_contexts import (
    EMAIL_EXTRA,
    KPIS,
    RESOURCES,
    TRACKING_URL,
    UNSUBSCRIBE_URL,
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
from partnerflow.rendering.templates import TEMPLATES_DIR, Renderer, TemplateError

EMAILS = tuple(EMAIL_EXTRA)
NON_ESSENTIAL = ("nudge_no_clicks", "nudge_tips", "tier_close")
ESSENTIAL = ("first_conversion", "scorecard", "tier_changed", "farewell")

# Every value of an extra that changes the wording, so each variant gets the generic checks too.
EMAIL_VARIANTS: list[tuple[str, dict[str, Any]]] = [
    ("nudge_no_clicks", {}),
    ("nudge_no_clicks", {"resources": [], "days_without_clicks": 1}),
    ("nudge_tips", {}),
    ("nudge_no_clicks", {"tracking_url": ""}),
    ("nudge_tips", {"days_since_first_click": 1}),
    ("nudge_tips", {"tracking_url": ""}),
    ("first_conversion", {}),
    ("first_conversion", {"tracking_url": ""}),
    ("tier_close", {}),
    ("scorecard", {}),
    ("scorecard", {"tier_changed": True, "previous_tier": "bronze", "segment": "long_tail"}),
    ("scorecard", {"tier_changed": True, "previous_tier": None, "segment": "middle", "tier": "bronze"}),
    ("scorecard", {"tier_changed": False, "segment": "", "tier": ""}),
    ("tier_changed", {}),
    ("tier_changed", {"old_tier": None, "new_tier": "bronze", "commission_rate": "10 %"}),
    (
        "tier_changed",
        {"old_tier": "gold", "new_tier": "silver", "commission_rate": "15 %", "promoted": False},
    ),
    ("farewell", {}),
]

SLACK_EXTRA: dict[str, dict[str, Any]] = {
    "partner_silent": {"days": 45},
    "tier_change_proposed": {
        "current_tier": "silver",
        "proposed_tier": "gold",
        "revenue": "21,350.00 USD",
        "conversions": 212,
        "segment": "top",
        "deadline_days": 7,
    },
    "tier_change_applied": {"old_tier": "silver", "new_tier": "gold", "decided_by": "Anna Kowalska"},
    "offboarding_proposed": {"days_inactive": 180},
    "partner_offboarded": {"reason": "No activity for six months", "manager": "Anna Kowalska"},
}
SLACK = tuple(SLACK_EXTRA)

DIGEST: dict[str, Any] = {
    "program": "Velocity Affiliates",
    "period_days": 7,
    "new_applications": 5,
    "pending": [
        {"name": "Jan Kowalski", "email": "jan@example.org", "waiting_days": 1},
        {"name": "Lea Roux", "email": "lea@example.fr", "waiting_days": 4},
    ],
    "funnel": {"applied": 5, "onboarding": 3, "active": 42, "offboarded": 2, "rejected": 6},
    "top_partners": [
        {"name": "Nowak Cycling Blog", "revenue": "12,400.00 USD"},
        {"name": "Trail Reviews", "revenue": "8,150.00 USD"},
    ],
    "at_risk": [{"name": "Quiet Rider", "days_silent": 52}],
}


def make_partner(locale: str = "en", **overrides: Any) -> dict[str, Any]:
    return partner_dict(
        locale,
        **(
            {
                "stage": "active",
                "tier": "silver",
                "segment": "top",
                "stage_changed_at": "2025-04-02T08:00:00.000000Z",
            }
            | overrides
        ),
    )


def email_context(locale: str = "en", **extra: Any) -> dict[str, Any]:
    partner = extra.pop("partner", None) or make_partner(locale)
    return shared_email_context(partner, locale, **extra)


def render(renderer: Renderer, name: str, locale: str = "en", **extra: Any) -> Any:
    return renderer.email(name, locale, email_context(locale, **(EMAIL_EXTRA[name] | extra)))


def slack_context(**extra: Any) -> dict[str, Any]:
    partner = extra.pop("partner", None) or make_partner()
    return shared_slack_context(partner, "https://partners.example.com/", **extra)


def digest(renderer: Renderer, **overrides: Any) -> str:
    settings = slack_context()["settings"]
    return renderer.slack("program_digest", {"settings": settings} | DIGEST | overrides)


def variant_id(variant: tuple[str, dict[str, Any]]) -> str:
    name, extra = variant
    details = [f"{key}={value!r}" for key, value in extra.items() if key not in ("resources", "kpis")]
    if "resources" in extra:
        details.append(f"resources={len(extra['resources'])}")
    return "-".join([name, *details])


# --- every email ---------------------------------------------------------------------------


def test_every_engagement_email_template_exists_in_every_locale() -> None:
    for locale in LOCALES:
        for name in EMAILS:
            text = TEMPLATES_DIR / "emails" / locale / f"{name}.txt"
            html = TEMPLATES_DIR / "emails" / locale / f"{name}.html"
            assert text.is_file(), f"missing {text}"
            assert html.is_file(), f"missing {html}"
            assert text.read_text().startswith("Subject: "), f"{text} must start with its subject"
            assert html.read_text().startswith('{% extends "emails/_layout.html" %}\n'), html


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("variant", EMAIL_VARIANTS, ids=variant_id)
def test_email_renders_with_subject_name_and_layout(
    renderer: Renderer, variant: tuple[str, dict[str, Any]], locale: str
) -> None:
    name, extra = variant
    email = render(renderer, name, locale, **extra)

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
        assert "**" not in rendered


@pytest.mark.parametrize("variant", EMAIL_VARIANTS, ids=variant_id)
def test_subjects_and_bodies_are_translated(renderer: Renderer, variant: tuple[str, dict[str, Any]]) -> None:
    name, extra = variant
    emails = {locale: render(renderer, name, locale, **extra) for locale in LOCALES}

    subjects = {locale: email.subject for locale, email in emails.items()}
    assert all(subjects.values()), subjects
    assert len(set(subjects.values())) == len(LOCALES), subjects
    assert len({email.text for email in emails.values()}) == len(LOCALES)
    assert len({email.html for email in emails.values()}) == len(LOCALES)


@pytest.mark.parametrize("locale", LOCALES)
def test_engagement_subjects_differ_from_each_other(renderer: Renderer, locale: str) -> None:
    subjects = [render(renderer, name, locale).subject for name in EMAILS]
    assert len(set(subjects)) == len(EMAILS), subjects


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", EMAILS)
def test_optional_partner_fields_may_be_missing(renderer: Renderer, name: str, locale: str) -> None:
    partner = make_partner(locale, **ABSENT_FIELDS, tier=None, segment=None)
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


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", EMAILS)
def test_portal_link_is_given_except_in_the_farewell(renderer: Renderer, name: str, locale: str) -> None:
    email = render(renderer, name, locale)
    if name == "farewell":  # the partnership is over: no portal to send them to
        assert PORTAL_URL not in email.text
        assert PORTAL_URL not in email.html
    else:
        assert PORTAL_URL in email.text.splitlines(), "the portal URL must stand on its own line"
        assert f'href="{PORTAL_URL}"' in email.html


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", ["nudge_no_clicks", "nudge_tips", "first_conversion"])
def test_tracking_link_is_given(renderer: Renderer, name: str, locale: str) -> None:
    email = render(renderer, name, locale)

    assert TRACKING_URL in email.text.splitlines(), "the tracking URL must stand on its own line"
    assert TRACKING_URL in email.html
    assert "monospace" in email.html


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", ["nudge_no_clicks", "nudge_tips", "first_conversion"])
def test_without_tracking_link(renderer: Renderer, name: str, locale: str) -> None:
    with_link = render(renderer, name, locale)
    without = render(renderer, name, locale, tracking_url="")

    assert TRACKING_URL not in without.text
    assert "monospace" not in without.html
    assert len(without.text.splitlines()) == len(with_link.text.splitlines()) - 4
    assert PORTAL_URL in without.text.splitlines()


# --- unsubscribe link ----------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", NON_ESSENTIAL)
def test_non_essential_emails_offer_to_unsubscribe_in_the_footer(
    renderer: Renderer, name: str, locale: str
) -> None:
    email = render(renderer, name, locale)

    last_line = email.text.rstrip("\n").splitlines()[-1]
    assert last_line.endswith(UNSUBSCRIBE_URL), "the unsubscribe link closes the text email"
    assert email.text.count(UNSUBSCRIBE_URL) == 1
    assert f'href="{UNSUBSCRIBE_URL}"' in email.html
    footer = email.html.index("border-top:1px solid #e5e7eb")  # the layout's footer cell
    assert email.html.index(UNSUBSCRIBE_URL) > footer, "the unsubscribe link belongs in the footer"
    assert "Partnerflow</p>" in email.html[footer:]  # the layout's own footer is kept
    if locale == "en":
        assert "Don't want these tips? Unsubscribe: " + UNSUBSCRIBE_URL in email.text
        assert "Unsubscribe</a>" in email.html


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", NON_ESSENTIAL)
def test_non_essential_emails_need_their_unsubscribe_url(renderer: Renderer, name: str, locale: str) -> None:
    extra = {key: value for key, value in EMAIL_EXTRA[name].items() if key != "unsubscribe_url"}
    with pytest.raises(TemplateError, match="unsubscribe_url"):
        renderer.email(name, locale, email_context(locale, **extra))


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", ESSENTIAL)
def test_essential_emails_have_no_unsubscribe_link(renderer: Renderer, name: str, locale: str) -> None:
    assert "unsubscribe_url" not in EMAIL_EXTRA[name]
    email = render(renderer, name, locale)  # renders without the variable (StrictUndefined)
    stray = render(renderer, name, locale, unsubscribe_url=UNSUBSCRIBE_URL)

    for rendered in (email.text, email.html, stray.text, stray.html):
        assert UNSUBSCRIBE_URL not in rendered
        assert "nsubscribe" not in rendered
    assert stray.text == email.text
    assert stray.html == email.html


# --- nudge_no_clicks, nudge_tips -----------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_no_clicks_nudge_lists_every_resource(renderer: Renderer, locale: str) -> None:
    email = render(renderer, "nudge_no_clicks", locale)

    assert re.search(r"(?<!\d)14(?!\d)", email.text)
    for resource in RESOURCES:
        lines = [line for line in email.text.splitlines() if resource["title"] in line]
        assert lines, f"{resource['title']} is not listed"
        assert resource["url"] in lines[0]
        assert f'href="{resource["url"]}"' in email.html
        assert f">{resource['title']}</a>" in email.html
    assert "— banner —" not in email.text  # kinds are shown as words, not as codes
    assert "— logo —" not in email.text


@pytest.mark.parametrize("locale", LOCALES)
def test_no_clicks_nudge_without_resources(renderer: Renderer, locale: str) -> None:
    with_resources = render(renderer, "nudge_no_clicks", locale)
    without = render(renderer, "nudge_no_clicks", locale, resources=[])

    assert len(without.text.splitlines()) == len(with_resources.text.splitlines()) - 2 - len(RESOURCES) - 1
    assert TRACKING_URL in without.text.splitlines()
    for rendered in (without.text, without.html):
        assert "cdn.example.com" not in rendered
    assert without.html.count("<ul") == with_resources.html.count("<ul") - 1


def test_no_clicks_nudge_escapes_resource_titles_in_html(renderer: Renderer) -> None:
    resources = [{"title": "<b>x</b> & more", "kind": "guide", "url": "https://cdn.example.com/kit/x.pdf"}]
    email = render(renderer, "nudge_no_clicks", "en", resources=resources)

    assert "&lt;b&gt;x&lt;/b&gt; &amp; more" in email.html
    assert "<b>x</b>" not in email.html
    assert "- <b>x</b> & more — Guide — https://cdn.example.com/kit/x.pdf" in email.text.splitlines()


def test_no_clicks_nudge_is_helpful_not_guilt_tripping(renderer: Renderer) -> None:
    email = render(renderer, "nudge_no_clicks", "en")
    assert "14 days" in email.text
    assert "ideas" in email.text.lower()
    assert "quite common" in email.text

    one = render(renderer, "nudge_no_clicks", "en", days_without_clicks=1)
    assert "1 day." in one.text
    assert "1 days" not in one.text


@pytest.mark.parametrize("locale", LOCALES)
def test_tips_nudge_gives_several_tips(renderer: Renderer, locale: str) -> None:
    email = render(renderer, "nudge_tips", locale)

    assert re.search(r"(?<!\d)30(?!\d)", email.text)
    assert len([line for line in email.text.splitlines() if line.startswith("- ")]) >= 3
    assert email.html.count("<li") >= 3


def test_tips_nudge_wording(renderer: Renderer) -> None:
    text = render(renderer, "nudge_tips", "en").text
    for tip in ("audience", "deep links", "honest reviews"):
        assert tip in text
    assert "30 days ago" in text
    assert "1 day ago" in render(renderer, "nudge_tips", "en", days_since_first_click=1).text


# --- first_conversion, tier_close ----------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_first_conversion_gives_the_amount(renderer: Renderer, locale: str) -> None:
    email = render(renderer, "first_conversion", locale)
    assert "120.00 USD" in email.text
    assert "120.00 USD" in email.html
    if locale == "en":
        assert "Congratulations" in email.subject


@pytest.mark.parametrize("locale", LOCALES)
def test_tier_close_gives_the_tier_revenue_and_threshold(renderer: Renderer, locale: str) -> None:
    email = render(renderer, "tier_close", locale)
    assert "gold" in email.subject
    for rendered in (email.text, email.html):
        assert "gold" in rendered
        assert "16,480.00 USD" in rendered
        assert "20,000.00 USD" in rendered


# --- scorecard -----------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_scorecard_shows_every_kpi_and_the_tier(renderer: Renderer, locale: str) -> None:
    email = render(renderer, "scorecard", locale)

    assert "2026-01-01" in email.subject
    assert "2026-03-31" in email.subject
    for value in KPIS.values():
        assert value in email.text
        assert f">{value}</td>" in email.html, f"{value} is not in the table"
    assert "silver" in email.text
    assert "<strong>silver</strong>" in email.html
    assert email.html.count("<tr>") >= len(KPIS) + 1  # the KPI table plus the portal button


@pytest.mark.parametrize("locale", LOCALES)
def test_scorecard_with_undefined_ratios(renderer: Renderer, locale: str) -> None:
    kpis = KPIS | {"clicks": "0", "conversion_rate": "—", "epc": "—"}
    email = render(renderer, "scorecard", locale, kpis=kpis)
    assert email.text.count("—") == 2
    assert email.html.count(">—</td>") == 2


@pytest.mark.parametrize("locale", LOCALES)
def test_scorecard_mentions_a_tier_change(renderer: Renderer, locale: str) -> None:
    same = render(renderer, "scorecard", locale)
    changed = render(renderer, "scorecard", locale, tier_changed=True, previous_tier="bronze")
    first = render(renderer, "scorecard", locale, tier_changed=True, previous_tier=None)

    assert "bronze" not in same.text
    assert "bronze" in changed.text
    assert "bronze" in changed.html
    assert len({same.text, changed.text, first.text}) == 3


@pytest.mark.parametrize("locale", LOCALES)
def test_scorecard_has_a_phrase_per_segment(renderer: Renderer, locale: str) -> None:
    texts = {
        segment: render(renderer, "scorecard", locale, segment=segment).text
        for segment in ("top", "middle", "long_tail")
    }
    assert len(set(texts.values())) == 3
    for text in texts.values():
        assert "long_tail" not in text
        assert "middle" not in text.replace("Middle", "")


@pytest.mark.parametrize("locale", LOCALES)
def test_scorecard_without_tier_or_segment(renderer: Renderer, locale: str) -> None:
    full = render(renderer, "scorecard", locale)
    bare = render(renderer, "scorecard", locale, tier="", segment="", tier_changed=True, previous_tier="x")

    assert "<strong></strong>" not in bare.html
    assert len(bare.text.splitlines()) == len(full.text.splitlines()) - 4
    for value in KPIS.values():
        assert value in bare.text


def test_scorecard_segment_wording(renderer: Renderer) -> None:
    assert "one of our top partners" in render(renderer, "scorecard", "en", segment="top").text
    assert "top partners" not in render(renderer, "scorecard", "en", segment="long_tail").text


# --- tier_changed --------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_promotion_and_demotion_are_worded_differently(renderer: Renderer, locale: str) -> None:
    up = render(renderer, "tier_changed", locale)
    down = render(renderer, "tier_changed", locale, old_tier="gold", new_tier="silver", promoted=False)

    assert up.subject != down.subject
    assert up.text.replace("silver", "X").replace("gold", "X") != down.text.replace("silver", "X").replace(
        "gold", "X"
    )
    assert up.html != down.html
    assert "<h1" in up.html
    assert "<h1" not in down.html
    for email in (up, down):
        assert "20 %" in email.text
        assert "20 %" in email.html


def test_tier_changed_wording(renderer: Renderer) -> None:
    up = render(renderer, "tier_changed", "en")
    down = render(renderer, "tier_changed", "en", old_tier="gold", new_tier="silver", promoted=False)

    assert "Congratulations" in up.subject
    assert "from the silver tier to the gold tier" in up.text
    assert "Congratulations" not in down.text
    assert "from gold to silver" in down.text
    assert "move back up" in down.text
    assert "move back up" not in up.text

    first = render(renderer, "tier_changed", "en", old_tier=None, new_tier="bronze")
    assert "moved up to the bronze tier" in first.text
    assert " from " not in first.text.splitlines()[2]


# --- farewell ------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_farewell_does_not_need_a_tracking_link(renderer: Renderer, locale: str) -> None:
    email = render(renderer, "farewell", locale)
    assert TRACKING_URL not in email.text


def test_farewell_wording(renderer: Renderer) -> None:
    email = render(renderer, "farewell", "en")
    assert "Thank you" in email.subject
    assert "tracking link no longer earns commission" in email.text
    assert "reply to this email" in email.text


# --- Slack ---------------------------------------------------------------------------------


def test_every_engagement_slack_template_exists() -> None:
    for name in (*SLACK, "program_digest"):
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
    assert "\n\n" not in text


@pytest.mark.parametrize("name", SLACK)
def test_slack_copes_without_optional_fields(renderer: Renderer, name: str) -> None:
    partner = make_partner(**ABSENT_FIELDS, tier=None, segment=None)
    assert_slack_without_optional_fields(
        renderer.slack(name, slack_context(partner=partner, **SLACK_EXTRA[name]))
    )


@pytest.mark.parametrize("name", SLACK)
def test_slack_escapes_applicant_text(renderer: Renderer, name: str) -> None:
    partner = make_partner(**HOSTILE_FIELDS)
    assert_slack_escaped(renderer.slack(name, slack_context(partner=partner, **SLACK_EXTRA[name])))


def test_partner_silent_suggests_a_check_in(renderer: Renderer) -> None:
    text = renderer.slack("partner_silent", slack_context(days=45))
    assert "45 days" in text
    assert "check-in" in text
    assert "+48 600 123 456" in text

    one = renderer.slack("partner_silent", slack_context(days=1))
    assert "1 day." in one
    assert "1 days" not in one


def test_tier_change_proposed_tells_how_to_decide(renderer: Renderer) -> None:
    text = renderer.slack("tier_change_proposed", slack_context(**SLACK_EXTRA["tier_change_proposed"]))

    assert "*silver*" in text
    assert "*gold*" in text
    assert "21,350.00 USD" in text
    assert "212" in text
    assert "top" in text
    assert f"POST {DASHBOARD_URL}/tier-decision" in text
    assert '{"approve": true}' in text
    assert '{"approve": false}' in text
    assert "7 days" in text
    assert "automatically" in text


def test_tier_change_proposed_for_a_partner_without_tier(renderer: Renderer) -> None:
    extra = SLACK_EXTRA["tier_change_proposed"] | {
        "current_tier": None,
        "segment": "long_tail",
        "deadline_days": 1,
    }
    text = renderer.slack("tier_change_proposed", slack_context(**extra))

    assert "None" not in text
    assert " from " not in text
    assert "long tail" in text
    assert "1 day," in text

    no_segment = renderer.slack("tier_change_proposed", slack_context(**(extra | {"segment": ""})))
    assert "Segment" not in no_segment
    assert "212\n" in no_segment


def test_tier_change_applied_names_who_decided(renderer: Renderer) -> None:
    by_manager = renderer.slack("tier_change_applied", slack_context(**SLACK_EXTRA["tier_change_applied"]))
    auto = renderer.slack(
        "tier_change_applied", slack_context(old_tier=None, new_tier="bronze", decided_by="auto")
    )
    escaped = renderer.slack(
        "tier_change_applied", slack_context(old_tier="silver", new_tier="gold", decided_by="<!channel>")
    )

    assert "Anna Kowalska" in by_manager
    assert "*silver*" in by_manager
    assert "*gold*" in by_manager
    assert "automatically" in auto
    assert "auto." not in auto
    assert "None" not in auto
    assert "<!channel>" not in escaped


def test_offboarding_proposed_tells_how_to_offboard(renderer: Renderer) -> None:
    text = renderer.slack("offboarding_proposed", slack_context(days_inactive=180))
    assert "180 days" in text
    assert f"POST {DASHBOARD_URL}/offboard" in text
    assert '{"reason": "..."}' in text
    assert "pausing" in text
    assert f"POST {DASHBOARD_URL}/pause" in text


def test_partner_offboarded_gives_reason_and_manager(renderer: Renderer) -> None:
    text = renderer.slack("partner_offboarded", slack_context(**SLACK_EXTRA["partner_offboarded"]))
    assert "No activity for six months" in text
    assert "Anna Kowalska" in text

    no_reason = renderer.slack("partner_offboarded", slack_context(reason="", manager="Anna"))
    assert "Reason" not in no_reason
    assert "Anna" in no_reason

    hostile = renderer.slack("partner_offboarded", slack_context(reason="<!channel> spam", manager="Anna"))
    assert "<!channel>" not in hostile
    assert "&lt;!channel&gt; spam" in hostile


# --- program_digest ------------------------------------------------------------------------


def test_program_digest_lists_everything(renderer: Renderer) -> None:
    text = digest(renderer)

    assert "Velocity Affiliates" in text
    assert "7 days" in text
    assert re.search(r"(?<!\d)5(?!\d)", text)
    for item in DIGEST["pending"]:
        assert item["name"] in text
        assert item["email"] in text
    assert "1 day" in text
    assert "4 days" in text
    for item in DIGEST["top_partners"]:
        line = next(line for line in text.splitlines() if item["name"] in line)
        assert item["revenue"] in line
    assert text.index("Nowak Cycling Blog") < text.index("Trail Reviews")  # ranked as given
    assert "Quiet Rider" in text
    assert "52 days" in text
    for stage, count in DIGEST["funnel"].items():
        assert f"{stage} {count}" in text
    assert "None" not in text
    assert "{{" not in text


def test_program_digest_with_empty_lists(renderer: Renderer) -> None:
    full = digest(renderer)
    empty = digest(
        renderer, new_applications=0, pending=[], funnel={}, top_partners=[], at_risk=[], period_days=1
    )

    assert "Velocity Affiliates" in empty
    assert "last day" in empty
    assert "1 days" not in empty
    for name in ("Jan Kowalski", "Nowak Cycling Blog", "Quiet Rider"):
        assert name not in empty
    assert "None" not in empty
    assert "\n\n\n" not in empty
    assert len(empty.splitlines()) <= len(full.splitlines())


def test_program_digest_escapes_names(renderer: Renderer) -> None:
    text = digest(
        renderer,
        pending=[{"name": "<!channel>", "email": "x@example.org", "waiting_days": 2}],
        top_partners=[{"name": "<https://evil.example|win>", "revenue": "1.00 USD"}],
        at_risk=[{"name": "A & B", "days_silent": 60}],
    )
    assert "<!channel>" not in text
    assert "<https://evil.example" not in text
    assert "A &amp; B" in text
