"""Outbound webhooks: subscriptions (new, deactivate), their delivery log, and replaying a delivery."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import col, func, select
from temporalio.service import RPCError

from partnerflow.api.bounds import OptionalRowId, PageNumber, RowId
from partnerflow.api.dashboard import auth, forms
from partnerflow.api.dashboard.views import Page, render
from partnerflow.api.deps import EngineDep, SettingsDep
from partnerflow.api.routes import webhook_subscriptions as api
from partnerflow.domain.webhooks import ALL_EVENTS, EVENT_TYPES
from partnerflow.store import webhooks as store
from partnerflow.store.db import session_scope
from partnerflow.store.models import WebhookDelivery

router = APIRouter()
BASE = f"{auth.PATH}/webhooks"
STATUSES = ("pending", "delivered", "failed")


@router.get("/webhooks")
def subscriptions(request: Request, session: auth.SessionDep, engine: EngineDep) -> Response:
    """Every subscription with its deliveries per status, and the form for a new one."""
    return _list(request, session, engine)


def _list(
    request: Request,
    session: auth.DashboardSession,
    engine: EngineDep,
    form: dict[str, object] | None = None,
    error: str | None = None,
    status_code: int = 200,
    created: object = None,
) -> Response:
    with session_scope(engine) as db:
        rows = store.list_subscriptions(db, include_inactive=True)
        statement = select(WebhookDelivery.subscription_id, WebhookDelivery.status, func.count()).group_by(
            col(WebhookDelivery.subscription_id), col(WebhookDelivery.status)
        )
        counts: dict[int, dict[str, int]] = {}
        for subscription_id, status, n in db.exec(statement):
            counts.setdefault(subscription_id, {})[status] = int(n)
        types = {row.id: store.event_types_of(row) for row in rows}
    values = form or {"url": "", "event_types": []}
    return render(
        request,
        "webhooks",
        session,
        active="webhooks",
        status_code=status_code,
        rows=rows,
        types=types,
        counts=counts,
        event_types=EVENT_TYPES,
        all_events=ALL_EVENTS,
        form=values,
        error=error,
        created=created,
    )


@router.post("/webhooks")
async def create(
    request: Request,
    session: auth.CsrfSessionDep,
    engine: EngineDep,
    url: Annotated[str, Form()] = "",
    event_types: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Subscribe a URL (as ``POST /webhook-subscriptions``); its signing secret is shown only here."""
    form: dict[str, object] = {"url": url, "event_types": event_types or []}
    try:
        body = api.SubscriptionIn.model_validate({"url": url, "event_types": event_types or []})
    except ValidationError as exc:
        first = exc.errors()[0]
        error = f"{'.'.join(str(p) for p in first['loc']) or 'value'}: {first['msg']}"
        return _list(request, session, engine, form, error, 422)
    created = api.create_subscription(body, engine, session.manager)
    return _list(request, session, engine, created=created)


@router.post("/webhooks/{subscription_id}/deactivate")
async def deactivate(
    subscription_id: RowId,
    session: auth.CsrfSessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Stop sending to a subscription (needs the box ticked); its deliveries stay listed."""
    if not forms.confirmed(confirm):
        return forms.redirect(settings, BASE, "error", "Tick the box next to Deactivate to confirm.")
    with session_scope(engine) as db:
        row = store.deactivate(db, subscription_id)
    if row is None:
        return forms.redirect(settings, BASE, "error", f"There is no subscription {subscription_id}.")
    return forms.redirect(
        settings, BASE, "success", f"Subscription {subscription_id} ({row.url}) deactivated."
    )


@router.get("/webhooks/deliveries")
def deliveries(
    request: Request,
    session: auth.SessionDep,
    engine: EngineDep,
    subscription_id: OptionalRowId = None,
    status: str = "",
    page: PageNumber = 1,
) -> Response:
    """Deliveries, newest first, with attempts, the last answer or error, and a Replay button."""
    status = status if status in STATUSES else ""
    with session_scope(engine) as db:
        statement = select(func.count()).select_from(WebhookDelivery)
        if status:
            statement = statement.where(WebhookDelivery.status == status)
        if subscription_id is not None:
            statement = statement.where(WebhookDelivery.subscription_id == subscription_id)
        current = Page.of(page, int(db.exec(statement).one()))
        rows = store.list_deliveries(db, status or None, subscription_id, None, current.size, current.offset)
        active = {row.id for row in store.list_subscriptions(db)}
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return render(
        request,
        "webhook_deliveries",
        session,
        active="webhooks",
        rows=rows,
        page=current,
        statuses=STATUSES,
        filters={"subscription_id": subscription_id, "status": status},
        active_ids=active,
        back=here,
    )


@router.post("/webhooks/deliveries/{delivery_id}/replay")
async def replay(
    delivery_id: RowId,
    request: Request,
    session: auth.CsrfSessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    next: Annotated[str, Form()] = "",
) -> Response:
    """Send a delivery again now: same event id and body, a fresh signature (as the API's replay)."""
    back = next or f"{BASE}/deliveries"
    client = forms.temporal(request)
    if client is None:
        return forms.redirect(settings, back, "error", forms.NO_TEMPORAL)
    try:
        delivery = await api.replay_delivery(delivery_id, engine, client, settings, session.manager)
    except HTTPException as exc:
        return forms.redirect(settings, back, "error", f"Not replayed: {exc.detail}.")
    except RPCError:
        return forms.redirect(settings, back, "error", forms.RETRY)
    message = f"Delivery {delivery_id} ({delivery.event_type}) is being sent again."
    return forms.redirect(settings, back, "success", message)
