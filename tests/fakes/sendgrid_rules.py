"""What SendGrid's v3 Mail Send refuses: its published request schema plus its documented rules.

``validate(payload)`` returns SendGrid-style errors (empty when SendGrid would accept the body):

1. the documented rules that a schema cannot say, with SendGrid's wording where we know it
   (the attachment-type message is verbatim from a real 400);
2. the request-body schema of SendGrid's official OpenAPI document (``fakes.sendgrid_schema``),
   except where a rule already reported the same field.

Sources for the rules: the spec's own descriptions (reserved headers, 10,000-byte custom args,
255-character categories), SendGrid's "Mail Send errors" page (personalization, from, subject,
content and attachment errors) and "Working with Categories" (at most 10 per message, 7-bit
US-ASCII).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fakes.sendgrid_schema import schema_problems

HELP_URL = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message."

# "You may not override the following headers: ..." (spec, headers description); case-insensitive.
RESERVED_HEADERS = frozenset(
    name.lower()
    for name in [
        "x-sg-id",
        "x-sg-eid",
        "received",
        "dkim-signature",
        "Content-Type",
        "Content-Transfer-Encoding",
        "To",
        "From",
        "Subject",
        "Reply-To",
        "CC",
        "BCC",
    ]
)
MAX_PERSONALIZATIONS = 1000
MAX_CATEGORIES = 10
MAX_CATEGORY_LENGTH = 255
MAX_CUSTOM_ARGS_BYTES = 10_000

_EMAIL_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")

# SendGrid's wording (the "Mail Send errors" page; the attachment-type one from a real 400).
NO_PERSONALIZATION = "You must have at least one personalization."
TOO_MANY_PERSONALIZATIONS = (
    "The personalization block is limited to 1000 personalizations per API request. You have provided "
    "{n} personalizations. Please consider splitting this into multiple requests and resending your request."
)
NO_TO = (
    "The to array is required for all personalization objects, and must have at least one email "
    "object with a valid email address."
)
BAD_ADDRESS = "Does not contain a valid address."
NO_FROM = (
    "The from object must be provided for every email send. It is an object that requires the email "
    "parameter, but may also contain a name parameter."
)
BAD_FROM = "The from email does not contain a valid address."
NO_SUBJECT = (
    "The subject is required. You can get around this requirement if you use a template with a "
    "subject defined or if every personalization has a subject defined."
)
NO_CONTENT = (
    "Unless a valid template_id is provided, the content parameter is required. There must be at "
    "least one defined content block."
)
EMPTY_CONTENT = "The content value must be a string at least one character in length."
CONTENT_ORDER = "If present, text/plain must be first, followed by text/html, followed by any other content."
ATTACHMENT_TYPE = "The attachment type cannot contain ';', or CRLF characters."
RESERVED_HEADER = (
    "You may not override the {name} header: x-sg-id, x-sg-eid, received, dkim-signature, Content-Type, "
    "Content-Transfer-Encoding, To, From, Subject, Reply-To, CC and BCC are reserved."
)


@dataclass(frozen=True)
class MailError:
    """One entry of SendGrid's ``{"errors": [...]}`` body."""

    field: str | None
    message: str

    def as_json(self) -> dict[str, Any]:
        """SendGrid's shape; ``help`` links the errors page anchor, as SendGrid's replies do."""
        anchor = ".".join(part for part in (self.field or "").split(".") if not part.isdigit())
        return {"message": self.message, "field": self.field, "help": HELP_URL + anchor if anchor else None}


def validate(payload: Any) -> list[MailError]:
    """Every reason SendGrid would answer 400 to this body, the documented rules first."""
    if not isinstance(payload, dict):
        return [MailError(None, "Bad Request")]
    errors: list[MailError] = []
    for rule in RULES:
        errors.extend(error for error in rule(payload) if error not in errors)
    flagged = {error.field for error in errors}
    errors.extend(MailError(*problem) for problem in schema_problems(payload) if problem[0] not in flagged)
    return errors


# -- documented rules -----------------------------------------------------------------------


