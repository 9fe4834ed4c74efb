"""The extra render context each engagement email gets from its sender (template tests, SendGrid test)."""

from __future__ import annotations

from typing import Any

TRACKING_URL = "https://partners.example.com/r/vel-k3x9q2"
UNSUBSCRIBE_URL = "https://partners.example.com/unsubscribe/eyJwIjoiN2YzYyJ9.Qa9z.sig"

RESOURCES = [
    {"title": "Velocity logo pack", "kind": "logo", "url": "https://cdn.example.com/kit/logos.zip"},
    {"title": "Spring sale banner 728x90", "kind": "banner", "url": "https://cdn.example.com/kit/spring.png"},
]
KPIS = {
    "clicks": "1,204",
    "conversions": "37",
    "revenue": "4,210.50 USD",
    "commission": "631.58 USD",
    "conversion_rate": "3.07 %",
    "epc": "0.5246 USD",
}
SCORECARD = {
    "period": {"start": "2026-01-01", "end": "2026-03-31"},
    "kpis": KPIS,
    "tier": "silver",
    "tier_changed": False,
    "previous_tier": None,
    "segment": "top",
}

EMAIL_EXTRA: dict[str, dict[str, Any]] = {
    "nudge_no_clicks": {
        "days_without_clicks": 14,
        "tracking_url": TRACKING_URL,
        "resources": RESOURCES,
        "unsubscribe_url": UNSUBSCRIBE_URL,
    },
    "nudge_tips": {
        "days_since_first_click": 30,
        "tracking_url": TRACKING_URL,
        "unsubscribe_url": UNSUBSCRIBE_URL,
    },
    "first_conversion": {"amount": "120.00 USD", "tracking_url": TRACKING_URL},
    "tier_close": {
        "next_tier": "gold",
        "revenue": "16,480.00 USD",
        "threshold": "20,000.00 USD",
        "unsubscribe_url": UNSUBSCRIBE_URL,
    },
    "scorecard": SCORECARD,
    "tier_changed": {"old_tier": "silver", "new_tier": "gold", "commission_rate": "20 %", "promoted": True},
    "farewell": {},
}
