"""Manager API: every message the service sent or tried to send."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from partnerflow.api.bounds import Offset
from partnerflow.api.deps import MANAGER_AUTH, EngineDep, ManagerDep
from partnerflow.api.errors import responses
from partnerflow.api.schemas import OutboxItem, OutboxList
from partnerflow.store import outbox
from partnerflow.store.db import session_scope

router = APIRouter(prefix="/outbox", tags=["outbox"], responses=MANAGER_AUTH)


@router.get("", response_model=OutboxList, responses=responses(422))
def list_outbox(
    engine: EngineDep,
    _manager: ManagerDep,
    to: str | None = Query(None, description="an email address or a Slack channel"),
    status: Literal["pending", "sent", "failed"] | None = None,
    channel: Literal["email", "slack"] | None = None,
    partner_id: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: Offset = 0,
) -> OutboxList:
    """Messages, newest first, filtered by recipient, status, channel or partner."""
    with session_scope(engine) as session:
        rows = outbox.list_messages(session, to, status, channel, partner_id, limit, offset)
    return OutboxList(
        items=[OutboxItem(to=row.recipient, **row.model_dump(exclude={"recipient"})) for row in rows]
    )
