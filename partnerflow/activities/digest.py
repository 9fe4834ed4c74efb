"""The weekly program digest for managers: funnel, pending decisions, top and at-risk partners."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import col, select
from temporalio import activity

from partnerflow.config import Settings
from partnerflow.store import partners as partner_store
from partnerflow.store import performance
from partnerflow.store.db import session_scope
from partnerflow.store.models import Partner, PerformanceEvent

DIGEST_DAYS = 7


@dataclass
class DigestRequest:
    now: datetime


@dataclass
class ProgramDigest:
    program: str
    context: dict[str, Any] = field(default_factory=dict)


class DigestActivities:
    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine

    @activity.defn(name="program_digests")
    def program_digests(self, request: DigestRequest) -> list[ProgramDigest]:
        """One digest per program that has partners."""
        now, since = request.now, request.now - timedelta(days=DIGEST_DAYS)
        with session_scope(self.engine) as session:
            programs = list(session.exec(select(Partner.program).distinct().order_by(col(Partner.program))))
            return [self._digest(session, program, now, since) for program in programs]

    def _digest(self, session: Any, program: str, now: datetime, since: datetime) -> ProgramDigest:
        funnel = dict(
            session.exec(
                select(Partner.stage, func.count())
                .where(Partner.program == program)
                .group_by(col(Partner.stage))
            ).all()
        )
        new = session.exec(
            select(func.count()).where(Partner.program == program, col(Partner.created_at) >= since)
        ).one()
        pending = [
            {"name": p.name, "email": p.email, "waiting_days": (now - a.submitted_at).days}
            for a, p in partner_store.oldest_pending_applications(session, program, limit=10)
        ]
        revenue = performance.revenue_by_partner(session, program, now - timedelta(days=30), now)
        currency = performance.program_currency(session, program)
        names = dict(session.exec(select(Partner.id, Partner.name).where(Partner.program == program)).all())
        top = sorted(((v, k) for k, v in revenue.items() if v > 0), reverse=True)[:5]
        last_event = dict(
            session.exec(
                select(PerformanceEvent.partner_id, func.max(PerformanceEvent.occurred_at))
                .join(Partner, col(Partner.id) == col(PerformanceEvent.partner_id))
                .where(Partner.program == program)
                .group_by(col(PerformanceEvent.partner_id))
            ).all()
        )
        silent_days = self.settings.engagement.silent_days
        at_risk = []
        for partner in session.exec(
            select(Partner).where(Partner.program == program, Partner.stage == "active")
        ):
            last = last_event.get(partner.id) or partner.stage_changed_at
            last = last if last.tzinfo else last.replace(tzinfo=now.tzinfo)
            if (now - last).days >= silent_days:
                at_risk.append({"name": partner.name, "days_silent": (now - last).days})
        return ProgramDigest(
            program=program,
            context={
                "program": program,
                "period_days": DIGEST_DAYS,
                "new_applications": int(new),
                "pending": pending,
                "funnel": funnel,
                "top_partners": [
                    {"name": names.get(pid, pid), "revenue": f"{v:,.2f} {currency}"} for v, pid in top
                ],
                "at_risk": sorted(at_risk, key=lambda item: -item["days_silent"])[:10],
            },
        )
