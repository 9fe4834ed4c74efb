"""Small local HTTP servers that speak just enough SendGrid and Slack for tests.

Each fake is a stdlib ``ThreadingHTTPServer`` on ``127.0.0.1`` (a free port) served from a
daemon thread, so it works the same from sync tests and from async tests (the real client
libraries are synchronous; call them through ``asyncio.to_thread`` in async code)::

    with FakeSendGrid(api_key="SG.test") as sendgrid:
        backend = SendGridBackend("SG.test", host=sendgrid.url)
        ...
        assert sendgrid.messages[0].json["subject"] == "Welcome"

    async with FakeSlack(token="xoxb-test") as slack:
        backend = SlackWebBackend("xoxb-test", base_url=slack.url)
        ts = await asyncio.to_thread(backend.post, message)

``.requests`` records every request (failures included), ``.messages`` only the accepted
ones; both return snapshots taken under a lock. ``fail_next(...)`` injects provider trouble
for the next requests, before any authentication or validation.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs

_EMAIL_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


@dataclass
class RecordedRequest:
    """One HTTP request as the fake saw it, and the status it answered."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any = None  # parsed JSON body, if the body was JSON
    params: dict[str, Any] = field(default_factory=dict)  # JSON object or form fields
    status: int = 0
    message_id: str | None = None  # SendGrid X-Message-Id / Slack ts, for accepted ones

    def header(self, name: str) -> str | None:
        """A request header, looked up case-insensitively."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, **headers: str) -> _Reply:
        return cls(status, json.dumps(payload).encode(), "application/json", dict(headers))


@dataclass
class _Failure:
    status: int
    error: str | None


class _FakeServer:
    """Shared plumbing: server thread, request log, failure injection."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._requests: list[RecordedRequest] = []
        self._messages: list[RecordedRequest] = []
        self._failures: list[_Failure] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is not None:
            return self
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake._serve(self)

            def do_GET(self) -> None:
                fake._serve(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self._port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}:{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Shut the server down; its port stops listening (``.url`` keeps pointing at it)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return self.start()

    async def __aexit__(self, *exc: object) -> None:
        import asyncio

        await asyncio.to_thread(self.stop)

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} was never started")
        return self._port

    # -- inspection ------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, failures included (a snapshot)."""
        with self._lock:
            return list(self._requests)

    @property
    def messages(self) -> list[RecordedRequest]:
        """Accepted messages only (a snapshot)."""
        with self._lock:
            return list(self._messages)

    def wait_for_messages(self, count: int = 1, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until at least ``count`` messages were accepted; AssertionError on timeout."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._messages) >= count, timeout):
                raise AssertionError(
                    f"{type(self).__name__}: expected {count} message(s), "
                    f"got {len(self._messages)} within {timeout}s"
                )
            return list(self._messages)

    def reset(self) -> None:
        """Forget recorded requests, messages and pending failures."""
        with self._lock:
            self._requests.clear()
            self._messages.clear()
            self._failures.clear()

    def _queue_failure(self, status: int, count: int, error: str | None) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._failures.extend(_Failure(status, error) for _ in range(count))

    # -- request handling ------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        request = RecordedRequest(
            method=handler.command,
            path=handler.path,
            headers=dict(handler.headers.items()),
            body=body,
        )
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        target: list[RecordedRequest] | None = None
        if failure is not None:
            reply = self._failure_reply(failure)
        else:
            try:
                reply, target = self._handle(request)
            except Exception as exc:  # a bug in the fake: answer 500 rather than hang
                reply = _Reply(500, f"fake server error: {exc!r}".encode(), "text/plain")
        request.status = reply.status
        with self._changed:
            self._requests.append(request)
            if target is not None:
                target.append(request)
            self._changed.notify_all()
        handler.send_response(reply.status)
        handler.send_header("Content-Type", reply.content_type)
        handler.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        if reply.body:
            handler.wfile.write(reply.body)

    def _handle(self, request: RecordedRequest) -> tuple[_Reply, list[RecordedRequest] | None]:
        """The reply, and the list to record the request in besides ``.requests``."""
        raise NotImplementedError

    def _failure_reply(self, failure: _Failure) -> _Reply:
        raise NotImplementedError


