"""The outbox: every message sent or tried, filtered by channel, status and recipient."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from partnerflow.api.bounds import PageNumber
from partnerflow.api.dashboard import auth, queries
from partnerflow.api.dashboard.views import Page, render
from partnerflow.api.deps import EngineDep
from partnerflow.store import outbox
from partnerflow.store.db import session_scope

router = APIRouter()

CHANNELS = ("email", "slack")
STATUSES = ("pending", "sent", "failed")


@router.get("/outbox")
def outbox_page(
    request: Request,
    session: auth.SessionDep,
    engine: EngineDep,
    channel: str = "",
    status: str = "",
    recipient: str = "",
    page: PageNumber = 1,
) -> Response:
    """Messages, newest first; unknown filter values are ignored rather than refused."""
    channel = channel if channel in CHANNELS else ""
    status = status if status in STATUSES else ""
    recipient = recipient.strip()[:320]
    with session_scope(engine) as db:
        current = Page.of(page, queries.outbox_count(db, recipient, status, channel))
        rows = outbox.list_messages(
            db, recipient or None, status or None, channel or None, limit=current.size, offset=current.offset
        )
    return render(
        request,
        "outbox",
        session,
        active="outbox",
        messages=rows,
        page=current,
        channels=CHANNELS,
        statuses=STATUSES,
        filters={"channel": channel, "status": status, "recipient": recipient},
    )
