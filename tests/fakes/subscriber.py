"""A local webhook subscriber: verifies ``Partnerflow-Signature`` like a real integration would.

    with FakeSubscriber(secret="whsec_...") as subscriber:   # or set .secret after subscribing
        subscriber.fail_next(500, count=2)                   # then 2xx again
        subscriber.recover()                                 # forget the failures still queued
        subscriber.go_down()                                 # connection refused until come_up()
        ...
        assert [e["type"] for e in subscriber.events] == ["partner.applied"]

Requests with a bad or missing signature are answered 401 and not counted as events.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from partnerflow.rendering import signing


@dataclass
class Received:
    """One request as the subscriber saw it, and what it answered."""

    body: bytes
    signature: str | None
    status: int
    verified: bool
    error: str | None = None

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def timestamp(self) -> int:
        """The ``t=`` of the signature header."""
        assert self.signature
        return int(dict(part.split("=", 1) for part in self.signature.split(","))["t"])


class FakeSubscriber:
    def __init__(self, secret: str = "", path: str = "/hooks/partnerflow") -> None:
        self.secret = secret
        self.path = path
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._failures: list[int] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}{self.path}"

    # -- behaviour -------------------------------------------------------------------

    def fail_next(self, status: int, count: int = 1) -> None:
        """Answer the next ``count`` requests with ``status`` (before checking the signature)."""
        with self._lock:
            self._failures.extend([status] * count)

    def recover(self) -> None:
        """Answer normally from now on (drop the failures ``fail_next`` still has queued)."""
        with self._lock:
            self._failures.clear()

    def go_down(self) -> None:
        """Stop listening: senders get connection refused (the port is kept for come_up)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def come_up(self) -> Self:
        if self._server is not None:
            return self
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake._serve(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        server.daemon_threads = True
        self._server, self._port = server, server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __enter__(self) -> Self:
        return self.come_up()

    def __exit__(self, *exc: object) -> None:
        self.go_down()

    # -- inspection ------------------------------------------------------------------

    @property
    def received(self) -> list[Received]:
        """Every request, refused ones included (a snapshot)."""
        with self._lock:
            return list(self._received)

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.received if 200 <= r.status < 300]

    @property
    def events(self) -> list[dict[str, Any]]:
        """Bodies of the accepted (signed, 2xx) deliveries, in arrival order."""
        return [r.json for r in self.accepted]

    # -- request handling ------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        header = handler.headers.get(signing.SIGNATURE_HEADER)
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        verified, error = False, None
        try:
            signing.verify(self.secret, header, body)
            verified = True
        except signing.SignatureError as exc:
            error = str(exc)
        status = failure or (204 if verified else 401)
        if handler.path != self.path:
            status = 404
        with self._lock:
            self._received.append(Received(body, header, status, verified, error))
        reply = b"" if status == 204 else json.dumps({"error": error or f"status {status}"}).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(reply)))
        handler.end_headers()
        handler.wfile.write(reply)
