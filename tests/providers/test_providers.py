"""Email and Slack backends through their real client libraries, against local fakes."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from fakes.providers import FakeSendGrid, FakeSlack

from partnerflow.domain.delivery import (
    PROVIDER_REJECTED,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from partnerflow.providers.email import (
    EmailAttachment,
    LocalOutboxEmailBackend,
    OutboundEmail,
    SendGridBackend,
)
from partnerflow.providers.slack import (
    LocalOutboxSlackBackend,
    OutboundSlack,
    SlackWebBackend,
)

SENDGRID_KEY = "SG.partnerflow-test-key"
SLACK_TOKEN = "xoxb-partnerflow-test-token"
CHANNEL = "C0PARTNERS"

ICS = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Partnerflow//EN\r\n"
    b"BEGIN:VEVENT\r\nUID:kickoff-42@partnerflow\r\nDTSTART:20250301T150000Z\r\n"
    b"SUMMARY:Partner kickoff\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
PDF_BYTES = b"%PDF-1.4\n\x00\xff\xfe binary \x80\x81 payload\n%%EOF\n"


def make_email(**overrides: object) -> OutboundEmail:
    values: dict[str, object] = {
        "idempotency_key": "wf-onboarding-42:welcome",
        "to": "ada@partner.example",
        "to_name": "Ada Lovelace",
        "from_email": "partners@partnerflow.example",
        "from_name": "Partnerflow Team",
        "subject": "Welcome to the partner program, Zoë",
        "text": "Hello Ada,\nwelcome aboard.",
        "html": "<p>Hello Ada,</p><p>welcome <b>aboard</b>.</p>",
    }
    values.update(overrides)
    return OutboundEmail(**values)  # type: ignore[arg-type]


def make_slack(**overrides: object) -> OutboundSlack:
    values: dict[str, object] = {
        "idempotency_key": "wf-onboarding-42:slack-new-partner",
        "channel": CHANNEL,
        "text": "New partner signed: *Acme Corp* :tada:",
    }
    values.update(overrides)
    return OutboundSlack(**values)  # type: ignore[arg-type]


def closed_port_url(path: str = "") -> str:
    """A 127.0.0.1 URL on which nothing listens."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


@pytest.fixture
def sendgrid() -> Iterator[FakeSendGrid]:
    with FakeSendGrid(api_key=SENDGRID_KEY) as fake:
        yield fake


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=SLACK_TOKEN, channels={CHANNEL, "C0GENERAL"}) as fake:
        yield fake


# -- SendGridBackend -------------------------------------------------------------------


def test_sendgrid_send_delivers_payload_and_returns_message_id(sendgrid: FakeSendGrid) -> None:
    email = make_email()

    message_id = SendGridBackend(SENDGRID_KEY, host=sendgrid.url).send(email)

    [sent] = sendgrid.messages
    assert message_id is not None
    assert message_id == sent.message_id
    assert sent.path == "/v3/mail/send"
    assert sent.header("Authorization") == f"Bearer {SENDGRID_KEY}"
    payload = sent.json
    assert payload["personalizations"][0]["to"] == [{"email": "ada@partner.example", "name": "Ada Lovelace"}]
    assert payload["from"] == {"email": "partners@partnerflow.example", "name": "Partnerflow Team"}
    assert payload["subject"] == "Welcome to the partner program, Zoë"
    assert payload["content"] == [
        {"type": "text/plain", "value": "Hello Ada,\nwelcome aboard."},
        {"type": "text/html", "value": "<p>Hello Ada,</p><p>welcome <b>aboard</b>.</p>"},
    ]
    assert payload["personalizations"][0]["custom_args"] == {"idempotency_key": "wf-onboarding-42:welcome"}
    assert "custom_args" not in payload  # the published schema types message-level ones as a string
    assert "attachments" not in payload
    assert "categories" not in payload