# ------------------------------------------------------------------------------------
# SendGrid


def _sendgrid_errors(*errors: tuple[str | None, str]) -> dict[str, Any]:
    return {"errors": [{"message": message, "field": field_, "help": None} for field_, message in errors]}


class FakeSendGrid(_FakeServer):
    """``POST /v3/mail/send`` with SendGrid's auth, validation and error shapes.

    Accepted sends answer 202 with an empty body and a unique ``X-Message-Id`` header,
    which is also stored as ``RecordedRequest.message_id``.
    """

    SEND_PATH = "/v3/mail/send"

    def __init__(self, api_key: str = "SG.test-key") -> None:
        super().__init__()
        self.api_key = api_key

    @property
    def url(self) -> str:
        """Base URL to pass as ``SendGridAPIClient(host=...)``."""
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, status: int, count: int = 1, error: str | None = None) -> None:
        """Answer the next ``count`` requests with ``status`` (429 adds ``Retry-After``)."""
        self._queue_failure(status, count, error)

    def _failure_reply(self, failure: _Failure) -> _Reply:
        default = {
            400: "Bad Request",
            401: "The provided authorization grant is invalid, expired, or revoked",
            403: "access forbidden",
            413: "The JSON payload you have included in your request is too large.",
            429: "too many requests",
        }.get(failure.status, "An internal server error occurred. Please try again later.")
        headers = {"Retry-After": "1"} if failure.status == 429 else {}
        return _Reply.json(failure.status, _sendgrid_errors((None, failure.error or default)), **headers)

    def _handle(self, request: RecordedRequest) -> tuple[_Reply, list[RecordedRequest] | None]:
        path = request.path.split("?", 1)[0]
        if path != self.SEND_PATH:
            return _Reply.json(404, _sendgrid_errors((None, "not found"))), None
        if request.method != "POST":
            return _Reply.json(405, _sendgrid_errors((None, "method not allowed"))), None
        if request.header("Authorization") != f"Bearer {self.api_key}":
            message = "The provided authorization grant is invalid, expired, or revoked"
            if request.header("Authorization") is None:
                message = "Permission denied, wrong credentials"
            return _Reply.json(401, _sendgrid_errors((None, message))), None
        try:
            payload = json.loads(request.body)
        except ValueError:
            return _Reply.json(400, _sendgrid_errors((None, "Bad Request"))), None
        request.json = payload
        if isinstance(payload, dict):
            request.params = payload
        errors = self.validate(payload)
        if errors:
            return _Reply.json(400, _sendgrid_errors(*errors)), None
        request.message_id = secrets.token_urlsafe(16)
        return _Reply(202, b"", "text/plain", {"X-Message-Id": request.message_id}), self._messages

    @staticmethod
    def validate(payload: Any) -> list[tuple[str | None, str]]:
        """SendGrid-style (field, message) errors for a v3 mail/send body; empty if valid.

        Stricter than SendGrid in one respect: both a text/plain and a text/html content
        block are required, since Partnerflow always sends both.
        """
        if not isinstance(payload, dict):
            return [(None, "Bad Request")]
        errors: list[tuple[str | None, str]] = []

        personalizations = payload.get("personalizations")
        if not isinstance(personalizations, list) or not personalizations:
            errors.append(
                (
                    "personalizations",
                    "The personalizations field is required and must have at least one personalization.",
                )
            )
        else:
            for p_index, personalization in enumerate(personalizations):
                to = personalization.get("to") if isinstance(personalization, dict) else None
                if not isinstance(to, list) or not to:
                    errors.append(
                        (
                            f"personalizations.{p_index}.to",
                            "The to array is required for all personalization objects, and "
                            "must have at least one email object with a valid email address.",
                        )
                    )
                    continue
                for t_index, recipient in enumerate(to):
                    address = recipient.get("email") if isinstance(recipient, dict) else None
                    if not isinstance(address, str) or not _EMAIL_RE.match(address):
                        errors.append(
                            (
                                f"personalizations.{p_index}.to.{t_index}.email",
                                "Does not contain a valid address.",
                            )
                        )

        sender = payload.get("from")
        sender_address = sender.get("email") if isinstance(sender, dict) else None
        if not sender_address:
            errors.append(
                (
                    "from.email",
                    "The from object must be provided for every email send. It is an object "
                    "that requires the email parameter, but may also contain a name parameter.",
                )
            )
        elif not _EMAIL_RE.match(str(sender_address)):
            errors.append(("from.email", "The from email does not contain a valid address."))

        subject = payload.get("subject")
        has_personal_subject = isinstance(personalizations, list) and all(
            isinstance(p, dict) and p.get("subject") for p in personalizations
        )
        if not (isinstance(subject, str) and subject.strip()) and not has_personal_subject:
            errors.append(
                (
                    "subject",
                    "The subject is required. You can get around this requirement if you use "
                    "a template with a subject defined or if every personalization has a "
                    "subject defined.",
                )
            )

        content = payload.get("content")
        if not isinstance(content, list) or not content:
            errors.append(
                (
                    "content",
                    "Unless a valid template_id is provided, the content parameter is "
                    "required. There must be at least one defined content block.",
                )
            )
        else:
            types = [block.get("type") if isinstance(block, dict) else None for block in content]
            for index, block in enumerate(content):
                value = block.get("value") if isinstance(block, dict) else None
                if not isinstance(value, str) or not value:
                    errors.append(
                        (
                            f"content.{index}.value",
                            "The content value must be a string at least one character in length.",
                        )
                    )
            if "text/plain" not in types or "text/html" not in types:
                errors.append(("content", "Both a text/plain and a text/html content block are required."))
            elif types.index("text/plain") != 0 or types.index("text/html") != 1:
                errors.append(
                    (
                        "content",
                        "If present, text/plain content must be first, followed by text/html, "
                        "followed by any other content.",
                    )
                )

        attachments = payload.get("attachments")
        if attachments is not None:
            if not isinstance(attachments, list):
                errors.append(("attachments", "The attachments field must be an array."))
                attachments = []
            for index, attachment in enumerate(attachments):
                item = attachment if isinstance(attachment, dict) else {}
                data = item.get("content")
                if not data:
                    errors.append((f"attachments.{index}.content", "The attachment content is required."))
                else:
                    try:
                        base64.b64decode(str(data), validate=True)
                    except (binascii.Error, ValueError):
                        errors.append(
                            (
                                f"attachments.{index}.content",
                                "The attachment content must be base64 encoded.",
                            )
                        )
                if not item.get("filename"):
                    errors.append(
                        (
                            f"attachments.{index}.filename",
                            "The attachment filename parameter is required.",
                        )
                    )
        return errors


