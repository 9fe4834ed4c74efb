"""Request body limits, applied before anything parses the body (one ASGI middleware).

- A body larger than ``PARTNERFLOW_MAX_BODY_BYTES`` (5 MiB) → 413. Uploads (multipart forms and
  ``text/csv``) may be up to ``PARTNERFLOW_MAX_UPLOAD_BYTES`` (64 MiB) here; each import route then
  applies its own, smaller cap (prospects 20 MB, migrations 50 MB) with its own 413.
- A JSON body nested deeper than ``PARTNERFLOW_MAX_JSON_DEPTH`` (32), or with an array or object
  of more than ``PARTNERFLOW_MAX_JSON_ITEMS`` (10,000) items → 422 naming the limit. The scan is
  iterative (a regular expression over strings and brackets), so a 10,000-deep array costs a
  loop, not a RecursionError in ``json.loads`` (which used to answer 500).

- NUL (``%00``, ``\\u0000``) in the URL or in a JSON or form body → 400/422: it is never data,
  and PostgreSQL refuses it in text, so it used to reach the database as a 500.

Non-upload bodies are read here in full (they are small by definition) and handed on unchanged;
upload bodies stream through, counted.
"""

from __future__ import annotations

import json
import re

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from partnerflow.config import Settings

UPLOAD_TYPES = ("multipart/form-data", "text/csv")
# A whole string literal (skipped: brackets inside strings do not count) or one structural byte.
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]')
_QUOTE, _OPENERS, _CLOSERS = ord('"'), frozenset(b"[{"), frozenset(b"]}")
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")  # \u0000 itself, not an escaped backslash before "u0000"
FORM = "application/x-www-form-urlencoded"


def has_nul(body: bytes, content_type: str) -> bool:
    """Whether the body carries a NUL character, raw, JSON-escaped or (in a form) percent-encoded."""
    if b"\x00" in body or _JSON_NUL.search(body):
        return True
    return content_type.startswith(FORM) and b"%00" in body


def json_problem(body: bytes, max_depth: int, max_items: int) -> str | None:
    """What limit a JSON text breaks, if any; ``None`` for anything else (the route judges it)."""
    if body.count(b"[") + body.count(b"{") <= max_depth and body.count(b",") < max_items:
        return None  # too few brackets and commas to break either limit: the usual case, in C
    commas: list[int] = []  # per open array/object: the commas seen so far (items - 1)
    for token in _TOKENS.finditer(body):
        first = body[token.start()]
        if first == _QUOTE:
            continue
        if first in _OPENERS:
            commas.append(0)
            if len(commas) > max_depth:
                return f"JSON body nested deeper than the limit of {max_depth} levels"
        elif first in _CLOSERS:
            if commas:
                commas.pop()
        elif commas:
            commas[-1] += 1
            if commas[-1] >= max_items:
                return f"a JSON array or object in the body has more than the limit of {max_items} items"
    return None


class BodyLimits:
    """Pure ASGI middleware: 413 for large bodies, 422 for JSON too deep or too wide."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.max_body = settings.max_body_bytes
        self.max_upload = settings.max_upload_bytes
        self.max_depth = settings.max_json_depth
        self.max_items = settings.max_json_items

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        content_type = headers.get("content-type", "").lower()
        upload = content_type.startswith(UPLOAD_TYPES)
        limit = self.max_upload if upload else self.max_body
        if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b""):
            await _answer(send, 400, "the URL must not contain NUL characters (%00)")
        elif _declared_length(headers) > limit:
            await _too_large(send, limit)
        elif upload:
            await self._stream(scope, receive, send, limit)
        else:
            await self._buffered(scope, receive, send, limit, content_type)

    async def _buffered(
        self, scope: Scope, receive: Receive, send: Send, limit: int, content_type: str
    ) -> None:
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # nobody is listening any more
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(send, limit)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if has_nul(body, content_type):
            refusal = "the body must not contain NUL characters (\\u0000, %00)"
            await _answer(send, 422, [{"type": "nul_character", "loc": ["body"], "msg": refusal}])
            return
        if body.lstrip()[:1] in (b"[", b"{"):
            problem = json_problem(body, self.max_depth, self.max_items)
            if problem:
                await _answer(send, 422, [{"type": "json_limit", "loc": ["body"], "msg": problem}])
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: the disconnect, whenever it comes

        await self.app(scope, replay, send)

    async def _stream(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        size, over, started = 0, False, False

        async def counted() -> Message:
            nonlocal size, over
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > limit:
                    over = True
                    return {"type": "http.disconnect"}  # the route stops reading; we answer
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if over:
                return  # whatever the route made of the cut-off body, the answer is ours
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not over:
                raise
        if over and not started:
            await _too_large(send, limit)


def _declared_length(headers: Headers) -> int:
    try:
        return int(headers.get("content-length", "0"))
    except ValueError:
        return 0  # the server refuses a malformed Content-Length; otherwise the count decides


async def _too_large(send: Send, limit: int) -> None:
    await _answer(send, 413, f"request body larger than the limit of {_size(limit)} ({limit} bytes)")


def _size(limit: int) -> str:
    return f"{limit / 1024 / 1024:g} MiB" if limit >= 1024 * 1024 else f"{limit / 1024:g} KiB"


async def _answer(send: Send, status: int, detail: object) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