def test_sendgrid_returns_each_sends_own_message_id(sendgrid: FakeSendGrid) -> None:
    backend = SendGridBackend(SENDGRID_KEY, host=sendgrid.url)

    first = backend.send(make_email(idempotency_key="k-1"))
    second = backend.send(make_email(idempotency_key="k-2"))

    assert [first, second] == [m.message_id for m in sendgrid.messages]
    assert first != second
    keys = [m.json["personalizations"][0]["custom_args"]["idempotency_key"] for m in sendgrid.messages]
    assert keys == ["k-1", "k-2"]


def test_sendgrid_attachments_arrive_base64_with_filename_and_type(
    sendgrid: FakeSendGrid,
) -> None:
    email = make_email(
        attachments=[
            EmailAttachment("kickoff.ics", "text/calendar", ICS),
            EmailAttachment("agreement.pdf", "application/pdf", PDF_BYTES),
        ]
    )

    SendGridBackend(SENDGRID_KEY, host=sendgrid.url).send(email)

    [sent] = sendgrid.messages
    by_name = {a["filename"]: a for a in sent.json["attachments"]}
    assert sorted(by_name) == ["agreement.pdf", "kickoff.ics"]
    assert by_name["kickoff.ics"]["type"] == "text/calendar"
    assert by_name["agreement.pdf"]["type"] == "application/pdf"
    assert {a["disposition"] for a in by_name.values()} == {"attachment"}
    assert base64.b64decode(by_name["kickoff.ics"]["content"], validate=True) == ICS
    assert base64.b64decode(by_name["agreement.pdf"]["content"], validate=True) == PDF_BYTES


def test_sendgrid_keeps_attachment_order(sendgrid: FakeSendGrid) -> None:
    email = make_email(
        attachments=[
            EmailAttachment("kickoff.ics", "text/calendar", ICS),
            EmailAttachment("agreement.pdf", "application/pdf", PDF_BYTES),
        ]
    )

    SendGridBackend(SENDGRID_KEY, host=sendgrid.url).send(email)

    [sent] = sendgrid.messages
    assert [a["filename"] for a in sent.json["attachments"]] == ["kickoff.ics", "agreement.pdf"]


@pytest.mark.parametrize("status", [429, 500, 503])
def test_sendgrid_rate_limit_and_server_errors_are_transient(sendgrid: FakeSendGrid, status: int) -> None:
    sendgrid.fail_next(status)
    backend = SendGridBackend(SENDGRID_KEY, host=sendgrid.url)

    with pytest.raises(TransientDeliveryError, match=str(status)):
        backend.send(make_email())

    assert [r.status for r in sendgrid.requests] == [status]
    assert sendgrid.messages == []
    # The injected failure is used up: the retry Temporal would make goes through.
    assert backend.send(make_email()) == sendgrid.messages[0].message_id


def test_sendgrid_fail_next_count_covers_several_attempts(sendgrid: FakeSendGrid) -> None:
    sendgrid.fail_next(429, count=2)
    backend = SendGridBackend(SENDGRID_KEY, host=sendgrid.url)

    for _ in range(2):
        with pytest.raises(TransientDeliveryError):
            backend.send(make_email())
    message_id = backend.send(make_email())

    assert [r.status for r in sendgrid.requests] == [429, 429, 202]
    assert message_id == sendgrid.messages[0].message_id


def test_sendgrid_bad_request_is_permanent(sendgrid: FakeSendGrid) -> None:
    sendgrid.fail_next(400, error="The from address does not match a verified Sender Identity.")

    with pytest.raises(PermanentDeliveryError, match="verified Sender Identity") as caught:
        SendGridBackend(SENDGRID_KEY, host=sendgrid.url).send(make_email())

    assert caught.value.kind == PROVIDER_REJECTED
    assert "400" in str(caught.value)
    assert sendgrid.messages == []


@pytest.mark.parametrize(
    ("overrides", "error_field"),
    [
        ({"to": "not-an-address"}, "personalizations.0.to.0.email"),
        ({"subject": ""}, "subject"),
        ({"html": ""}, "content.1.value"),
    ],
)
def test_sendgrid_payload_rejected_by_validation_is_permanent(
    sendgrid: FakeSendGrid, overrides: dict[str, object], error_field: str
) -> None:
    with pytest.raises(PermanentDeliveryError, match=error_field) as caught:
        SendGridBackend(SENDGRID_KEY, host=sendgrid.url).send(make_email(**overrides))

    assert caught.value.kind == PROVIDER_REJECTED
    assert [r.status for r in sendgrid.requests] == [400]
    assert sendgrid.messages == []


