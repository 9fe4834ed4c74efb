"""The extra render context each onboarding email gets from its sender (template tests, SendGrid test)."""

from __future__ import annotations

from typing import Any

TRACKING_URL = "https://partners.example.com/r/vel-k3x9q2"

RESOURCES = [
    {"title": "Velocity logo pack", "kind": "logo", "url": "https://cdn.example.com/kit/logos.zip"},
    {"title": "Spring sale banner 728x90", "kind": "banner", "url": "https://cdn.example.com/kit/spring.png"},
    {"title": "Getting started guide", "kind": "guide", "url": "https://cdn.example.com/kit/guide.pdf"},
]
WEBINAR = {
    "id": 12,
    "title": "Velocity partner onboarding",
    "starts_at": "2026-12-01T15:00:00+00:00",
    "starts_at_local": "Tue 1 Dec 2026, 16:00 (Europe/Warsaw)",
    "join_url": "https://meet.example.com/j/velocity-onboarding-8841",
    "duration_minutes": 45,
}

EMAIL_EXTRA: dict[str, dict[str, Any]] = {
    "terms_reminder": {"reminder_number": 1},
    "welcome_kit": {"tracking_url": TRACKING_URL, "resources": RESOURCES},
    "webinar_invite": {"webinar": WEBINAR, "attempt": 1},
    "webinar_reminder": {"webinar": WEBINAR, "hours_before": 24},
    "webinar_updated": {"webinar": WEBINAR, "moved": True},
    "webinar_cancelled": {"webinar": WEBINAR, "reinvite": True},
    "onboarding_complete": {"tracking_url": TRACKING_URL},
    "terms_updated": {"version": 2},
    "portal_link": {},
}
