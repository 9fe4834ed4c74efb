"""Render contexts shaped like the ones ``MessagingActivities`` builds, for the template tests."""

from __future__ import annotations

from typing import Any

PORTAL_URL = "https://partners.example.com/portal/eyJwIjoiN2YzYzFhMmI0ZDVlNmY3OCJ9.Zx1a2b.sig"
DASHBOARD_URL = "https://partners.example.com/partners/7f3c1a2b4d5e6f78"
REASON = "Your website does not publish any content about cycling yet."
WORKFLOW_URL = "http://temporal.example.com:8233/namespaces/default/workflows/partner-7f3c1a2b4d5e6f78"


def partner_dict(locale: str = "en", **overrides: Any) -> dict[str, Any]:
    """A partner as ``Partner.model_dump(mode="json")`` gives it (an applicant by default)."""
    partner: dict[str, Any] = {
        "id": "7f3c1a2b4d5e6f78",
        "program": "Velocity Affiliates",
        "email": "marta.nowak@example.org",
        "name": "Marta Nowak",
        "company": "Nowak Cycling Blog",
        "website": "https://nowak-cycling.example.org",
        "phone": "+48 600 123 456",
        "locale": locale,
        "source": "newsletter",
        "stage": "applied",
        "tier": None,
        "created_at": "2025-03-03T09:15:42.123456Z",
        "stage_changed_at": "2025-03-03T09:15:42.123456Z",
    }
    return partner | overrides


def links() -> dict[str, str]:
    return {
        "portal_url": PORTAL_URL,
        "dashboard_url": DASHBOARD_URL,
        "api_url": DASHBOARD_URL,
        "workflow_url": WORKFLOW_URL,
    }


def email_context(partner: dict[str, Any], locale: str, **extra: Any) -> dict[str, Any]:
    return {"partner": partner, **links(), "locale": locale} | extra


def slack_context(
    partner: dict[str, Any], public_url: str = "https://partners.example.com/", **extra: Any
) -> dict[str, Any]:
    settings = {"public_url": public_url, "temporal_ui_url": "http://temporal.example.com:8233"}
    return {"settings": settings, "partner": partner, **links()} | extra


# Text an applicant could type to post a mention or a fake link into the managers' channel.
HOSTILE_FIELDS = {
    "name": "Eve <!channel> & <https://evil.example|click>",
    "company": "<!here>",
    "phone": "<tel:1>",
}
ABSENT_FIELDS = {"company": None, "website": None, "source": None, "phone": None}


def assert_slack_escaped(text: str) -> None:
    """Nothing the applicant typed becomes a Slack mention or link; their name shows, escaped."""
    assert "<!channel>" not in text
    assert "<!here>" not in text
    assert "<https://evil.example" not in text
    assert "<tel:" not in text
    assert "Eve &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in text


def assert_slack_without_optional_fields(text: str) -> None:
    assert "Marta Nowak" in text
    assert "None" not in text
    assert ", )" not in text


HTML_HOSTILE_FIELDS = {"name": "<script>x</script>", "company": "<b>Evil & Co</b>"}


def assert_no_missing_values(email: Any) -> None:
    """Rendered with ABSENT_FIELDS: no "None", and the (absent) company is not mentioned."""
    for rendered in (email.subject, email.text, email.html):
        assert "None" not in rendered
        assert "Nowak Cycling Blog" not in rendered


def assert_html_escaped(email: Any) -> None:
    """Rendered with HTML_HOSTILE_FIELDS: escaped in HTML, shown as typed in plain text."""
    assert "&lt;script&gt;x&lt;/script&gt;" in email.html
    assert "<script>" not in email.html
    assert "<b>Evil" not in email.html
    assert "<script>x</script>" in email.text


def assert_english_fallback(spanish: Any, english: Any) -> None:
    assert spanish.subject == english.subject
    assert spanish.text == english.text
    assert 'lang="en"' in spanish.html
