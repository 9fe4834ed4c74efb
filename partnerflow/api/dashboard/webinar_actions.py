"""A webinar's changes: reschedule, cancel (confirmed), and attendance from an export or a list.

Each goes through ``services.webinars`` / ``services.onboarding`` as the API does: the store first,
then every invited partner's workflow is told (calendar update, cancellation, attendance).
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import Engine
from temporalio.service import RPCError

from partnerflow.api.bounds import RowId
from partnerflow.api.dashboard import auth, forms
from partnerflow.api.dashboard.views import not_found, render
from partnerflow.api.dashboard.webinars import BASE, aware, find, why
from partnerflow.api.deps import EngineDep, SettingsDep
from partnerflow.domain.csv_import import (
    CsvFormatError,
    attendance_from_export,
    attendance_from_list,
    decode_text,
)
from partnerflow.services import onboarding as operations
from partnerflow.services import webinars as changes
from partnerflow.store import onboarding as store
from partnerflow.store.db import session_scope
from partnerflow.store.models import Webinar

log = logging.getLogger(__name__)
router = APIRouter()
MAX_EXPORT = 5 * 1024 * 1024


@router.post("/webinars/{webinar_id}/reschedule")
async def reschedule(
    webinar_id: RowId,
    request: Request,
    session: auth.CsrfSessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    title: Annotated[str, Form()] = "",
    starts_at: Annotated[str, Form()] = "",
    timezone: Annotated[str, Form()] = "UTC",
    duration_minutes: Annotated[str, Form()] = "60",
    join_url: Annotated[str, Form()] = "",
) -> Response:
    """Change a session that has not started; invited partners get a calendar update."""
    page = f"{BASE}/{webinar_id}"
    client = forms.temporal(request)
    if client is None:
        return forms.redirect(settings, page, "error", forms.NO_TEMPORAL)
    try:
        patch = changes.WebinarPatch.model_validate(
            {
                "title": title.strip(),
                "starts_at": aware(starts_at, timezone),
                "timezone": timezone.strip(),
                "duration_minutes": duration_minutes,
                "join_url": join_url.strip(),
            }
        )
        change = await changes.reschedule_webinar(engine, client, webinar_id, patch, session.manager)
    except changes.WebinarNotFound:
        return forms.redirect(settings, BASE, "error", f"There is no webinar {webinar_id}.")
    except (ValidationError, ValueError, changes.WebinarCancelled) as exc:
        return forms.redirect(settings, page, "error", f"Nothing was changed: {why(exc)}")
    except RPCError as exc:
        log.warning("webinar %s changed, not every partner told: %s", webinar_id, exc)
        return forms.redirect(settings, page, "error", forms.RETRY)
    if not change.changed:
        same = "Those are the session's details already; nobody was told."
        return forms.redirect(settings, page, "success", same)
    what = ", ".join(name.replace("_", " ") for name in change.changed)
    message = f"Changed {what}; {change.partners_notified} invited partners get a calendar update."
    return forms.redirect(settings, page, "success", message)


@router.get("/webinars/{webinar_id}/cancel")
def cancel_page(webinar_id: RowId, request: Request, session: auth.SessionDep, engine: EngineDep) -> Response:
    """The confirmation step of a cancellation."""
    return _cancel_page(request, session, engine, webinar_id)


def _cancel_page(
    request: Request,
    session: auth.DashboardSession,
    engine: Engine,
    webinar_id: int,
    reason: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    with session_scope(engine) as db:
        webinar = db.get(Webinar, webinar_id)
        invited = len(store.invited_partner_ids(db, webinar_id)) if webinar else 0
    if webinar is None:
        return not_found(request, session, f"Webinar {webinar_id}")
    return render(
        request,
        "webinar_cancel",
        session,
        active="webinars",
        status_code=status_code,
        webinar=webinar,
        invited=invited,
        reason=reason,
        error=error,
    )


@router.post("/webinars/{webinar_id}/cancel")
async def cancel(
    webinar_id: RowId,
    request: Request,
    session: auth.CsrfSessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    reason: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Cancel a session (needs the "I understand" box); invited partners are told and re-invited."""
    if not forms.confirmed(confirm):
        error = "Tick the box to confirm: a cancelled session cannot be restored."
        return _cancel_page(request, session, engine, webinar_id, reason, error, 422)
    page, client = f"{BASE}/{webinar_id}", forms.temporal(request)
    if client is None:
        return forms.redirect(settings, page, "error", forms.NO_TEMPORAL)
    try:
        change = await changes.cancel_webinar(engine, client, webinar_id, reason[:500], session.manager)
    except changes.WebinarNotFound:
        return forms.redirect(settings, BASE, "error", f"There is no webinar {webinar_id}.")
    except (changes.WebinarCancelled, changes.WebinarPast) as exc:
        return forms.redirect(settings, page, "error", f"Nothing was changed: {exc}")
    except RPCError as exc:
        log.warning("webinar %s cancelled, not every partner told: %s", webinar_id, exc)
        return forms.redirect(settings, page, "error", forms.RETRY)
    told = change.partners_notified
    message = f"Session cancelled; {told} invited partners get a cancellation and the next session."
    return forms.redirect(settings, page, "success", message)


@router.post("/webinars/{webinar_id}/attendance")
async def attendance(
    webinar_id: RowId,
    request: Request,
    session: auth.CsrfSessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    export: Annotated[UploadFile | None, File()] = None,
    attendees: Annotated[str, Form()] = "",
) -> Response:
    """Record who attended, from an export (CSV with ``email`` or ``partner_id``) or a typed list."""
    page, client = f"{BASE}/{webinar_id}", forms.temporal(request)
    if client is None:
        return forms.redirect(settings, page, "error", forms.NO_TEMPORAL)
    try:
        data = await export.read(MAX_EXPORT + 1) if export is not None and export.filename else b""
        if len(data) > MAX_EXPORT:
            raise CsvFormatError("the export is over 5 MB")
        emails, ids = attendance_from_export(decode_text(data)) if data else attendance_from_list(attendees)
    except CsvFormatError as exc:
        return forms.redirect(settings, page, "error", f"Nothing was recorded: {exc}.")
    if not emails and not ids:
        missing = "Give an export with an email or partner_id column, or a list."
        return forms.redirect(settings, page, "error", missing)
    try:
        webinar = await run_in_threadpool(find, engine, webinar_id)
        if webinar is None or webinar.cancelled_at is not None:
            why = "it does not exist" if webinar is None else "the session was cancelled"
            return forms.redirect(settings, page, "error", f"Nothing was recorded: {why}.")
        results = await operations.record_attendance(engine, client, webinar_id, ids, emails)
    except RPCError as exc:
        log.warning("attendance of webinar %s stored, not every partner told: %s", webinar_id, exc)
        return forms.redirect(settings, page, "error", forms.RETRY)
    counts: dict[str, list[str]] = {}
    for result in results:
        counts.setdefault(result.status, []).append(result.partner_id)
    parts = [f"{len(who)} {status.replace('_', ' ')}" for status, who in counts.items()]
    unknown = counts.get("unknown_partner", [])
    tail = f" Unknown: {', '.join(unknown[:10])}{'…' if len(unknown) > 10 else ''}." if unknown else ""
    kind = "success" if counts.get("recorded") or counts.get("already_recorded") else "error"
    return forms.redirect(settings, page, kind, f"Attendance: {', '.join(parts)}.{tail}")
