"""One-click unsubscribe from non-essential email (nudges, tips), honoured at once."""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import APIRouter, HTTPException, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Engine

from partnerflow.api.deps import EngineDep, SettingsDep
from partnerflow.api.errors import responses
from partnerflow.rendering.tokens import PortalTokenInvalid, read_unsubscribe_token
from partnerflow.store.db import session_scope
from partnerflow.store.partners import set_nudges

router = APIRouter(prefix="/unsubscribe", tags=["portal"])
_BAD_LINK = "not a valid unsubscribe link"
# The pages are HTML but the errors JSON (ErrorBody): with the plain Response class, FastAPI
# documents the error models as application/json, and the 200 is described here.
HTML_PAGE: dict[int | str, dict[str, Any]] = {
    200: {"description": "an HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}
}

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Partnerflow</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><link rel="stylesheet" href="/static/portal.css"></head>
<body><main><h1>{title}</h1>{body}</main></body></html>"""


@router.get(
    "/{token}", response_class=Response, responses={**HTML_PAGE, **responses(422, forbidden=_BAD_LINK)}
)
def confirm_page(token: str, settings: SettingsDep) -> HTMLResponse:
    """A confirmation page (mail scanners follow GET links; only the POST unsubscribes)."""
    _partner_id(settings.portal_signing_key, token)
    form = (
        "<p>Stop tips and nudges about your partnership? Essential messages still arrive.</p>"
        f'<form method="post" action="/unsubscribe/{escape(token)}">'
        '<button type="submit">Unsubscribe</button></form>'
    )
    return HTMLResponse(_PAGE.format(title="Unsubscribe", body=form))


@router.post(
    "/{token}",
    response_class=Response,
    responses={**HTML_PAGE, **responses(422, forbidden=_BAD_LINK, not_found="the partner is gone")},
)
async def unsubscribe(token: str, settings: SettingsDep, engine: EngineDep) -> HTMLResponse:
    """Unsubscribe (also the RFC 8058 one-click POST target)."""
    partner_id = _partner_id(settings.portal_signing_key, token)
    await run_in_threadpool(_mark, engine, partner_id)
    return HTMLResponse(
        _PAGE.format(title="You are unsubscribed", body="<p>You will get no more tips or nudges.</p>")
    )


def _partner_id(secret: str, token: str) -> str:
    try:
        return read_unsubscribe_token(secret, token)
    except PortalTokenInvalid as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this unsubscribe link is not valid") from exc


def _mark(engine: Engine, partner_id: str) -> None:
    with session_scope(engine) as session:
        if set_nudges(session, partner_id, subscribed=False) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "partner not found")
