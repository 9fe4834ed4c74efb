"""Keeps secrets, tokens and signatures out of log lines, whoever logs them.

Two nets: the exact values of every configured secret, and the shapes credentials take in
messages we and our libraries log (a bearer token, a signature header, a signed link in an
access-log path, a Slack or SendGrid key, a password in a database URL).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

MASK = "[REDACTED]"

# (pattern, replacement): each keeps what says what was removed, so a line stays readable.
PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Authorization: Bearer <token> (manager API, Slack Web API, Temporal Cloud API key)
    (re.compile(r"(?i)\b(bearer\s+)[^\s\"',;<>]+"), rf"\1{MASK}"),
    # Partnerflow-Signature "t=<ts>,v1=<hex>" and Slack's "v0=<hex>"
    (re.compile(r"\b(v[01]=)[0-9a-fA-F]{16,}"), rf"\1{MASK}"),
    # Signed links: /portal/<token>, /unsubscribe/<token>, /outreach/unsubscribe/<token>, /apply/...
    (re.compile(r"(/(?:portal|unsubscribe)/)[^/\s?#\"'<>]+"), rf"\1{MASK}"),
    # key=value and "key": "value" pairs naming a credential
    (
        re.compile(
            r"(?i)\b((?:authorization|api[_-]?key|x-api-key|access[_-]?token|token|secret|signature"
            r"|password|passwd|csrf[_-]?token|session)[\"']?\s*[:=]\s*[\"']?)(?!\[REDACTED\]|bearer\s|basic\s)"
            r"[^\s\"',;&<>]+"
        ),
        rf"\1{MASK}",
    ),
    # Slack tokens, SendGrid keys, webhook subscription secrets
    (re.compile(r"\bxox[a-z]-[A-Za-z0-9-]+"), MASK),
    (re.compile(r"\bSG\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), MASK),
    (re.compile(r"\bwhsec_[A-Za-z0-9_-]+"), MASK),
    # user:password@ in URLs (database, proxies)
    (re.compile(r"(://[^:/@\s]+:)[^@\s/]+@"), rf"\1{MASK}@"),
]

# Attributes every LogRecord has; anything else was passed as ``extra`` and is redacted too.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
_SHORTEST_SECRET = 6  # shorter values would mask ordinary words


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret value and credential-shaped substring masked."""
    for secret in secrets:
        if len(secret) >= _SHORTEST_SECRET and secret in text:
            text = text.replace(secret, MASK)
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactionFilter(logging.Filter):
    """A handler filter: rewrites the message, its arguments, extras and traceback, masked."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so a secret containing another is masked whole.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = redact(message, self.secrets), None
        if record.exc_info:
            text = record.exc_text or logging.Formatter().formatException(record.exc_info)
            record.exc_text, record.exc_info = redact(text, self.secrets), None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, redact(value, self.secrets))
        return True
