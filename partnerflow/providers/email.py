"""Email delivery: SendGrid through its official client, or a local outbox folder."""

from __future__ import annotations

import base64
import logging
import re
import time
import urllib.error
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import encoders
from email.charset import QP, Charset
from email.header import Header as MailHeader
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, make_msgid
from pathlib import Path
from typing import Protocol

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import (
    Attachment,
    Category,
    CustomArg,
    Disposition,
    Email,
    FileContent,
    FileName,
    FileType,
    Header,
    Mail,
    To,
)

from partnerflow.domain.delivery import (
    PROVIDER_REJECTED,
    PermanentDeliveryError,
    TransientDeliveryError,
    is_transient_status,
    retry_after_seconds,
)

log = logging.getLogger(__name__)


@dataclass
class EmailAttachment:
    filename: str
    content_type: str
    content: bytes


@dataclass
class OutboundEmail:
    idempotency_key: str
    to: str
    to_name: str
    from_email: str
    from_name: str
    subject: str
    text: str
    html: str
    attachments: list[EmailAttachment] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # e.g. List-Unsubscribe
    # Provider-side reporting: SendGrid categories (broad groups, e.g. the template) and custom args
    # (per-message ids, e.g. the partner) that come back with the provider's delivery events.
    categories: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)


def message_tags(template: str) -> list[str]:
    """Categories for one template's emails: the product, then the template."""
    return ["partnerflow", template]


def unsubscribe_headers(url: str) -> dict[str, str]:
    """RFC 2369 + RFC 8058 one-click unsubscribe (mailbox providers show an Unsubscribe button)."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


class EmailBackend(Protocol):
    name: str

    def send(self, email: OutboundEmail) -> str | None:
        """Deliver ``email``; return the provider's message id."""
        ...


MAX_CATEGORIES = 10  # SendGrid refuses more per message


def bare_media_type(content_type: str) -> str:
    """``text/calendar; method=REQUEST`` → ``text/calendar``.

    SendGrid's attachment ``type`` must not contain ';' or CR/LF (400 otherwise); parameters such
    as an invitation's method live in the attachment itself (METHOD:REQUEST in the .ics).
    """
    return content_type.split(";", 1)[0].strip()


class SendGridBackend:
    """Sends through ``sendgrid.SendGridAPIClient`` (v3 mail/send)."""

    name = "sendgrid"

    def __init__(self, api_key: str, host: str = "https://api.sendgrid.com") -> None:
        self.client = SendGridAPIClient(api_key=api_key, host=host)
        self.client.client.timeout = 15  # python_http_client waits forever by default

    def send(self, email: OutboundEmail) -> str | None:
        mail = Mail(
            from_email=Email(email.from_email, email.from_name),
            to_emails=To(email.to, email.to_name),
            subject=email.subject,
            plain_text_content=email.text,
            html_content=email.html,
        )
        # Custom args go on the personalization: the published Mail Send schema types only those
        # as an object (the message-level ones as a string), so every reading of it accepts them.
        for key, value in {"idempotency_key": email.idempotency_key, **email.metadata}.items():
            mail.add_custom_arg(CustomArg(key, value, p=0))
        for category in reversed(list(dict.fromkeys(email.categories))[:MAX_CATEGORIES]):
            mail.add_category(Category(category))  # add_category prepends
        for name, value in email.headers.items():
            mail.add_header(Header(name, value))
        for item in reversed(email.attachments):  # add_attachment prepends
            mail.add_attachment(
                Attachment(
                    FileContent(base64.b64encode(item.content).decode()),
                    FileName(item.filename),
                    FileType(bare_media_type(item.content_type)),
                    Disposition("attachment"),
                )
            )
        try:
            response = self.client.send(mail)
        except HTTPError as exc:
            detail = f"SendGrid answered {exc.status_code}: {_body_text(exc.body)}"
            if is_transient_status(exc.status_code):
                # 429s carry X-RateLimit-Reset (Unix time the limit resets): wait at least that.
                headers = dict(exc.headers.items()) if exc.headers else None
                wait = retry_after_seconds(headers, time.time(), reset_header="X-RateLimit-Reset")
                raise TransientDeliveryError(detail, retry_after=wait) from exc
            raise PermanentDeliveryError(PROVIDER_REJECTED, detail) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise TransientDeliveryError(f"SendGrid unreachable: {exc}") from exc
        headers = response.headers
        return headers.get("X-Message-Id") if headers else None


class LocalOutboxEmailBackend:
    """Writes each email as a readable ``.eml`` file under ``<data dir>/outbox/email``."""

    name = "local"

    def __init__(self, directory: Path) -> None:
        self.directory = directory / "email"

    def send(self, email: OutboundEmail) -> str | None:
        self.directory.mkdir(parents=True, exist_ok=True)
        # Built with email.mime (the compat32 policy): the same parseable, readable message as an
        # EmailMessage, for a sixth of the CPU (its header registry re-parses every header).
        parts = [_text(email.text, "plain"), _text(email.html, "html")]
        body = MIMEMultipart("alternative", boundary=_boundary(), _subparts=parts)
        message: Message = body
        if email.attachments:
            message = MIMEMultipart("mixed", boundary=_boundary(), _subparts=[body])
            for item in email.attachments:
                maintype, _, subtype = bare_media_type(item.content_type).partition("/")
                part = MIMEBase(maintype, subtype)
                part.set_payload(item.content)
                encoders.encode_base64(part)
                part.add_header("Content-Disposition", "attachment", filename=item.filename)
                message.attach(part)
        message["From"] = formataddr((email.from_name, email.from_email), charset="utf-8")
        message["To"] = formataddr((email.to_name, email.to), charset="utf-8")
        message["Subject"] = email.subject if email.subject.isascii() else MailHeader(email.subject, "utf-8")  # type: ignore[assignment]
        message_id = make_msgid(domain="partnerflow.local")
        message["Message-ID"] = message_id
        message["X-Idempotency-Key"] = email.idempotency_key
        for name, value in email.headers.items():
            message[name] = value
        path = (
            self.directory / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{safe_filename(email.idempotency_key)}.eml"
        )
        path.write_bytes(message.as_bytes())
        log.info("email %s written to %s", email.idempotency_key, path)
        return message_id


def _boundary() -> str:
    """A random boundary: left to the generator, each message compiles a regex of its own to check
    its random boundary against the body (a 122-bit random one cannot be in it)."""
    return f"=={uuid.uuid4().hex}=="


def _text(content: str, subtype: str) -> MIMEText:
    """ASCII as it is, other text as 8-bit UTF-8 (readable in an editor, like EmailMessage's), and
    quoted-printable when a line is too long for SMTP (998 octets)."""
    if content.isascii() and not _long_lines(content):
        return MIMEText(content, subtype, "us-ascii")
    charset = Charset("utf-8")
    charset.body_encoding = QP if _long_lines(content) else None  # type: ignore[assignment]
    return MIMEText(content, subtype, charset)  # type: ignore[arg-type]


def _long_lines(content: str) -> bool:
    return any(len(line.encode()) > 998 for line in content.splitlines())


def safe_filename(key: str) -> str:
    """An idempotency key turned into a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", key)[:150]


def _body_text(body: object) -> str:
    text = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
    return text[:500]
