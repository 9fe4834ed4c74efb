"""A demo program for `partnerflow dev`, so a fresh data dir can run the README tour end to end."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import select

from partnerflow.config import Settings
from partnerflow.store import onboarding as store
from partnerflow.store.db import session_scope
from partnerflow.store.models import Resource, TermsVersion, Webinar, utcnow

DEMO_PROGRAM = "default"
DEMO_TERMS = """# Partner terms (demo)

1. You promote the product honestly and never bid on our brand name.
2. You earn **20 %** of every paid conversion that your tracking link brings, paid monthly.
3. Either side may end the partnership with 30 days' notice.

*These demo terms were created by `partnerflow dev`; publish your own with `POST /programs/default/terms`.*
"""


def ensure_demo_program(engine: Engine, settings: Settings) -> list[str]:
    """Terms, a resource and an upcoming webinar for the default program, unless it has any terms.

    Returns what was created (empty when the data dir already had a program set up).
    """
    with session_scope(engine) as session:
        if session.exec(select(TermsVersion).where(TermsVersion.program == DEMO_PROGRAM)).first():
            return []
        store.ensure_program(session, DEMO_PROGRAM, settings.default_landing_url)
        terms = store.publish_terms(session, DEMO_PROGRAM, "Partner terms (demo)", DEMO_TERMS, by="dev")
        session.add(
            Resource(
                program=DEMO_PROGRAM,
                title="Brand kit (logos and banners)",
                kind="guide",
                url=f"{settings.default_landing_url.rstrip('/')}/brand-kit",
            )
        )
        starts = (utcnow() + timedelta(days=7)).replace(hour=16, minute=0, second=0, microsecond=0)
        session.add(
            Webinar(
                title="Partner onboarding (demo)",
                starts_at=starts,
                join_url="https://meet.example.com/partner-onboarding",
                capacity=100,
                program=DEMO_PROGRAM,
            )
        )
    return [
        f"terms v{terms.version}",
        "resource 'Brand kit'",
        f"webinar on {starts:%Y-%m-%d %H:%M} UTC",
    ]
