"""The fake SendGrid refuses what SendGrid refuses, with SendGrid's 400 body, and our backend
turns such a refusal into a permanent (non-retryable) failure."""

from __future__ import annotations

import base64
import copy
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import make_settings
from fakes.providers import FakeSendGrid
from fakes.sendgrid_rules import ATTACHMENT_TYPE, RESERVED_HEADERS
from fakes.sendgrid_schema import openapi_to_json_schema, schema_problems
from helpers import add_partner, messages
from pydantic import SecretStr
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from partnerflow.activities.messaging import MessagingActivities
from partnerflow.domain.delivery import PROVIDER_REJECTED, PermanentDeliveryError
from partnerflow.domain.messages import EmailRequest
from partnerflow.providers import email_backend, slack_backend
from partnerflow.providers.email import EmailAttachment, OutboundEmail, SendGridBackend
from partnerflow.store.db import make_engine, upgrade

KEY = "SG.fake-rules"
Body = dict[str, Any]
VALID: Body = {
    "personalizations": [{"to": [{"email": "ada@partner.example", "name": "Ada"}], "custom_args": {"k": "v"}}],
    "from": {"email": "partners@partnerflow.example", "name": "Partnerflow"},
    "subject": "Welcome",
    "content": [{"type": "text/plain", "value": "Hi"}, {"type": "text/html", "value": "<p>Hi</p>"}],
    "attachments": [{"content": base64.b64encode(b"BEGIN:VCALENDAR").decode(), "type": "text/calendar",
                     "filename": "invite.ics", "disposition": "attachment"}],
    "headers": {"List-Unsubscribe": "<https://x.example/u>"},
    "categories": ["partnerflow", "welcome"],
}  # fmt: skip


@pytest.fixture(scope="module")
def sendgrid() -> Iterator[FakeSendGrid]:
    with FakeSendGrid(api_key=KEY) as fake:
        yield fake


def post(fake: FakeSendGrid, body: Body) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{fake.url}/v3/mail/send",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def changed(change: Callable[[Body], None]) -> Body:
    body = copy.deepcopy(VALID)
    change(body)
    return body


def test_the_valid_body_is_accepted(sendgrid: FakeSendGrid) -> None:
    assert post(sendgrid, VALID) == (202, b"")


VIOLATIONS: dict[str, tuple[Callable[[Body], None], str]] = {
    "attachment type with ';'": (
        lambda b: b["attachments"][0].update(type="text/calendar; method=REQUEST"),
        "attachments.0.type",
    ),
    "attachment type with CRLF": (
        lambda b: b["attachments"][0].update(type="text/calendar\r\nX-Injected: 1"),
        "attachments.0.type",
    ),
    "html before plain": (lambda b: b["content"].reverse(), "content"),
    "plain after another type": (lambda b: b["content"].insert(0, {"type": "text/x-amp-html", "value": "a"}), "content"),
    "reserved header": (lambda b: b["headers"].update({"Reply-To": "x@y.example"}), "headers"),
    "reserved header, other case": (lambda b: b["headers"].update({"dKIM-sIGNATURE": "v=1"}), "headers"),
    "reserved header in a personalization": (
        lambda b: b["personalizations"][0].update(headers={"BCC": "spy@y.example"}),
        "personalizations.0.headers",
    ),
    "custom args over 10,000 bytes": (
        lambda b: b["personalizations"][0]["custom_args"].update(big="x" * 10_000),
        "personalizations.0.custom_args",
    ),
    "custom arg not a string": (
        lambda b: b["personalizations"][0]["custom_args"].update(n=7),
        "personalizations.0.custom_args.n",
    ),
    "11 categories": (lambda b: b.update(categories=[f"c{i}" for i in range(11)]), "categories"),
    "category of 256 characters": (lambda b: b.update(categories=["c" * 256]), "categories.0"),
    "non-ASCII category": (lambda b: b.update(categories=["bienvenue-été"]), "categories.0"),
    "1001 personalizations": (lambda b: b.update(personalizations=b["personalizations"] * 1001), "personalizations"),
    "no personalization": (lambda b: b.update(personalizations=[]), "personalizations"),
    "no subject": (lambda b: b.pop("subject"), "subject"),
    "blank subject": (lambda b: b.update(subject="  "), "subject"),
    # Straight from the vendored schema (no hand-written rule): proves it is applied, $refs included.
    "schema: disposition not in the enum": (lambda b: b["attachments"][0].update(disposition="sideways"),
                                            "attachments.0.disposition"),
    "schema: reply_to without email ($ref MailTo)": (lambda b: b.update(reply_to={"name": "x"}), "reply_to.email"),
    "schema: asm without group_id": (lambda b: b.update(asm={}), "asm.group_id"),
    "schema: ip pool name too short": (lambda b: b.update(ip_pool_name="x"), "ip_pool_name"),
    "schema: duplicate categories": (lambda b: b.update(categories=["a", "a"]), "categories"),
}  # fmt: skip


@pytest.mark.parametrize("violation", VIOLATIONS)
def test_fake_refuses_with_sendgrids_400_body(sendgrid: FakeSendGrid, violation: str) -> None:
    change, field = VIOLATIONS[violation]

    status, body = post(sendgrid, changed(change))

    assert status == 400
    assert set(body) == {"errors"}
    assert [error["field"] for error in body["errors"]] == [field]
    [error] = body["errors"]
    assert set(error) == {"message", "field", "help"} and error["message"]
    assert error["help"].startswith(
        "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message."
    )


