"""What the partner's self-serve page shows: KPIs of the current review period with their trend,
tier and progress to the next, the link builder, webinar history, resources and email preferences.

The numbers are the manager KPI endpoint's: the store's aggregates and ``domain.kpis`` at the
partner's tier rate. The current period is the review period under way (since the last review,
else since the partner became active, else the last ``review_period_days``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, select

from partnerflow.config import Settings
from partnerflow.domain.deep_links import DeepLinkError, landing_link, landing_path, tracking_link
from partnerflow.domain.engagement import program_rules
from partnerflow.domain.kpis import kpis
from partnerflow.domain.stages import Stage
from partnerflow.domain.tier_progress import Measure, tier_progress
from partnerflow.domain.urls import is_http_url
from partnerflow.rendering.calendar import webinar_context
from partnerflow.rendering.numbers import format_number
from partnerflow.store import onboarding, performance
from partnerflow.store.models import Partner, Program, TrackingLink, Webinar, WebinarSeat, utcnow
from partnerflow.store.portal import last_review_end, webinar_history

KPI_ROWS = (  # (key, digits, money)
    ("clicks", 0, False),
    ("conversions", 0, False),
    ("revenue", 2, True),
    ("commission", 2, True),
    ("epc", 4, True),
)


def account_context(
    session: Session, settings: Settings, partner: Partner, tier_name: str | None, to: str | None
) -> dict[str, Any]:
    """Everything ``templates/portal/_account.html`` shows (the words are the locale's)."""
    now, locale = utcnow(), partner.locale
    program = session.get(Program, partner.program)
    rules = program_rules(settings.engagement, program.engagement_rules if program else None)
    begin = _period_start(session, partner, now, rules.review_period)
    tiers = performance.tier_rules(session, partner.program)
    tier = performance.tier_for(tier_name or partner.tier, tiers)
    totals = performance.totals(session, begin, now, partner_id=partner.id)
    before = performance.totals(session, begin - (now - begin), begin, partner_id=partner.id)
    numbers = kpis(totals, tier.commission_rate, previous=before)
    currency = performance.program_currency(session, partner.program)
    link = session.exec(select(TrackingLink).where(TrackingLink.partner_id == partner.id)).first()
    landing = program.landing_url if program else settings.default_landing_url
    progress = tier_progress(totals, tier, tiers)
    return {
        "partner_name": partner.name,
        "period": {
            "start": begin.date().isoformat(),
            "review": (begin + rules.review_period).date().isoformat(),
        },
        "currency": currency,
        "kpis": [
            _kpi(key, getattr(numbers, key), numbers.trend.get(key), digits, locale)
            for key, digits, _ in KPI_ROWS
        ],
        "money": {key for key, _, money in KPI_ROWS if money},
        "tier": {
            "name": tier.name,
            "rate": format_number(tier.commission_rate * 100, locale, 1),
            "next": progress.next
            and {
                "name": progress.next.name,
                "rate": format_number(progress.next.commission_rate * 100, locale, 1),
            },
            "revenue": _measure(progress.revenue, locale, 2),
            "conversions": _measure(progress.conversions, locale, 0),
        },
        "links": _links(settings, link, landing, to),
        "webinars": [
            _webinar(webinar, seat, locale, now) for webinar, seat in webinar_history(session, partner.id)
        ],
        "resources": [
            {"title": r.title, "kind": r.kind, "href": r.url if is_http_url(r.url) else None}
            for r in onboarding.resources_for(session, partner.program, locale, tier.name)
        ],
        "subscribed": partner.unsubscribed_at is None,
    }


def _period_start(session: Session, partner: Partner, now: datetime, period: Any) -> datetime:
    ended = last_review_end(session, partner.id)
    if ended is not None and ended < now:
        return ended
    if partner.stage == Stage.ACTIVE and partner.stage_changed_at < now:
        return partner.stage_changed_at
    return now - period


def _kpi(key: str, value: float | None, change: float | None, digits: int, locale: str) -> dict[str, Any]:
    direction = None if change is None else "same" if change == 0 else "up" if change > 0 else "down"
    return {
        "key": key,
        "value": format_number(value, locale, digits),
        "direction": direction,
        "change": format_number(abs(change), locale, 1) if change is not None else "",
    }


def _measure(measure: Measure | None, locale: str, digits: int) -> dict[str, Any] | None:
    if measure is None:
        return None
    return {
        "now": format_number(measure.now, locale, digits),
        "needed": format_number(measure.needed, locale, digits),
        "percent": round(measure.share * 100),
    }


def _links(settings: Settings, link: TrackingLink | None, landing: str, to: str | None) -> dict[str, Any]:
    """The link builder: the partner's links to the page ``to`` names on the landing site."""
    host = urlsplit(landing).hostname or landing
    if link is None:
        return {"tracking_url": None, "host": host, "to": to or "", "built": None, "error": None}
    tracking = settings.tracking_url(link.code)
    built, error = None, None
    if to is not None and to.strip():
        try:
            path = landing_path(landing, to)
            built = {
                "tracking": tracking_link(tracking, path),
                "direct": landing_link(landing, path, link.code),
            }
        except DeepLinkError as exc:
            error = exc.kind
    return {"tracking_url": tracking, "host": host, "to": to or "", "built": built, "error": error}


def _webinar(webinar: Webinar, seat: WebinarSeat, locale: str, now: datetime) -> dict[str, Any]:
    if seat.status == "attended":
        status = "attended"
    elif webinar.cancelled_at is not None:
        status = "cancelled"
    elif seat.status == "invited" and webinar.starts_at > now:
        status = "upcoming"
    else:
        status = "missed"
    context = webinar_context(webinar, locale)
    return {"title": webinar.title, "when": context["starts_at_local"], "status": status}