def test_sendgrid_wrong_api_key_is_permanent(sendgrid: FakeSendGrid) -> None:
    with pytest.raises(PermanentDeliveryError, match="401") as caught:
        SendGridBackend("SG.revoked-key", host=sendgrid.url).send(make_email())

    assert caught.value.kind == PROVIDER_REJECTED
    [request] = sendgrid.requests
    assert request.status == 401
    assert request.header("Authorization") == "Bearer SG.revoked-key"
    assert sendgrid.messages == []


def test_sendgrid_unreachable_is_transient() -> None:
    backend = SendGridBackend(SENDGRID_KEY, host=closed_port_url())

    with pytest.raises(TransientDeliveryError, match="unreachable"):
        backend.send(make_email())


# -- SlackWebBackend -------------------------------------------------------------------


def test_slack_post_delivers_message_and_returns_ts(slack: FakeSlack) -> None:
    ts = SlackWebBackend(SLACK_TOKEN, base_url=slack.url).post(make_slack())

    [posted] = slack.messages
    assert ts is not None
    assert ts == posted.message_id
    assert posted.path == "/api/chat.postMessage"
    assert posted.header("Authorization") == f"Bearer {SLACK_TOKEN}"
    assert posted.params["channel"] == CHANNEL
    assert posted.params["text"] == "New partner signed: *Acme Corp* :tada:"
    assert posted.params["unfurl_links"] is False
    assert "blocks" not in posted.params


def test_slack_blocks_arrive_and_each_post_gets_its_own_ts(slack: FakeSlack) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Acme Corp* joined"}}]
    backend = SlackWebBackend(SLACK_TOKEN, base_url=slack.url)

    first = backend.post(make_slack(blocks=blocks))
    second = backend.post(make_slack(channel="C0GENERAL", text="second"))

    assert [first, second] == [m.message_id for m in slack.messages]
    assert first != second
    assert slack.messages[0].params["blocks"] == blocks
    assert slack.messages[1].params["channel"] == "C0GENERAL"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (429, None),  # HTTP 429, Retry-After, "ratelimited"
        (500, None),  # HTTP 500 with an HTML body
        (503, None),
        (200, "ratelimited"),  # ok:false with a retryable error code
        (200, "internal_error"),
    ],
)
def test_slack_rate_limit_and_server_errors_are_transient(
    slack: FakeSlack, status: int, error: str | None
) -> None:
    slack.fail_next(status, error=error)
    backend = SlackWebBackend(SLACK_TOKEN, base_url=slack.url)

    with pytest.raises(TransientDeliveryError, match=error or str(status)):
        backend.post(make_slack())

    # No client-side retries: Temporal owns them.
    assert [r.status for r in slack.requests] == [status]
    assert slack.messages == []
    assert backend.post(make_slack()) == slack.messages[0].message_id


def test_slack_invalid_auth_is_permanent(slack: FakeSlack) -> None:
    with pytest.raises(PermanentDeliveryError, match="invalid_auth") as caught:
        SlackWebBackend("xoxb-revoked", base_url=slack.url).post(make_slack())

    assert caught.value.kind == PROVIDER_REJECTED
    [request] = slack.requests
    assert request.header("Authorization") == "Bearer xoxb-revoked"
    assert slack.messages == []


def test_slack_unknown_channel_is_permanent(slack: FakeSlack) -> None:
    with pytest.raises(PermanentDeliveryError, match="channel_not_found") as caught:
        SlackWebBackend(SLACK_TOKEN, base_url=slack.url).post(make_slack(channel="C0ARCHIVED"))

    assert caught.value.kind == PROVIDER_REJECTED
    assert slack.messages == []


def test_slack_injected_channel_not_found_is_permanent(slack: FakeSlack) -> None:
    slack.fail_next(200, error="channel_not_found")

    with pytest.raises(PermanentDeliveryError, match="channel_not_found"):
        SlackWebBackend(SLACK_TOKEN, base_url=slack.url).post(make_slack())

    assert slack.messages == []