def _personalization_list(payload: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    personalizations = payload.get("personalizations")
    if not isinstance(personalizations, list):
        return []
    return [(i, p) for i, p in enumerate(personalizations) if isinstance(p, dict)]


def _personalizations(payload: dict[str, Any]) -> Iterator[MailError]:
    personalizations = payload.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        yield MailError("personalizations", NO_PERSONALIZATION)
        return
    if len(personalizations) > MAX_PERSONALIZATIONS:
        yield MailError("personalizations", TOO_MANY_PERSONALIZATIONS.format(n=len(personalizations)))
    for index, personalization in enumerate(personalizations):
        to = personalization.get("to") if isinstance(personalization, dict) else None
        if not isinstance(to, list) or not to:
            yield MailError(f"personalizations.{index}.to", NO_TO)
            continue
        for t_index, recipient in enumerate(to):
            address = recipient.get("email") if isinstance(recipient, dict) else None
            if not isinstance(address, str) or not _EMAIL_RE.match(address):
                yield MailError(f"personalizations.{index}.to.{t_index}.email", BAD_ADDRESS)


def _sender(payload: dict[str, Any]) -> Iterator[MailError]:
    sender = payload.get("from")
    address = sender.get("email") if isinstance(sender, dict) else None
    if not address:
        yield MailError("from", NO_FROM)
    elif not isinstance(address, str) or not _EMAIL_RE.match(address):
        yield MailError("from.email", BAD_FROM)


def _subject(payload: dict[str, Any]) -> Iterator[MailError]:
    subject = payload.get("subject")
    personalizations = payload.get("personalizations")
    every_personal = isinstance(personalizations, list) and all(
        isinstance(p, dict) and p.get("subject") for p in personalizations
    )
    # A template brings its own subject.
    if (
        not payload.get("template_id")
        and not (isinstance(subject, str) and subject.strip())
        and not every_personal
    ):
        yield MailError("subject", NO_SUBJECT)


def _content(payload: dict[str, Any]) -> Iterator[MailError]:
    content = payload.get("content")
    if not isinstance(content, list) or not content:
        if not payload.get("template_id"):
            yield MailError("content", NO_CONTENT)
        return
    for index, block in enumerate(content):
        value = block.get("value") if isinstance(block, dict) else None
        if not isinstance(value, str) or not value:
            yield MailError(f"content.{index}.value", EMPTY_CONTENT)
    types = [block.get("type") if isinstance(block, dict) else None for block in content]
    html_at = (1 if "text/plain" in types else 0) if "text/html" in types else None
    if ("text/plain" in types and types.index("text/plain") != 0) or (
        html_at is not None and types.index("text/html") != html_at
    ):
        yield MailError("content", CONTENT_ORDER)


def _attachments(payload: dict[str, Any]) -> Iterator[MailError]:
    attachments = payload.get("attachments")
    for index, attachment in enumerate(attachments if isinstance(attachments, list) else []):
        item = attachment if isinstance(attachment, dict) else {}
        data = item.get("content")
        if not data:
            yield MailError(f"attachments.{index}.content", "The attachment content is required.")
        else:
            try:
                base64.b64decode(str(data), validate=True)
            except (binascii.Error, ValueError):
                yield MailError(
                    f"attachments.{index}.content", "The attachment content must be base64 encoded."
                )
        if not item.get("filename"):
            yield MailError(f"attachments.{index}.filename", "The attachment filename parameter is required.")
        kind = item.get("type")
        if isinstance(kind, str) and any(char in kind for char in ";\r\n"):
            yield MailError(f"attachments.{index}.type", ATTACHMENT_TYPE)


def _headers(payload: dict[str, Any]) -> Iterator[MailError]:
    places = [("headers", payload.get("headers"))]
    places += [(f"personalizations.{i}.headers", p.get("headers")) for i, p in _personalization_list(payload)]
    for field, headers in places:
        for name in headers if isinstance(headers, dict) else {}:
            if name.strip().lower() in RESERVED_HEADERS:
                yield MailError(field, RESERVED_HEADER.format(name=name))


def _custom_args(payload: dict[str, Any]) -> Iterator[MailError]:
    message_level = payload.get("custom_args")
    shared = message_level if isinstance(message_level, dict) else {}
    places = [("custom_args", shared)]
    places += [
        (f"personalizations.{i}.custom_args", shared | p["custom_args"])
        for i, p in _personalization_list(payload)
        if isinstance(p.get("custom_args"), dict)
    ]
    for field, args in places:
        for key, value in args.items():
            if not isinstance(value, str):
                yield MailError(f"{field}.{key}", "Custom argument values must be strings.")
        # Measured as the compact JSON of the args that reach one message, in UTF-8.
        size = len(json.dumps(args, ensure_ascii=False, separators=(",", ":")).encode())
        if size > MAX_CUSTOM_ARGS_BYTES:
            yield MailError(
                field, f"Total custom_args size may not exceed 10,000 bytes; these are {size:,} bytes."
            )


def _categories(payload: dict[str, Any]) -> Iterator[MailError]:
    categories = payload.get("categories")
    if not isinstance(categories, list):
        return
    if len(categories) > MAX_CATEGORIES:
        yield MailError("categories", "You may not have more than 10 categories per request.")
    for index, category in enumerate(categories):
        if not isinstance(category, str):
            yield MailError(f"categories.{index}", "A category must be a string.")
        elif len(category) > MAX_CATEGORY_LENGTH:
            yield MailError(f"categories.{index}", "A category cannot exceed 255 characters.")
        elif not category.isascii():
            yield MailError(f"categories.{index}", "Categories must be 7-bit US-ASCII.")


RULES: tuple[Callable[[dict[str, Any]], Iterator[MailError]], ...] = (
    _personalizations,
    _sender,
    _subject,
    _content,
    _attachments,
    _headers,
    _custom_args,
    _categories,
)
