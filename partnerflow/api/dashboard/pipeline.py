"""The pipeline board, pending applications, and the approve/reject forms (post/redirect/get)."""

from __future__ import annotations

import logging
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import Engine
from temporalio.client import RPCTimeoutOrCancelledError
from temporalio.service import RPCError

from partnerflow.api.bounds import Cursor
from partnerflow.api.dashboard import auth, queries
from partnerflow.api.dashboard.views import PAGE_SIZE, KeysetNav, not_found, render
from partnerflow.api.deps import EngineDep, SettingsDep
from partnerflow.api.errors import unprocessable
from partnerflow.api.routes import partners as partner_routes
from partnerflow.api.schemas import DecisionBody, DecisionResponse
from partnerflow.domain import cursors
from partnerflow.domain.cursors import Position
from partnerflow.domain.stages import Stage
from partnerflow.services.temporal import TemporalUnavailable
from partnerflow.store.db import session_scope
from partnerflow.store.models import Partner, utcnow

log = logging.getLogger(__name__)
router = APIRouter()

APPLICATIONS = f"{auth.PATH}/applications"
PIPELINE_CURSOR = "pipeline"
# The board is an overview: the longest-waiting few per stage (300 rows took most of its time to
# render); a column's Next page continues in that stage's own page, 50 at a time.
BOARD_SIZE = 20
APPLICATIONS_CURSOR = "applications"


@router.get("")
def pipeline(
    request: Request,
    session: auth.SessionDep,
    engine: EngineDep,
    stage: str | None = None,
    cursor: Cursor = None,
) -> Response:
    """Partners by stage with counts and time in stage; ``?stage=`` pages through one stage."""
    stages = [s.value for s in queries.BOARD_STAGES]
    if stage is not None and stage not in stages:
        return not_found(request, session, f"Stage {stage!r}")
    after = _position(PIPELINE_CURSOR, cursor if stage else None)
    with session_scope(engine) as db:
        counts = queries.stage_counts(db)
        # ``approved`` is a stage partners pass through in seconds: a column only when someone is in it.
        shown = [name for name in stages if name != Stage.APPROVED.value or counts[name]]
        if stage:
            pages = {stage: queries.partners_in_stage(db, stage, after, PAGE_SIZE)}
        else:
            pages = queries.board(db, shown, BOARD_SIZE)
        columns: list[dict[str, Any]] = [
            {
                "stage": name,
                "count": counts[name],
                "partners": rows.rows,
                "nav": KeysetNav.of(auth.PATH, PIPELINE_CURSOR, rows.next, after, stage=name),
            }
            for name, rows in pages.items()
        ]
    return render(
        request,
        "pipeline",
        session,
        active="pipeline",
        counts=counts,
        total=sum(counts.values()),
        columns=columns,
        selected=stage,
        now=utcnow(),
    )


@router.get("/applications")
def applications(
    request: Request,
    session: auth.SessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    cursor: Cursor = None,
) -> Response:
    """Pending applications, oldest first; those waiting longer than the reminder are overdue."""
    now = utcnow()
    after = _position(APPLICATIONS_CURSOR, cursor)
    with session_scope(engine) as db:
        total = queries.pending_count(db)
        pending = queries.pending_applications(db, after, PAGE_SIZE)
    rows = [
        {"application": row, "partner": row, "overdue": now - row.submitted_at > settings.approval_reminder}
        for row in pending.rows
    ]
    overdue_days = settings.approval_reminder.total_seconds() / 86_400
    return render(
        request,
        "applications",
        session,
        active="applications",
        rows=rows,
        total=total,
        paging=KeysetNav.of(APPLICATIONS, APPLICATIONS_CURSOR, pending.next, after),
        back=APPLICATIONS + (f"?{urlencode({'cursor': cursor})}" if cursor else ""),
        overdue_after=f"{overdue_days:g} days",
        now=now,
    )


def _position(kind: str, cursor: str | None) -> Position | None:
    try:
        return cursors.decode(kind, cursor) if cursor else None
    except cursors.BadCursor as exc:
        raise unprocessable(str(exc), "query", "cursor") from exc


@router.post("/applications/{partner_id}/decision")
async def decide(
    partner_id: str,
    request: Request,
    session: auth.CsrfSessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    decision: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    share_reason: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Approve or reject through the workflow update (as ``POST /partners/{id}/decision``)."""
    response = RedirectResponse(auth.safe_next(next) if next else APPLICATIONS, status.HTTP_303_SEE_OTHER)
    kind, message = await _decide(
        request, engine, session.manager, partner_id, decision, reason, share_reason
    )
    auth.flash(response, settings, kind, message)
    return response


async def _decide(
    request: Request, engine: Engine, manager: str, partner_id: str, decision: str, reason: str, share: str
) -> tuple[str, str]:
    """``(flash kind, message)`` for the decision's outcome."""
    partner = await run_in_threadpool(_load, engine, partner_id)
    if partner is None:
        return "error", f"There is no partner {partner_id}."
    who = f"{partner.name} ({partner.email})"
    try:
        body = DecisionBody.model_validate(
            {"decision": decision, "reason": reason.strip() or None, "share_reason": bool(share)}
        )
    except ValidationError:
        return (
            "error",
            f"Nothing decided for {who}: choose Approve or Reject (reason: 2,000 characters at most).",
        )
    client = request.app.state.temporal
    if client is None:
        return "error", "Temporal is not reachable yet; nothing was decided. Try again in a moment."
    settings = request.app.state.settings
    try:
        result = await partner_routes.decide(partner_id, body, engine, client, manager, settings)
    except HTTPException as exc:
        if exc.status_code == status.HTTP_409_CONFLICT:
            return "error", f"Already decided: {who}. {exc.detail}."
        return "error", f"Could not decide on {who}: {exc.detail}"
    except (RPCError, RPCTimeoutOrCancelledError, TemporalUnavailable) as exc:
        log.warning("decision on partner %s failed: %s", partner_id, exc)
        return "error", f"Temporal did not take the decision on {who}; try again in a moment."
    verb = "Approved" if body.decision == "approve" else "Rejected"
    if not isinstance(result, DecisionResponse):  # 202: Temporal holds it, the workflow applies it
        return "success", f"{verb} {who}; the decision is being applied (the stage follows shortly)."
    return "success", f"{verb} {who}; stage is now {result.stage}."


def _load(engine: Engine, partner_id: str) -> Partner | None:
    with session_scope(engine) as db:
        return db.get(Partner, partner_id)
