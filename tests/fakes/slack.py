"""A local HTTP server that speaks just enough of Slack's Web API for tests::

async with FakeSlack(token="xoxb-test") as slack:
    backend = SlackWebBackend("xoxb-test", base_url=slack.url)
    ts = await asyncio.to_thread(backend.post, message)
"""

from __future__ import annotations

import itertools
import json
import math
import secrets
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs

from fakes.server import Failure, FakeServer, RecordedRequest, Reply


class FakeSlack(FakeServer):
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

    def fail_next(
        self, status: int, count: int = 1, error: str | None = None, retry_after: float = 1.0
    ) -> None:
        """Answer the next ``count`` requests with trouble.

        429 → HTTP 429, ``Retry-After: <retry_after>`` (whole seconds, rounded up),
        ``{"ok": false, "error": "ratelimited"}``;
        200 → ``{"ok": false, "error": error}``; any other status → that HTTP status with an
        HTML body like Slack's edge proxies send, or ``{"ok": false, "error": error}`` if an
        error is given.
        """
        if status == 200 and not error:
            raise ValueError("fail_next(200, ...) needs an error code, e.g. 'channel_not_found'")
        self._queue_failure(status, count, error, retry_after)

    def _failure_reply(self, failure: Failure) -> Reply:
        if failure.status == 429:
            return Reply.json(
                429,
                {"ok": False, "error": failure.error or "ratelimited"},
                **{"Retry-After": str(math.ceil(failure.retry_after))},
            )
        if failure.error:
            return Reply.json(failure.status, {"ok": False, "error": failure.error})
        html = f"<html><body><h1>{failure.status} Server Error</h1></body></html>"
        return Reply(failure.status, html.encode(), "text/html; charset=utf-8")

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts_counter):06d}"

    def _handle(self, request: RecordedRequest) -> tuple[Reply, list[RecordedRequest] | None]:
        path = request.path.split("?", 1)[0]
        if not path.startswith("/api/"):
            return Reply(404, b"Not Found", "text/plain"), None
        method = path.removeprefix("/api/")
        params = self._parse_params(request)
        if params is None:
            return Reply.json(200, {"ok": False, "error": "invalid_json"}), None
        request.params = params

        authorization = request.header("Authorization")
        token = (
            authorization.removeprefix("Bearer ")
            if authorization and authorization.startswith("Bearer ")
            else params.get("token")
        )
        if not token:
            return Reply.json(200, {"ok": False, "error": "not_authed"}), None
        if token != self.token:
            return Reply.json(200, {"ok": False, "error": "invalid_auth"}), None

        if method == "auth.test":
            return Reply.json(
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
                return Reply.json(200, {"ok": False, "error": "no_such_subteam"}), None
            return Reply.json(200, {"ok": True, "users": self.usergroups[group]}), None
        return Reply.json(200, {"ok": False, "error": "unknown_method", "req_method": method}), None

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
    ) -> tuple[Reply, list[RecordedRequest] | None]:
        error = self._check_message(params)
        if error:
            return Reply.json(200, {"ok": False, "error": error}), None
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
        return Reply.json(
            200, {"ok": True, "channel": params["channel"], "ts": ts, "message": message}
        ), self._messages

    def _update_message(
        self, request: RecordedRequest, params: dict[str, Any]
    ) -> tuple[Reply, list[RecordedRequest] | None]:
        error = self._check_message(params)
        if error:
            return Reply.json(200, {"ok": False, "error": error}), None
        key = (str(params["channel"]), str(params.get("ts", "")))
        with self._lock:
            message = self._posted.get(key)
            if message is not None:
                message.update({"text": params.get("text", ""), "edited": {"ts": self._next_ts()}})
                if params.get("blocks"):
                    message["blocks"] = params["blocks"]
                message = dict(message)
        if message is None:
            return Reply.json(200, {"ok": False, "error": "message_not_found"}), None
        request.message_id = key[1]
        return Reply.json(
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
    ) -> tuple[Reply, list[RecordedRequest] | None]:
        error = self._check_message(params)
        if error:
            return Reply.json(200, {"ok": False, "error": error}), None
        if not params.get("user"):
            return Reply.json(200, {"ok": False, "error": "user_not_in_channel"}), None
        request.message_id = self._next_ts()
        return Reply.json(200, {"ok": True, "message_ts": request.message_id}), self._ephemerals

    def _open_view(self, params: dict[str, Any]) -> tuple[Reply, list[RecordedRequest] | None]:
        view = params.get("view")
        if isinstance(view, str):
            try:
                view = json.loads(view)
            except ValueError:
                return Reply.json(200, {"ok": False, "error": "invalid_arguments"}), None
        if not params.get("trigger_id"):
            return Reply.json(200, {"ok": False, "error": "invalid_trigger_id"}), None
        if not isinstance(view, dict) or view.get("type") != "modal" or not view.get("title"):
            return Reply.json(200, {"ok": False, "error": "invalid_arguments"}), None
        opened = {**view, "id": f"V{secrets.token_hex(5).upper()}", "team_id": self.TEAM_ID}
        return Reply.json(200, {"ok": True, "view": opened}), self._views