def test_slack_unreachable_is_transient() -> None:
    backend = SlackWebBackend(SLACK_TOKEN, base_url=closed_port_url("/api/"))

    with pytest.raises(TransientDeliveryError, match="unreachable"):
        backend.post(make_slack())


def test_slack_stopped_fake_is_unreachable() -> None:
    fake = FakeSlack(token=SLACK_TOKEN).start()
    fake.stop()

    with pytest.raises(TransientDeliveryError):
        SlackWebBackend(SLACK_TOKEN, base_url=fake.url).post(make_slack())


async def test_fakes_work_from_async_tests() -> None:
    async with FakeSlack(token=SLACK_TOKEN) as slack, FakeSendGrid(SENDGRID_KEY) as sendgrid:
        ts, message_id = await asyncio.gather(
            asyncio.to_thread(SlackWebBackend(SLACK_TOKEN, base_url=slack.url).post, make_slack()),
            asyncio.to_thread(SendGridBackend(SENDGRID_KEY, host=sendgrid.url).send, make_email()),
        )

    assert ts == slack.wait_for_messages(1)[0].message_id
    assert message_id == sendgrid.wait_for_messages(1)[0].message_id


# -- the fakes themselves, over plain HTTP ---------------------------------------------


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read()


def test_fake_sendgrid_reports_every_validation_error(sendgrid: FakeSendGrid) -> None:
    body = json.dumps({"personalizations": [{"to": []}], "content": [{"type": "text/plain"}]})

    status, _, answer = _post(
        f"{sendgrid.url}/v3/mail/send",
        body.encode(),
        {"Authorization": f"Bearer {SENDGRID_KEY}", "Content-Type": "application/json"},
    )

    assert status == 400
    fields = [error["field"] for error in json.loads(answer)["errors"]]
    assert fields == ["personalizations.0.to", "from", "subject", "content.0.value"]


def test_fake_sendgrid_auth_and_rate_limit_shapes(sendgrid: FakeSendGrid) -> None:
    url = f"{sendgrid.url}/v3/mail/send"

    status, _, answer = _post(url, b"{}", {"Authorization": "Bearer nope"})
    assert status == 401
    assert json.loads(answer)["errors"][0]["message"]

    sendgrid.fail_next(429)
    status, headers, answer = _post(url, b"{}", {"Authorization": f"Bearer {SENDGRID_KEY}"})
    assert status == 429
    assert "Retry-After" not in headers and headers["X-RateLimit-Remaining"] == "0"
    assert 0 < int(headers["X-RateLimit-Reset"]) - time.time() <= 2
    assert json.loads(answer) == {"errors": [{"message": "too many requests", "field": None, "help": None}]}


def test_fake_slack_accepts_form_posts_and_serves_update_and_auth_test(slack: FakeSlack) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    blocks = [{"type": "section", "text": {"type": "plain_text", "text": "hi"}}]
    body = urllib.parse.urlencode({"token": SLACK_TOKEN, "channel": CHANNEL, "blocks": json.dumps(blocks)})

    status, _, answer = _post(f"{slack.url}chat.postMessage", body.encode(), form)
    posted = json.loads(answer)
    assert (status, posted["ok"], posted["channel"]) == (200, True, CHANNEL)
    assert slack.messages[0].params["blocks"] == blocks

    auth = {"Authorization": f"Bearer {SLACK_TOKEN}", "Content-Type": "application/json"}
    update = json.dumps({"channel": CHANNEL, "ts": posted["ts"], "text": "edited"}).encode()
    _, _, answer = _post(f"{slack.url}chat.update", update, auth)
    assert json.loads(answer)["message"]["text"] == "edited"
    assert [u.message_id for u in slack.updates] == [posted["ts"]]
    assert len(slack.messages) == 1

    _, _, answer = _post(f"{slack.url}auth.test", b"", {"Authorization": f"Bearer {SLACK_TOKEN}"})
    assert json.loads(answer)["ok"] is True

    no_text = json.dumps({"channel": CHANNEL}).encode()
    _, _, answer = _post(f"{slack.url}chat.postMessage", no_text, auth)
    assert json.loads(answer) == {"ok": False, "error": "no_text"}

    _, _, answer = _post(f"{slack.url}chat.postMessage", no_text, {})
    assert json.loads(answer) == {"ok": False, "error": "not_authed"}


