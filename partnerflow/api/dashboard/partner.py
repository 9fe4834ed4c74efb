"""One partner: profile, live checklist, KPIs with trend, timeline, link to the Temporal UI."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import Engine
from temporalio.client import WorkflowQueryFailedError, WorkflowQueryRejectedError
from temporalio.service import RPCError

from partnerflow.api.dashboard import auth
from partnerflow.api.dashboard.views import not_found, render
from partnerflow.api.deps import EngineDep, SettingsDep
from partnerflow.api.routes import kpis as kpi_routes
from partnerflow.api.routes import partners as partner_routes
from partnerflow.api.schemas import PartnerDetail
from partnerflow.config import Settings
from partnerflow.domain.lifecycle import workflow_id_for
from partnerflow.domain.stages import CHECKLIST_ITEMS
from partnerflow.services.audit import partner_trail
from partnerflow.store import outbox
from partnerflow.store.db import session_scope
from partnerflow.store.models import Application, OutboxMessage, Partner, utcnow

log = logging.getLogger(__name__)
router = APIRouter()

LIVE_TIMEOUT = timedelta(seconds=5)
CHECKLIST_LABELS = {
    "terms_accepted": "Terms accepted",
    "kit_delivered": "Welcome kit delivered",
    "tracking_link_issued": "Tracking link issued",
    "webinar_attended": "Onboarding webinar attended (or waived)",
}
EVENT_TITLES = {"stage": "Stage changed to"}
KPI_ROWS = (  # (field, label, format)
    ("clicks", "Clicks", "number"),
    ("conversions", "Conversions", "number"),
    ("revenue", "Net revenue", "money"),
    ("commission", "Commission", "money"),
    ("conversion_rate", "Conversion rate", "percent"),
    ("epc", "Earnings per click", "money4"),
)


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    source: str  # Workflow | Message | Application | Decision
    title: str
    detail: str = ""


@router.get("/partners/{partner_id}")
async def partner_page(
    partner_id: str, request: Request, session: auth.SessionDep, engine: EngineDep, settings: SettingsDep
) -> Response:
    """Everything about one partner on one page."""
    stored = await run_in_threadpool(_stored, engine, partner_id)
    if stored is None:
        return not_found(request, session, f"Partner {partner_id!r}")
    partner, application, messages = stored
    live = await _live(request, engine, partner_id, session.manager)
    numbers = await run_in_threadpool(
        kpi_routes.partner_kpis, partner_id, engine, session.manager, None, None
    )
    kpis: list[dict[str, Any]] = [
        {
            "key": key,
            "label": label,
            "format": fmt,
            "value": getattr(numbers, key),
            "trend": numbers.trend.get(key),
        }
        for key, label, fmt in KPI_ROWS
    ]
    checklist = checklist_rows(live) if live else []
    trail = await partner_trail(engine, None, partner_id, live.history if live else None)
    return render(
        request,
        "partner",
        session,
        partner=partner,
        application=application,
        stage=live.stage if live else partner.stage,
        tier=(live.tier if live else None) or partner.tier or "—",
        live=live is not None,
        checklist=checklist,
        kpis=kpis,
        kpi_period=numbers,
        timeline=timeline(live, application, messages),
        workflow_id=workflow_id_for(partner.id),
        workflow_url=temporal_url(settings, partner.id),
        now=utcnow(),
        audit=trail.entries if trail else [],
        audit_timeline=live is not None,
        paused=bool(live and live.paused),
        tier_proposal=live.tier_proposal if live else None,
    )


def checklist_rows(live: PartnerDetail) -> list[dict[str, Any]]:
    """The checklist as the workflow has it; ``waived`` when a manager waived the item (its timeline
    entry says so: the workflow keeps a waived item as done)."""
    waived = {
        entry.detail.split(":", 1)[0]
        for entry in live.history
        if entry.event == "checklist" and ": waived by " in entry.detail
    }
    return [
        {
            "key": key,
            "label": CHECKLIST_LABELS.get(key, key),
            "done": bool(live.checklist.get(key)),
            "waived": bool(live.checklist.get(key)) and key in waived,
        }
        for key in CHECKLIST_ITEMS
    ]


def temporal_url(settings: Settings, partner_id: str) -> str:
    """The partner's workflow in the Temporal web UI (as the manager emails link it)."""
    return (
        f"{settings.temporal_ui_url.rstrip('/')}/namespaces/{quote(settings.temporal_namespace, safe='')}"
        f"/workflows/{quote(workflow_id_for(partner_id), safe='')}"
    )


async def _live(request: Request, engine: Engine, partner_id: str, manager: str) -> PartnerDetail | None:
    """The workflow's own view (the manager API's ``GET /partners/{id}``); None when it can't answer."""
    client = request.app.state.temporal
    if client is None:
        return None
    try:
        return await asyncio.wait_for(
            partner_routes.get_partner(partner_id, engine, client, manager), LIVE_TIMEOUT.total_seconds()
        )
    except (
        RPCError,
        WorkflowQueryFailedError,
        WorkflowQueryRejectedError,
        TimeoutError,
        HTTPException,
    ) as exc:
        log.warning("live status of partner %s not available (%s); showing the stored stage", partner_id, exc)
        return None


def _stored(
    engine: Engine, partner_id: str
) -> tuple[Partner, Application | None, list[OutboxMessage]] | None:
    with session_scope(engine) as db:
        partner = db.get(Partner, partner_id)
        if partner is None:
            return None
        application = db.get(Application, partner_id)
        messages = outbox.list_messages(db, partner_id=partner_id, limit=200)
    return partner, application, messages


def timeline(
    live: PartnerDetail | None, application: Application | None, messages: list[OutboxMessage]
) -> list[TimelineItem]:
    """Workflow history, messages and the application's decision, oldest first."""
    items: list[TimelineItem] = []
    if application is not None:
        items.append(TimelineItem(application.submitted_at, "Application", "Application submitted"))
        if application.decided_at is not None:
            shared = " (shared with the applicant)" if application.share_reason else ""
            reason = f"Reason: {application.reason}{shared}" if application.reason else "No reason given"
            items.append(
                TimelineItem(
                    application.decided_at,
                    "Decision",
                    f"Application {application.status} by {application.decided_by or 'unknown'}",
                    reason,
                )
            )
    for entry in live.history if live else []:
        try:
            at = datetime.fromisoformat(entry.at)
        except ValueError:
            continue
        title = EVENT_TITLES.get(entry.event) or entry.event.replace("_", " ").capitalize()
        items.append(TimelineItem(at, "Workflow", title, entry.detail))
    for message in messages:
        what = (
            f"{message.channel.capitalize()} “{message.template}” to {message.recipient} ({message.status})"
        )
        detail = message.subject + (f" — error: {message.error}" if message.status == "failed" else "")
        items.append(TimelineItem(message.sent_at or message.created_at, "Message", what, detail))
    return sorted(items, key=lambda item: item.at)
