"""What the partner's portal page shows: checklist, terms, resources, tracking link, webinar."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import select

from partnerflow.api.portal_text import locale_for, texts
from partnerflow.config import Settings
from partnerflow.domain.lifecycle import PartnerStatus
from partnerflow.domain.stages import CHECKLIST_ITEMS
from partnerflow.rendering.calendar import webinar_context
from partnerflow.store import onboarding
from partnerflow.store.db import session_scope
from partnerflow.store.models import Partner, TrackingLink


def page_context(engine: Engine, settings: Settings, partner: Partner, live: PartnerStatus) -> dict[str, Any]:
    """The template context of portal/page.html for ``partner``, whose live status the workflow gave."""
    t = texts(locale_for(partner.locale))
    with session_scope(engine) as session:
        terms = onboarding.current_terms(session, partner.program)
        accepted = onboarding.acceptance_of(session, partner.id, terms) if terms else None
        latest = onboarding.latest_acceptance(session, partner.id)
        tier = live.tier or partner.tier
        resources = onboarding.resources_for(session, partner.program, partner.locale, tier)
        link = session.exec(select(TrackingLink).where(TrackingLink.partner_id == partner.id)).first()
        seat = onboarding.upcoming_seat(session, partner.id)
    # The store knows of an acceptance before the workflow has taken the signal (or when it can't answer).
    done = live.checklist | ({"terms_accepted": True} if accepted else {})
    checklist = [
        {"key": key, "label": t.get(f"item.{key}", key), "done": bool(done.get(key))}
        for key in CHECKLIST_ITEMS
    ]
    outdated = terms and not accepted and latest and latest.version < terms.version
    return {
        "partner_name": partner.name,
        "stage": t.get(f"stage.{live.stage.value}", live.stage.value),
        "checklist": checklist,
        "done": sum(item["done"] for item in checklist),
        "total": len(checklist),
        "terms": terms,
        "accepted": accepted
        and {"version": accepted.version, "date": accepted.accepted_at.date().isoformat()},
        "outdated_version": latest.version if outdated and latest else None,
        "resources": resources,
        "tracking_url": settings.tracking_url(link.code) if link else None,
        "webinar": webinar_context(seat[0], partner.locale) if seat else None,
    }
