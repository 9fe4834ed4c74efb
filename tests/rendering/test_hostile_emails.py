"""Every email template, in every locale, with hostile values in every field: no live markup.

Each string of the sample context (names, company, website, reasons, titles, resource and
webinar links, program, tiers...) is replaced by markup (``<script>``, ``"><img onerror>``...) or,
for URLs, by hostile schemes (``javascript:``, ``JaVaScRiPt:``, ``data:text/html``, tab- and
entity-obfuscated ones). The HTML is parsed as a browser would (``hostile.live_markup``): no
script, no event handler, no href or src outside http(s). The plain text shows what was typed.
"""

from __future__ import annotations

from itertools import cycle
from typing import Any

import pytest
from engagement_contexts import EMAIL_EXTRA as ENGAGEMENT_EXTRA
from hostile import MARKUP, URLS, hostile, live_markup, text_of
from onboarding_contexts import EMAIL_EXTRA as ONBOARDING_EXTRA
from template_contexts import REASON, email_context, partner_dict

from partnerflow.domain.stages import LOCALES
from partnerflow.rendering.templates import TEMPLATES_DIR, Renderer

MIGRATION = {"portal_url": "https://partners.example.com/portal/tok", "run_id": 1, "segment": "top",
             "lifetime_revenue": 1234.5, "phase": 2, "source": "rewardful", "source_name": "Rewardful",
             "legacy_code": "ada-7", "tracking_url": "https://partners.example.com/r/ada-7", "legacy_tier": "Gold"}  # fmt: skip
OUTREACH = {"prospect": {"name": "Łucja Wiśniewska", "company": "Rowerowo", "email": "lucja@example.pl",
                         "website": "https://rowerowo.example.pl"},
            "program": "Velocity Affiliates", "signup_url": "https://example.com/apply?program=velocity",
            "unsubscribe_url": "https://partners.example.com/outreach/unsubscribe/tok", "step": 1}  # fmt: skip
CONTEXTS: dict[str, dict[str, Any]] = {
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
# Keys templates use to look things up (a locale, a segment, a resource kind, a source, dates):
# they come from our own code, never from a partner.
KEEP = frozenset(
    {"locale", "segment", "kind", "source", "starts_at", "period", "created_at", "stage_changed_at"}
)
ROUNDS = max(len(MARKUP), len(URLS))  # over the rounds, every field gets every payload


def test_every_template_is_covered() -> None:
    assert {path.stem for path in (TEMPLATES_DIR / "emails" / "en").glob("*.html")} == set(CONTEXTS)


def hostile_context(name: str, locale: str, round_: int) -> dict[str, Any]:
    markup, urls = cycle(MARKUP[round_:] + MARKUP[:round_]), cycle(URLS[round_:] + URLS[:round_])
    partner = hostile(partner_dict(locale), markup, urls, KEEP)
    return email_context(partner, locale, **hostile(CONTEXTS[name], markup, urls, KEEP))


@pytest.mark.parametrize("round_", range(ROUNDS))
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", sorted(CONTEXTS))
def test_no_hostile_value_becomes_live_markup(
    renderer: Renderer, name: str, locale: str, round_: int
) -> None:
    context = hostile_context(name, locale, round_)
    email = renderer.email(name, locale, context)

    assert live_markup(email.html, styles_allowed=True) == []
    greeted = context["prospect"]["name"] if name.startswith("outreach") else context["partner"]["name"]
    assert greeted in text_of(email.html)  # shown as the text it is, not parsed as markup
    assert greeted in email.text
