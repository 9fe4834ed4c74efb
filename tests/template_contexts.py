"""Render contexts shaped like the ones ``MessagingActivities`` builds, for the template tests."""

from __future__ import annotations

from typing import Any

PORTAL_URL = "https://partners.example.com/portal/eyJwIjoiN2YzYzFhMmI0ZDVlNmY3OCJ9.Zx1a2b.sig"
DASHBOARD_URL = "https://partners.example.com/partners/7f3c1a2b4d5e6f78"
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
