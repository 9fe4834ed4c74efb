"""No secret, token or signature in any log line, even at DEBUG, across the service's front doors."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from conftest import MANAGER_TOKENS, WEBHOOK_SECRET, make_settings
from fakes.providers import FakeSendGrid, FakeSlack
from helpers import eventually, messages
from logcapture import production_logs
from pydantic import SecretStr
from service import ALICE, running_service
from slack_sdk.signature import SignatureVerifier
from temporalio.testing import WorkflowEnvironment

from partnerflow.observability.redaction import MASK, RedactionFilter, redact
from partnerflow.rendering import signing
from partnerflow.rendering.tokens import make_portal_token

SLACK_SECRET, SLACK_TOKEN = "slack-signing-secret-0123456789", "xoxb-1111-2222-redaction-test"
SENDGRID_KEY = "SG.redaction-test-key.abcdefghijklmnop"
ALICE_U = {"id": "U0ALICE", "username": "alice", "name": "alice", "team_id": "T0FAKE"}


def slack_headers(body: bytes) -> dict[str, str]:
    ts = str(int(time.time()))
    signature = SignatureVerifier(SLACK_SECRET).generate_signature(timestamp=ts, body=body) or ""
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def approve_click(message: Any, partner_id: str) -> dict[str, Any]:
    [actions] = [b for b in message.params["blocks"] if b["type"] == "actions"]
    [button] = [e for e in actions["elements"] if e["action_id"] == "approve_application"]
    channel, ts = message.params["channel"], message.message_id
    return {
        "type": "block_actions", "user": ALICE_U, "api_app_id": "A0FAKE", "trigger_id": "trig-1",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False},
        "team": {"id": "T0FAKE"}, "channel": {"id": channel, "name": "partners"},
        "message": {"type": "message", "ts": ts, "text": message.params["text"], "blocks": message.params["blocks"]},
        "actions": [button | {"block_id": actions["block_id"], "action_ts": str(time.time())}],
    }  # fmt: skip


async def test_no_secret_reaches_the_logs(dev_env: WorkflowEnvironment, tmp_path: Path) -> None:
    used: dict[str, str] = {}  # what must never be logged, by what it is
    with (
        production_logs(make_settings(tmp_path, slack_bot_token=SecretStr(SLACK_TOKEN)), "DEBUG") as buffer,
        FakeSlack(token=SLACK_TOKEN) as slack,
        FakeSendGrid(api_key=SENDGRID_KEY) as sendgrid,
    ):
        async with running_service(
            dev_env,
            tmp_path,
            uvicorn_logs_to_root=True,
            slack_bot_token=SecretStr(SLACK_TOKEN),
            slack_base_url=slack.url,
            slack_channel="C0PARTNERS",
            slack_signing_secret=SecretStr(SLACK_SECRET),
            sendgrid_api_key=SecretStr(SENDGRID_KEY),
            sendgrid_host=sendgrid.url,
        ) as service:
            # 1. the signup webhook, HMAC-signed
            body = json.dumps({"email": "ada@example.com", "name": "Ada Lovelace"}).encode()
            header = signing.sign(WEBHOOK_SECRET, body)
            used |= {"signature header": header, "signature": header.split("v1=")[1]}
            response = await service.http.post(
                "/webhooks/partner-signup", content=body, headers={signing.SIGNATURE_HEADER: header}
            )
            assert response.status_code == 202, response.text
            pid = response.json()["partner_id"]

            # 2. manager calls with a bearer token (and one with a wrong token)
            assert (await service.http.get(f"/partners/{pid}", headers=ALICE)).status_code == 200
            wrong = {"Authorization": "Bearer tok-guessed-by-mallory"}
            assert (await service.http.get(f"/partners/{pid}", headers=wrong)).status_code == 401
            used["guessed token"] = "tok-guessed-by-mallory"
            await service.approve(pid)
            await eventually(
                lambda: [m for m in messages(service.engine, partner_id=pid) if m.template == "welcome"]
            )

            # 3. the partner's signed portal link, as emailed
            token = make_portal_token(service.settings.portal_signing_key, pid)
            used["portal token"] = token
            assert (await service.http.get(f"/portal/{token}")).status_code == 200
            assert (await service.http.get(f"/portal/{token}x")).status_code == 403

            # 4. a Slack button click, signed with the Slack signing secret
            other = await service.signup({"email": "grace@example.com", "name": "Grace Hopper"})
            other_id = other.json()["partner_id"]
            [posted] = await eventually(
                lambda: [m for m in slack.messages if other_id in json.dumps(m.params)]
            )
            slack_body = urlencode({"payload": json.dumps(approve_click(posted, other_id))}).encode()
            headers = slack_headers(slack_body)
            used["slack signature"] = headers["X-Slack-Signature"]
            click = await service.http.post("/slack/interactions", content=slack_body, headers=headers)
            assert click.status_code == 200
            await asyncio.to_thread(slack.wait_for, "updates", 1)

    logged = buffer.getvalue()
    used |= {
        "webhook secret": WEBHOOK_SECRET,
        "portal secret": "portal-test-secret",
        "slack signing secret": SLACK_SECRET,
        "slack bot token": SLACK_TOKEN,
        "sendgrid key": SENDGRID_KEY,
        **{f"manager token {name}": token for name, token in re.findall(r"(\w+):([\w-]+)", MANAGER_TOKENS)},
    }
    leaked = {what for what, value in used.items() if value in logged}
    assert not leaked, f"logged: {leaked}"
    # ...and the requests were logged, masked
    assert f"GET /portal/{MASK} HTTP/1.1" in logged
    assert f'"GET /partners/{pid} HTTP/1.1" 401' in logged
    assert "POST /slack/interactions" in logged and "POST /webhooks/partner-signup" in logged
    assert len(logged.splitlines()) > 100, "DEBUG logs of every library were captured"


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("Authorization: Bearer abc.def-ghi", "Authorization: Bearer [REDACTED]"),
        ("Partnerflow-Signature: t=1700000000,v1=" + "ab" * 32, "v1=[REDACTED]"),
        ("header t=1700000000,v1=" + "ab" * 32, "t=1700000000,v1=[REDACTED]"),
        ("x-slack-signature=v0=" + "cd" * 32, "[REDACTED]"),
        ('"GET /portal/eyJwIjoiYWJjIn0.ZbC9xw.sig HTTP/1.1" 200', '"GET /portal/[REDACTED] HTTP/1.1" 200'),
        ("POST /outreach/unsubscribe/abc.def", "/outreach/unsubscribe/[REDACTED]"),
        ("token=xoxb-123-456-abc", "token=[REDACTED]"),
        ("using SG.abcdefghijk.lmnopqrstuv", "using [REDACTED]"),
        ("secret whsec_abcdefghijklmnopqrstuv", "secret [REDACTED]"),
        ("postgresql://partnerflow:hunter2@db:5432/pf", "postgresql://partnerflow:[REDACTED]@db:5432/pf"),
        ('{"api_key": "k-123456"}', '{"api_key": "[REDACTED]"}'),
    ],
)
def test_credential_shapes_are_masked(line: str, kept: str) -> None:
    masked = redact(line)
    assert kept in masked
    assert "hunter2" not in masked and "abc.def-ghi" not in masked and "ab" * 32 not in masked


def test_configured_secret_values_are_masked_anywhere(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, sendgrid_api_key=SecretStr("plain-looking-key-42"))
    filter_ = RedactionFilter(settings.secret_values)
    record = __import__("logging").makeLogRecord(
        {"msg": "key %s and %s", "args": ("plain-looking-key-42", "tok-alice"), "extra_field": "whsec_test"}
    )
    assert filter_.filter(record)
    assert record.getMessage() == f"key {MASK} and {MASK}"
    assert record.__dict__["extra_field"] == MASK
    assert "portal:" not in record.getMessage()


def test_tracebacks_are_masked_too(tmp_path: Path) -> None:
    import logging

    with production_logs(make_settings(tmp_path)) as buffer:
        try:
            raise RuntimeError("refused: Authorization: Bearer tok-alice")
        except RuntimeError:
            logging.getLogger("partnerflow.test").exception("call failed")
    assert "tok-alice" not in buffer.getvalue() and "Bearer [REDACTED]" in buffer.getvalue()