# -- local outboxes --------------------------------------------------------------------


def test_local_outbox_email_writes_parseable_eml(tmp_path: Path) -> None:
    email = make_email(
        idempotency_key="wf/onboarding 42:welcome",
        attachments=[
            EmailAttachment("kickoff.ics", "text/calendar", ICS),
            EmailAttachment("agreement.pdf", "application/pdf", PDF_BYTES),
        ],
    )

    message_id = LocalOutboxEmailBackend(tmp_path).send(email)

    [path] = (tmp_path / "email").glob("*.eml")
    assert path.name.endswith("-wf_onboarding_42_welcome.eml")
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert message["Message-ID"] == message_id
    assert message["Subject"] == "Welcome to the partner program, Zoë"
    assert message["From"].addresses[0].display_name == "Partnerflow Team"
    assert message["From"].addresses[0].addr_spec == "partners@partnerflow.example"
    assert message["To"].addresses[0].display_name == "Ada Lovelace"
    assert message["To"].addresses[0].addr_spec == "ada@partner.example"
    assert message["X-Idempotency-Key"] == "wf/onboarding 42:welcome"

    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and plain.get_content().rstrip("\n") == email.text
    assert html is not None and html.get_content().rstrip("\n") == email.html

    attachments = list(message.iter_attachments())
    assert [(a.get_filename(), a.get_content_type()) for a in attachments] == [
        ("kickoff.ics", "text/calendar"),
        ("agreement.pdf", "application/pdf"),
    ]
    assert attachments[0].get_payload(decode=True) == ICS
    assert attachments[1].get_payload(decode=True) == PDF_BYTES


def test_local_outbox_email_without_attachments_is_a_plain_alternative(tmp_path: Path) -> None:
    LocalOutboxEmailBackend(tmp_path).send(make_email())

    [path] = (tmp_path / "email").glob("*.eml")
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert message.get_content_type() == "multipart/alternative"
    assert list(message.iter_attachments()) == []


def test_local_outbox_email_keeps_accented_text_readable_and_long_lines_legal(tmp_path: Path) -> None:
    text = "Bonjour Zoë,\nvotre portail : https://partners.example/portal/abc\n"
    html = "<p>Bonjour Zoë</p>" + "<span>x</span>" * 100  # one line past SMTP's 998 octets
    LocalOutboxEmailBackend(tmp_path).send(make_email(text=text, html=html, to_name="Zoë Ørsted"))

    [path] = (tmp_path / "email").glob("*.eml")
    raw = path.read_bytes()
    assert "Bonjour Zoë,".encode() in raw  # as written, not encoded: the outbox is for reading
    assert max(len(line) for line in raw.splitlines()) <= 998
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert message["To"].addresses[0].display_name == "Zoë Ørsted"
    plain, rich = message.get_body(preferencelist=("plain",)), message.get_body(preferencelist=("html",))
    assert plain is not None and plain.get_content() == text
    assert rich is not None and rich.get_content().rstrip("\n") == html


def test_local_outbox_slack_writes_readable_text(tmp_path: Path) -> None:
    message = make_slack(idempotency_key="wf/onboarding:slack", text="Acme Corp a signé ✅")

    message_id = LocalOutboxSlackBackend(tmp_path).post(message)

    [path] = (tmp_path / "slack").glob("*.txt")
    assert path.name.endswith("-wf_onboarding_slack.txt")
    header, _, body = path.read_text(encoding="utf-8").partition("\n\n")
    fields = dict(line.split(": ", 1) for line in header.splitlines())
    assert fields["To"] == CHANNEL
    assert datetime.fromisoformat(fields["At"]).tzinfo is not None
    assert body == "Acme Corp a signé ✅\n"
    assert message_id is not None and message_id.startswith("local-")
    float(message_id.removeprefix("local-"))
