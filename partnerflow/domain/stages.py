"""Partner lifecycle stages and the onboarding checklist."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    APPLIED = "applied"
    APPROVED = "approved"
    REJECTED = "rejected"
    ONBOARDING = "onboarding"
    ACTIVE = "active"
    OFFBOARDED = "offboarded"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


LOCALES = ("en", "fr", "de", "pl")
DEFAULT_LOCALE = "en"

# Onboarding checklist items, in the order a partner meets them (filled in by the onboarding stage).
CHECKLIST_ITEMS = ("terms_accepted", "kit_delivered", "tracking_link_issued", "webinar_attended")


def empty_checklist() -> dict[str, bool]:
    return dict.fromkeys(CHECKLIST_ITEMS, False)