# ------------------------------------------------------------------------------------
# Slack


class FakeSlack(_FakeServer):
    """``chat.postMessage``, ``chat.update``, ``chat.postEphemeral``, ``views.open``,
    ``usergroups.users.list`` and ``auth.test`` under ``/api/``.

    Accepts JSON and form-encoded bodies (slack_sdk sends JSON for chat.* methods and form
    fields for most others). Authentication errors come back as HTTP 200 with ``ok: false``
    like Slack's. If ``channels`` is given, any other channel is ``channel_not_found``.
    Successful posts are stored in ``.messages`` with their ``ts`` as ``message_id``;
    ephemeral messages in ``.ephemerals``, opened modals in ``.views``. ``usergroups`` maps
    user-group ids (``S…``) to their members' user ids.
    """

    TEAM_ID = "T0FAKE"
    BOT_USER_ID = "U0FAKEBOT"
    BOT_ID = "B0FAKEBOT"

    def __init__(
        self,
        token: str = "xoxb-test-token",
        channels: Iterable[str] | None = None,
        usergroups: dict[str, list[str]] | None = None,
    ):
        super().__init__()
        self.token = token
        self.channels = set(channels) if channels is not None else None
        self.usergroups = dict(usergroups or {})
        self._ts_counter = itertools.count(1)
        self._posted: dict[tuple[str, str], dict[str, Any]] = {}
        self._updates: list[RecordedRequest] = []
        self._ephemerals: list[RecordedRequest] = []
        self._views: list[RecordedRequest] = []

    @property
    def updates(self) -> list[RecordedRequest]:
        """Accepted ``chat.update`` calls (a snapshot); ``.messages`` holds only posts."""
        with self._lock:
            return list(self._updates)

    @property
    def ephemerals(self) -> list[RecordedRequest]:
        """Accepted ``chat.postEphemeral`` calls (a snapshot)."""
        with self._lock:
            return list(self._ephemerals)

    @property
    def views(self) -> list[RecordedRequest]:
        """Accepted ``views.open`` calls (a snapshot)."""
        with self._lock:
            return list(self._views)

    def wait_for(self, what: str, count: int = 1, timeout: float = 10.0) -> list[RecordedRequest]:
        """Block until ``.updates``/``.ephemerals``/``.views`` holds ``count``; AssertionError on timeout."""
        recorded: list[RecordedRequest] = getattr(self, f"_{what}")
        with self._changed:
            if not self._changed.wait_for(lambda: len(recorded) >= count, timeout):
                raise AssertionError(
                    f"FakeSlack: expected {count} {what}, got {len(recorded)} within {timeout}s"
                )
            return list(recorded)

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self._updates.clear()
            self._ephemerals.clear()
            self._views.clear()
            self._posted.clear()

    @property
    def url(self) -> str:
        """Base URL to pass as ``WebClient(base_url=...)`` (ends with ``/api/``)."""
        return f"http://127.0.0.1:{self.port}/api/"

    def fail_next(self, status: int, count: int = 1, error: str | None = None) -> None:
        """Answer the next ``count`` requests with trouble.

        429 → HTTP 429, ``Retry-After: 1``, ``{"ok": false, "error": "ratelimited"}``;
        200 → ``{"ok": false, "error": error}``; any other status → that HTTP status with an
        HTML body like Slack's edge proxies send, or ``{"ok": false, "error": error}`` if an
        error is given.
        """
        if status == 200 and not error:
            raise ValueError("fail_next(200, ...) needs an error code, e.g. 'channel_not_found'")
        self._queue_failure(status, count, error)

    def _failure_reply(self, failure: _Failure) -> _Reply:
        if failure.status == 429:
            return _Reply.json(
                429, {"ok": False, "error": failure.error or "ratelimited"}, **{"Retry-After": "1"}
            )
        if failure.error:
            return _Reply.json(failure.status, {"ok": False, "error": failure.error})
        html = f"<html><body><h1>{failure.status} Server Error</h1></body></html>"
        return _Reply(failure.status, html.encode(), "text/html; charset=utf-8")

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts_counter):06d}"

    def _handle(self, request: RecordedRequest) -> tuple[_Reply, list[RecordedRequest] | None]:
        path = request.path.split("?", 1)[0]
        if not path.startswith("/api/"):
            return _Reply(404, b"Not Found", "text/plain"), None
        method = path.removeprefix("/api/")
        params = self._parse_params(request)
        if params is None:
            return _Reply.json(200, {"ok": False, "error": "invalid_json"}), None
        request.params = params

        authorization = request.header("Authorization")
        token = (
            authorization.removeprefix("Bearer ")
            if authorization and authorization.startswith("Bearer ")
            else params.get("token")
        )
        if not token:
            return _Reply.json(200, {"ok": False, "error": "not_authed"}), None
        if token != self.token:
            return _Reply.json(200, {"ok": False, "error": "invalid_auth"}), None

        if method == "auth.test":
            return _Reply.json(
                200,
                {
                    "ok": True,
                    "url": "https://fake-workspace.slack.com/",
                    "team": "Fake Workspace",
                    "user": "partnerflow",
                    "team_id": self.TEAM_ID,
                    "user_id": self.BOT_USER_ID,
                    "bot_id": self.BOT_ID,
                },
            ), None
        if method == "chat.postMessage":
            return self._post_message(request, params)
        if method == "chat.update":
            return self._update_message(request, params)
        if method == "chat.postEphemeral":
            return self._post_ephemeral(request, params)
        if method == "views.open":
            return self._open_view(params)
        if method == "usergroups.users.list":
            group = str(params.get("usergroup", ""))
            if group not in self.usergroups:
                return _Reply.json(200, {"ok": False, "error": "no_such_subteam"}), None
            return _Reply.json(200, {"ok": True, "users": self.usergroups[group]}), None
        return _Reply.json(200, {"ok": False, "error": "unknown_method", "req_method": method}), None

    @staticmethod
    def _parse_params(request: RecordedRequest) -> dict[str, Any] | None:
        content_type = (request.header("Content-Type") or "").lower()
        if content_type.startswith("application/json"):
            try:
                payload = json.loads(request.body or b"{}")
            except ValueError:
                return None
            request.json = payload
            return payload if isinstance(payload, dict) else None
        query = request.path.partition("?")[2]  # GET methods (usergroups.users.list) use the query
        raw = f"{query}&{request.body.decode()}" if query else request.body.decode()
        fields = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        for key in ("blocks", "attachments", "metadata"):  # form posts carry these as JSON text
            if isinstance(fields.get(key), str):
                try:
                    fields[key] = json.loads(fields[key])
                except ValueError:
                    return {**fields, "_invalid": key}
        return fields

    def _check_message(self, params: dict[str, Any]) -> str | None:
        if "_invalid" in params:
            return f"invalid_{params['_invalid']}"
        channel = params.get("channel")
        if not channel or (self.channels is not None and channel not in self.channels):
            return "channel_not_found"
        if not params.get("text") and not params.get("blocks") and not params.get("attachments"):
            return "no_text"
        return None

    def _post_message(
        self, request: RecordedRequest, params: dict[str, Any]
    ) -> tuple[_Reply, list[RecordedRequest] | None]:
        error = self._check_message(params)
        if error:
            return _Reply.json(200, {"ok": False, "error": error}), None
        ts = self._next_ts()
        message: dict[str, Any] = {
            "type": "message",
            "user": self.BOT_USER_ID,
            "bot_id": self.BOT_ID,
            "text": params.get("text", ""),
            "ts": ts,
            "team": self.TEAM_ID,
        }
        if params.get("blocks"):
            message["blocks"] = params["blocks"]
        with self._lock:
            self._posted[(str(params["channel"]), ts)] = message
        request.message_id = ts
        return _Reply.json(
            200, {"ok": True, "channel": params["channel"], "ts": ts, "message": message}
        ), self._messages

    def _update_message(
        self, request: RecordedRequest, params: dict[str, Any]
    ) -> tuple[_Reply, list[RecordedRequest] | None]:
        error = self._check_message(params)
        if error:
            return _Reply.json(200, {"ok": False, "error": error}), None
        key = (str(params["channel"]), str(params.get("ts", "")))
        with self._lock:
            message = self._posted.get(key)
            if message is not None:
                message.update({"text": params.get("text", ""), "edited": {"ts": self._next_ts()}})
                if params.get("blocks"):
                    message["blocks"] = params["blocks"]
                message = dict(message)
        if message is None:
            return _Reply.json(200, {"ok": False, "error": "message_not_found"}), None
        request.message_id = key[1]
        return _Reply.json(
            200,
            {
                "ok": True,
                "channel": key[0],
                "ts": key[1],
                "text": message["text"],
                "message": message,
            },
        ), self._updates

    def _post_ephemeral(
        self, request: RecordedRequest, params: dict[str, Any]
    ) -> tuple[_Reply, list[RecordedRequest] | None]:
        error = self._check_message(params)
        if error:
            return _Reply.json(200, {"ok": False, "error": error}), None
        if not params.get("user"):
            return _Reply.json(200, {"ok": False, "error": "user_not_in_channel"}), None
        request.message_id = self._next_ts()
        return _Reply.json(200, {"ok": True, "message_ts": request.message_id}), self._ephemerals

    def _open_view(self, params: dict[str, Any]) -> tuple[_Reply, list[RecordedRequest] | None]:
        view = params.get("view")
        if isinstance(view, str):
            try:
                view = json.loads(view)
            except ValueError:
                return _Reply.json(200, {"ok": False, "error": "invalid_arguments"}), None
        if not params.get("trigger_id"):
            return _Reply.json(200, {"ok": False, "error": "invalid_trigger_id"}), None
        if not isinstance(view, dict) or view.get("type") != "modal" or not view.get("title"):
            return _Reply.json(200, {"ok": False, "error": "invalid_arguments"}), None
        opened = {**view, "id": f"V{secrets.token_hex(5).upper()}", "team_id": self.TEAM_ID}
        return _Reply.json(200, {"ok": True, "view": opened}), self._views
