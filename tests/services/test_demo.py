"""The demo program `partnerflow dev` creates on a fresh data dir (terms, a resource, a webinar)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import select

from partnerflow.config import Settings
from partnerflow.services.demo import DEMO_PROGRAM, ensure_demo_program
from partnerflow.store import onboarding
from partnerflow.store.db import session_scope
from partnerflow.store.models import Resource, Webinar, utcnow


def test_fresh_store_gets_terms_a_resource_and_an_upcoming_webinar(
    engine: Engine, settings: Settings
) -> None:
    created = ensure_demo_program(engine, settings)

    assert created and created[0] == "terms v1"
    with session_scope(engine) as session:
        terms = onboarding.current_terms(session, DEMO_PROGRAM)
        assert terms is not None and terms.version == 1 and "20 %" in terms.body_markdown
        assert [r.title for r in session.exec(select(Resource))] == ["Brand kit (logos and banners)"]
        webinars = list(session.exec(select(Webinar)))
        assert len(webinars) == 1 and webinars[0].capacity > 0
        starts = webinars[0].starts_at
        assert utcnow() + timedelta(days=6) < starts.replace(tzinfo=starts.tzinfo or utcnow().tzinfo)


def test_a_program_with_terms_is_left_alone(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as session:
        onboarding.ensure_program(session, DEMO_PROGRAM, settings.default_landing_url)
        onboarding.publish_terms(session, DEMO_PROGRAM, "Our own terms", "Be nice.", by="alice")

    assert ensure_demo_program(engine, settings) == []
    assert ensure_demo_program(engine, settings) == []  # and a restart adds nothing either
    with session_scope(engine) as session:
        assert onboarding.current_terms(session, DEMO_PROGRAM).title == "Our own terms"  # type: ignore[union-attr]
        assert not list(session.exec(select(Webinar)))
