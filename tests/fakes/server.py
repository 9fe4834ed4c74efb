"""Shared plumbing of the provider fakes: a stdlib HTTP server on a daemon thread.

Each fake is a ``ThreadingHTTPServer`` on ``127.0.0.1`` (a free port) served from a daemon
thread, so it works the same from sync tests and from async tests. ``.requests`` records every
request (failures included), ``.messages`` only the accepted ones; both return snapshots taken
under a lock. ``fail_next(...)`` injects provider trouble for the next requests, before any
authentication or validation.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


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
    at: float = field(default_factory=time.monotonic)  # when it arrived (time.monotonic())

    def header(self, name: str) -> str | None:
        """A request header, looked up case-insensitively."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, **headers: str) -> Reply:
        return cls(status, json.dumps(payload).encode(), "application/json", dict(headers))


@dataclass
class Failure:
    status: int
    error: str | None
    retry_after: float = 1.0  # seconds the provider asks the client to wait (429s)
    delay: float = 0.0  # seconds to sit on the request before answering (a slow provider)


class FakeServer:
    """Shared plumbing: server thread, request log, failure injection."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._requests: list[RecordedRequest] = []
        self._messages: list[RecordedRequest] = []
        self._failures: list[Failure] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None
        self._chaos_rate = 0.0
        self._chaos_failures: list[Failure] = []
        self._random: Any = None

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

    def _queue_failure(
        self, status: int, count: int, error: str | None, retry_after: float = 1.0, delay: float = 0.0
    ) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._failures.extend(Failure(status, error, retry_after, delay) for _ in range(count))

    def chaos(self, rate: float, failures: list[Failure] | None = None, seed: int | None = None) -> None:
        """From now on, answer a share ``rate`` of requests with one of ``failures`` at random.

        Queued ``fail_next`` failures come first. ``rate=0`` turns chaos off. The default mix is
        429 (with the provider's back-off header), 500, 503 and a slow 504.
        """
        import random

        with self._lock:
            self._chaos_rate = rate
            self._chaos_failures = failures or [
                Failure(429, None, retry_after=2.0),
                Failure(500, None),
                Failure(503, None),
                Failure(504, None, delay=2.0),
            ]
            self._random = random.Random(seed)

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
            if failure is None and self._chaos_rate and self._random.random() < self._chaos_rate:
                failure = self._random.choice(self._chaos_failures)
        if failure is not None and failure.delay:
            time.sleep(failure.delay)
        target: list[RecordedRequest] | None = None
        if failure is not None:
            reply = self._failure_reply(failure)
        else:
            try:
                reply, target = self._handle(request)
            except Exception as exc:  # a bug in the fake: answer 500 rather than hang
                reply = Reply(500, f"fake server error: {exc!r}".encode(), "text/plain")
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

    def _handle(self, request: RecordedRequest) -> tuple[Reply, list[RecordedRequest] | None]:
        """The reply, and the list to record the request in besides ``.requests``."""
        raise NotImplementedError

    def _failure_reply(self, failure: Failure) -> Reply:
        raise NotImplementedError