def test_attachment_type_message_is_sendgrids_own(sendgrid: FakeSendGrid) -> None:
    _, body = post(sendgrid, changed(VIOLATIONS["attachment type with ';'"][0]))
    assert (
        body["errors"][0]["message"]
        == ATTACHMENT_TYPE
        == "The attachment type cannot contain ';', or CRLF characters."
    )


@pytest.mark.parametrize("header", sorted(RESERVED_HEADERS))
def test_every_reserved_header_is_refused(sendgrid: FakeSendGrid, header: str) -> None:
    status, body = post(sendgrid, changed(lambda b: b["headers"].update({header: "x"})))
    assert status == 400 and header in body["errors"][0]["message"]


ALLOWED: dict[str, Callable[[Body], None]] = {
    "exactly 10 categories": lambda b: b.update(categories=[f"c{i}" for i in range(10)]),
    "a category of 255 characters": lambda b: b.update(categories=["c" * 255]),
    "custom args of exactly 10,000 bytes": lambda b: b["personalizations"][0].update(
        custom_args={"k": "v" * (10_000 - len('{"k":""}'))}
    ),
    "1000 personalizations": lambda b: b.update(personalizations=b["personalizations"] * 1000),
    "a subject in every personalization instead": lambda b: (
        b.pop("subject"),
        b["personalizations"][0].update(subject="Hi"),
    ),
    "a template instead of subject and content": lambda b: (
        b.pop("subject"),
        b.pop("content"),
        b.update(template_id="d-1234"),
    ),
    "html only": lambda b: b["content"].pop(0),
    "non-reserved custom headers": lambda b: b["headers"].update({"X-Partnerflow": "1", "List-Id": "<p.x>"}),
}


@pytest.mark.parametrize("case", ALLOWED)
def test_fake_accepts_what_sendgrid_allows(sendgrid: FakeSendGrid, case: str) -> None:
    assert post(sendgrid, changed(ALLOWED[case])) == (202, b"")


def test_message_level_custom_args_follow_the_published_schema() -> None:
    """The spec types them as a string (see vendor/sendgrid/README.md); we send per personalization."""
    assert schema_problems(changed(lambda b: b.update(custom_args={"k": "v"}))) == [
        ("custom_args", "{'k': 'v'} is not of type 'string'")
    ]


def test_openapi_nullable_reads_as_or_null() -> None:
    schema = {"type": "object", "properties": {"field": {"type": "string", "nullable": True}}}
    assert openapi_to_json_schema(schema)["properties"]["field"] == {"type": ["string", "null"]}


# -- our backend maps the refusal to a permanent failure -------------------------------------


def email(**overrides: Any) -> OutboundEmail:
    values: dict[str, Any] = {"idempotency_key": "k-1", "to": "ada@partner.example", "to_name": "Ada",
                              "from_email": "partners@partnerflow.example", "from_name": "Partnerflow",
                              "subject": "Hi", "text": "Hi", "html": "<p>Hi</p>"}  # fmt: skip
    return OutboundEmail(**(values | overrides))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"headers": {"Subject": "spoofed"}}, "headers"),
        ({"categories": ["partnerflow", "récapitulatif"]}, "categories.1"),
        ({"metadata": {"note": "x" * 10_000}}, "personalizations.0.custom_args"),
        (
            {"attachments": [EmailAttachment("a.ics", "text/calendar\r\nX-Evil: 1", b"x")]},
            "attachments.0.type",
        ),
    ],
)
def test_backend_maps_the_400_to_a_permanent_failure(
    sendgrid: FakeSendGrid, overrides: dict[str, Any], field: str
) -> None:
    before = len(sendgrid.requests)
    with pytest.raises(PermanentDeliveryError, match="400") as caught:
        SendGridBackend(KEY, host=sendgrid.url).send(email(**overrides))

    assert caught.value.kind == PROVIDER_REJECTED and field in str(caught.value)
    assert [r.status for r in sendgrid.requests[before:]] == [400]


def test_backend_sends_bare_attachment_types_and_at_most_ten_categories(sendgrid: FakeSendGrid) -> None:
    invite = EmailAttachment("invite.ics", "text/calendar; method=REQUEST", b"BEGIN:VCALENDAR")
    categories = ["partnerflow", "partnerflow", *(f"c{i}" for i in range(12))]

    SendGridBackend(KEY, host=sendgrid.url).send(email(attachments=[invite], categories=categories))

    sent = sendgrid.messages[-1].json
    assert sent["attachments"][0]["type"] == "text/calendar"
    assert sent["categories"] == ["partnerflow", *(f"c{i}" for i in range(9))]


def test_activity_records_a_refusal_as_a_non_retryable_failure(
    tmp_path: Path, sendgrid: FakeSendGrid
) -> None:
    settings = make_settings(tmp_path, sendgrid_api_key=SecretStr(KEY), sendgrid_host=sendgrid.url)
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    partner = add_partner(engine)
    messaging = MessagingActivities(settings, engine, email_backend(settings), slack_backend(settings))
    sendgrid.fail_next(400, error="The attachment type cannot contain ';', or CRLF characters.")

    with pytest.raises(ApplicationError) as failure:
        ActivityEnvironment().run(messaging.send_email, EmailRequest("k-refused", partner.id, "welcome"))

    assert failure.value.type == PROVIDER_REJECTED and failure.value.non_retryable
    [record] = messages(engine)
    assert record.status == "failed" and "attachment type" in (record.error or "")
    engine.dispose()
