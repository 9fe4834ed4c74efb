"""A local HTTP server that speaks SendGrid's v3 Mail Send for tests::

    with FakeSendGrid(api_key="SG.test") as sendgrid:
        backend = SendGridBackend("SG.test", host=sendgrid.url)
        ...
        assert sendgrid.messages[0].json["subject"] == "Welcome"

Every body is checked the way SendGrid checks it (``fakes.sendgrid_rules``: the vendored
official request schema plus SendGrid's documented rules); a refused one gets SendGrid's
``400 {"errors": [{"message", "field", "help"}]}``.
"""

from __future__ import annotations

import json
import math
import secrets
import time
from typing import Any

from fakes.sendgrid_rules import MailError, validate
from fakes.server import Failure, FakeServer, RecordedRequest, Reply


def sendgrid_errors(*errors: MailError) -> dict[str, Any]:
    """SendGrid's error body."""
    return {"errors": [error.as_json() for error in errors]}


class FakeSendGrid(FakeServer):
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

    def fail_next(
        self, status: int, count: int = 1, error: str | None = None, retry_after: float = 1.0
    ) -> None:
        """Answer the next ``count`` requests with ``status``.

        A 429 carries SendGrid's rate-limit headers: ``X-RateLimit-Limit``,
        ``X-RateLimit-Remaining: 0`` and ``X-RateLimit-Reset``, the Unix time ``retry_after``
        seconds from now when the limit resets.
        """
        self._queue_failure(status, count, error, retry_after)

    @staticmethod
    def validate(payload: Any) -> list[MailError]:
        """Why SendGrid would refuse this mail/send body; empty if it would accept it."""
        return validate(payload)

    def _failure_reply(self, failure: Failure) -> Reply:
        default = {
            400: "Bad Request",
            401: "The provided authorization grant is invalid, expired, or revoked",
            403: "access forbidden",
            413: "The JSON payload you have included in your request is too large.",
            429: "too many requests",
        }.get(failure.status, "An internal server error occurred. Please try again later.")
        headers = {}
        if failure.status == 429:  # SendGrid's documented rate-limit headers (no Retry-After)
            reset = math.ceil(time.time() + failure.retry_after)
            headers = {
                "X-RateLimit-Limit": "600",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(reset),
            }
        error = MailError(None, failure.error or default)
        return Reply.json(failure.status, sendgrid_errors(error), **headers)

    def _handle(self, request: RecordedRequest) -> tuple[Reply, list[RecordedRequest] | None]:
        path = request.path.split("?", 1)[0]
        if path != self.SEND_PATH:
            return Reply.json(404, sendgrid_errors(MailError(None, "not found"))), None
        if request.method != "POST":
            return Reply.json(405, sendgrid_errors(MailError(None, "method not allowed"))), None
        if request.header("Authorization") != f"Bearer {self.api_key}":
            message = "The provided authorization grant is invalid, expired, or revoked"
            if request.header("Authorization") is None:
                message = "Permission denied, wrong credentials"
            return Reply.json(401, sendgrid_errors(MailError(None, message))), None
        try:
            payload = json.loads(request.body)
        except ValueError:
            return Reply.json(400, sendgrid_errors(MailError(None, "Bad Request"))), None
        request.json = payload
        if isinstance(payload, dict):
            request.params = payload
        errors = validate(payload)
        if errors:
            return Reply.json(400, sendgrid_errors(*errors)), None
        request.message_id = secrets.token_urlsafe(16)
        return Reply(202, b"", "text/plain", {"X-Message-Id": request.message_id}), self._messages
