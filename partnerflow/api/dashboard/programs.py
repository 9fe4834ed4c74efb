"""Programs: the list, and one program's funnel, weekly charts, top and at-risk partners."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import Engine

from partnerflow.api.dashboard import auth, charts, queries
from partnerflow.api.dashboard.views import not_found, render
from partnerflow.api.deps import EngineDep, SettingsDep
from partnerflow.api.routes import kpis as kpi_routes
from partnerflow.config import Settings
from partnerflow.store import performance
from partnerflow.store.db import session_scope
from partnerflow.store.models import utcnow

router = APIRouter()

WEEKS = 12
TOP_PERIOD = timedelta(days=30)
FUNNEL = ("applied", "approved", "onboarding", "active", "offboarded", "rejected")


@router.get("/programs")
def program_list(request: Request, session: auth.SessionDep, engine: EngineDep) -> Response:
    """Every program with its number of partners."""
    with session_scope(engine) as db:
        rows = queries.programs(db)
    return render(request, "programs", session, active="programs", programs=rows)


@router.get("/programs/{program}")
async def program_page(
    program: str, request: Request, session: auth.SessionDep, engine: EngineDep, settings: SettingsDep
) -> Response:
    """Onboarding funnel, weekly revenue and clicks (SVG + table), top and at-risk partners."""
    try:
        numbers = await run_in_threadpool(
            kpi_routes.program_kpis, program, engine, session.manager, None, None
        )
    except HTTPException as exc:
        if exc.status_code == 404:
            return not_found(request, session, f"Program {program!r}")
        raise
    context = await run_in_threadpool(_context, engine, settings, program, utcnow())
    return render(request, "program", session, active="programs", program=program, kpis=numbers, **context)


def _context(engine: Engine, settings: Settings, program: str, now: datetime) -> dict[str, Any]:
    with session_scope(engine) as db:
        counts = queries.stage_counts(db, program)
        weeks = queries.weekly_totals(db, program, now, WEEKS)
        top = queries.top_partners(db, program, now - TOP_PERIOD, now)
        silent_days = queries.engagement_rules(db, settings, program).silent_days
        risky = queries.at_risk(db, program, silent_days, now)
        currency = performance.program_currency(db, program)
    labels = [f"{start:%b} {start.day}" for start, _ in weeks]
    revenue = [(label, totals.net_revenue) for label, (_, totals) in zip(labels, weeks, strict=True)]
    clicks = [(label, float(totals.clicks)) for label, (_, totals) in zip(labels, weeks, strict=True)]
    return {
        "funnel": [{"stage": stage, "count": counts.get(stage, 0)} for stage in FUNNEL],
        "funnel_max": max([*counts.values(), 1]),
        "revenue_chart": charts.bar_chart(
            "chart-revenue", "Weekly net revenue", currency, revenue, lambda value: f"{value:,.0f}"
        ),
        "clicks_chart": charts.bar_chart("chart-clicks", "Weekly clicks", "", clicks),
        "weeks": [
            {"label": label, "start": start, "totals": totals}
            for label, (start, totals) in zip(labels, weeks, strict=True)
        ],
        "top": top,
        "at_risk": risky,
        "silent_days": silent_days,
        "currency": currency,
    }
