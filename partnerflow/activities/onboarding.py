"""Onboarding activities: tracking links, the resource kit, webinar seats."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from temporalio import activity

from partnerflow.activities.lookup import require_partner
from partnerflow.config import Settings
from partnerflow.domain.onboarding import Kit, NoShow, WebinarInvite, WebinarSession
from partnerflow.store import onboarding as store
from partnerflow.store.db import session_scope
from partnerflow.store.models import Webinar


class OnboardingActivities:
    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine

    @activity.defn(name="prepare_kit")
    def prepare_kit(self, partner_id: str) -> Kit:
        """Issue the partner's tracking link (once) and list their resources."""
        with session_scope(self.engine) as session:
            partner = require_partner(session, partner_id)
            store.ensure_program(session, partner.program, self.settings.default_landing_url)
            link = store.issue_tracking_link(session, partner)
            resources = store.resources_for(session, partner.program, partner.locale, partner.tier)
            return Kit(
                tracking_code=link.code,
                tracking_url=self.settings.tracking_url(link.code),
                resources=[{"title": r.title, "kind": r.kind, "url": r.url} for r in resources],
            )

    @activity.defn(name="reserve_webinar_seat")
    def reserve_webinar_seat(self, invite: WebinarInvite) -> WebinarSession | None:
        """A seat in the next session with room (None when there is none)."""
        with session_scope(self.engine) as session:
            partner = require_partner(session, invite.partner_id)
            found = store.reserve_next_seat(session, partner, invite.exclude, invite.after)
            return session_view(found[0]) if found else None

    @activity.defn(name="mark_no_show")
    def mark_no_show(self, no_show: NoShow) -> bool:
        """Mark a missed session; False when attendance was recorded meanwhile."""
        with session_scope(self.engine) as session:
            seat = store.seat_of(session, no_show.webinar_id, no_show.partner_id)
            if seat is None or seat.status == "attended":
                return False
            seat.status = "no_show"
            session.add(seat)
            return True


def session_view(webinar: Webinar) -> WebinarSession:
    assert webinar.id is not None
    return WebinarSession(
        webinar_id=webinar.id,
        title=webinar.title,
        starts_at=webinar.starts_at,
        ends_at=webinar.starts_at + timedelta(minutes=webinar.duration_minutes),
        join_url=webinar.join_url,
        sequence=webinar.sequence,
    )
