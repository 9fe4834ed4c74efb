"""URLs that partners, prospects and imports give us: absolute http(s) only, checked at the edge.

A URL we store may end up as a link in the dashboard, the portal or an email, so anything but a
plain ``http://`` or ``https://`` address with a host is refused: ``javascript:``, ``data:``,
credentials (``user:pass@``), whitespace and control characters (which browsers strip, turning
``java\\tscript:`` back into ``javascript:``), and the characters that only ever serve to break out
of an attribute. Templates still render stored URLs through ``rendering.links.safe_url``, which
applies the same rule, so a value stored before this check existed is neutralised on output.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic.fields import FieldInfo

from partnerflow.domain.limits import MAX_URL_LENGTH

SCHEMES = ("http", "https")
WEBSITE_LENGTH = 200  # the partners.website column
_NEVER = frozenset('<>"`\\')  # never valid unencoded in a URL (RFC 3986); they only break out of markup
_HOST = re.compile(r"[\w-]+(?:\.[\w-]+)*\.?")  # letters (any script), digits, hyphens, dots


class UnsafeUrl(ValueError):
    """Not an absolute http(s) URL we are willing to store or link to."""


def check_url(value: str, max_length: int = MAX_URL_LENGTH) -> str:
    """The URL trimmed, scheme lower-cased, ``/`` for an empty path; UnsafeUrl says what is wrong."""
    url = value.strip()
    if not url:
        raise UnsafeUrl("must not be empty")
    if len(url) > max_length:
        raise UnsafeUrl(f"must be at most {max_length} characters long, got {len(url)}")
    bad = next((char for char in url if _unsafe_char(char)), None)
    if bad is not None:
        raise UnsafeUrl(f"must not contain {_describe(bad)}; percent-encode it")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # "http://[::1", "http://host:99999"
        raise UnsafeUrl(f"is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        found = f"{parts.scheme}:" if parts.scheme else "no scheme"
        raise UnsafeUrl(f"must start with http:// or https:// (got {found})")
    if not url[len(parts.scheme) + 1 :].startswith("//") or not parts.hostname:
        raise UnsafeUrl("must be an absolute URL with a host, e.g. https://example.com/")
    if "@" in parts.netloc:
        raise UnsafeUrl("must not contain credentials (user:password@)")
    if not _valid_host(parts.hostname, bracketed="[" in parts.netloc):
        raise UnsafeUrl(f"has an invalid host {parts.hostname!r}")
    if port == 0:
        raise UnsafeUrl("has an invalid port 0")
    rest = url[len(parts.scheme) :]
    if not parts.path:  # the canonical form has a path: https://example.com/ (and ...com/?q)
        at = len("://") + len(parts.netloc)
        rest = rest[:at] + "/" + rest[at:]
    if len(scheme + rest) > max_length:
        raise UnsafeUrl(f"must be at most {max_length} characters long, got {len(scheme + rest)}")
    return scheme + rest


def is_http_url(value: object) -> bool:
    """Whether ``value`` is an http(s) URL we would link to (any length)."""
    if not isinstance(value, str):
        return False
    try:
        check_url(value, max_length=len(value) + 1)  # + the "/" an empty path gains
    except UnsafeUrl:
        return False
    return True


def _unsafe_char(char: str) -> bool:
    # Cc: controls (tab, newline, NUL...); Cf: invisible formatting (bidi overrides, zero-width);
    # Z*: every kind of space and line separator.
    category = unicodedata.category(char)
    return char in _NEVER or category[0] == "Z" or category in ("Cc", "Cf")


def _describe(char: str) -> str:
    if char in _NEVER:
        return repr(char)
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}{f' ({name})' if name else ''}"


def url_or_note(field: str, value: str, max_length: int = MAX_URL_LENGTH) -> tuple[str | None, str]:
    """For an imported row: the URL if we may store it, else none and a note saying why it was dropped."""
    if not value.strip():
        return None, ""
    try:
        return check_url(value, max_length), ""
    except UnsafeUrl as exc:
        return None, f"{field} dropped: it {exc}"


def _valid_host(host: str, bracketed: bool) -> bool:
    if bracketed:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    return bool(_HOST.fullmatch(host)) and len(host) <= 253


def _blank_as_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _url_schema(max_length: int) -> FieldInfo:
    description = f"absolute http:// or https:// URL, at most {max_length} characters"
    return Field(json_schema_extra={"format": "uri", "maxLength": max_length}, description=description)


def _website(value: str | None) -> str | None:
    return None if value is None else check_url(value, WEBSITE_LENGTH)


HttpUrlStr = Annotated[str, AfterValidator(check_url), _url_schema(MAX_URL_LENGTH)]
"""An API field holding a URL we may link to (stored trimmed, scheme lower-cased)."""

WebsiteUrl = Annotated[
    str | None, BeforeValidator(_blank_as_none), AfterValidator(_website), _url_schema(WEBSITE_LENGTH)
]
"""A partner's website: optional (blank means none), as long as the column allows."""
