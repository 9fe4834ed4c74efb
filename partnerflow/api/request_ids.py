"""Request ids and the partner a request is about, bound for every log line of the request."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from partnerflow.domain.lifecycle import workflow_id_for
from partnerflow.observability import context

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class RequestIdMiddleware:
    """Gives each HTTP request an id (the caller's ``X-Request-ID`` when it looks like one), echoed back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, REQUEST_ID_HEADER.lower().encode())
        request_id = given if given and _SAFE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (REQUEST_ID_HEADER.encode(), request_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        with context.bound(request_id=request_id):
            await self.app(scope, receive, send_with_id)


async def bind_partner(request: Request) -> None:
    """App-wide dependency: a route with a ``{partner_id}`` logs it (and its workflow id) on every line."""
    partner_id = request.path_params.get("partner_id")
    if isinstance(partner_id, str):
        context.bind(partner_id=partner_id, workflow_id=workflow_id_for(partner_id))


def _header(scope: Mapping[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None
