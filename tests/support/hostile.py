"""Hostile values for every field, and an HTML check that parses pages as a browser would.

``live_markup(html)`` lists what a browser would run or follow: script, iframe, object, embed
and base elements (scripts only from the given ``/static`` files), event-handler attributes,
and any URL attribute whose scheme, once the browser has decoded entities and dropped tabs,
newlines and surrounding controls, is not http(s) (or mailto for a plain address). Pages served
under our CSP may not carry ``style`` attributes either (emails may: they are never served here).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from itertools import cycle
from typing import Any

MARKUP = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</title><script>alert(1)</script>",
    '<a href="javascript:alert(1)">click</a>',
    "<iframe src=javascript:alert(1)></iframe>",
    "{{ 7*7 }}<b>bold</b>",
]
URLS = [
    "javascript:alert(3)",
    "JaVaScRiPt:alert(3)",
    " javascript:alert(3)",
    "java\tscript:alert(3)",
    "java\nscript:alert(3)",
    "\x01javascript:alert(3)",
    "&#106;avascript:alert(3)",
    "&#x6A;avascript&#x3A;alert(3)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    '"><script>alert(1)</script>',
]
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster", "background", "cite", "data"}
FORBIDDEN_ELEMENTS = {"script", "iframe", "object", "embed", "base", "frame", "frameset", "applet"}
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_PLAIN_ADDRESS = re.compile(r"^mailto:[^?&#:/\s]+@[^?&#:/\s]+$")


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)  # attribute values decoded, as a browser does
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser


def text_of(html: str) -> str:
    return "".join(parse(html).text)


def browser_url(value: str) -> str:
    """What the WHATWG URL parser sees: surrounding C0 controls and spaces trimmed, tabs and newlines gone."""
    return re.sub(
        r"[\t\n\r]",
        "",
        value.strip(
            "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f"
            "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "
        ),
    )


def live_markup(html: str, scripts: tuple[str, ...] = (), styles_allowed: bool = False) -> list[str]:
    """Everything on the page a browser would execute or navigate to outside http(s)."""
    problems = []
    for tag, attrs in parse(html).elements:
        if tag in FORBIDDEN_ELEMENTS and not (tag == "script" and attrs.get("src") in scripts):
            problems.append(f"<{tag} {attrs}>")
        for name, value in attrs.items():
            if name.startswith("on"):
                problems.append(f"<{tag}> has an event handler {name}={value!r}")
            if name == "style" and not styles_allowed:
                problems.append(f"<{tag}> has an inline style (the CSP refuses it): {value!r}")
            if name in URL_ATTRIBUTES and value:
                url = browser_url(value)
                scheme = _SCHEME.match(url)
                if scheme and scheme.group(1).lower() not in ("http", "https", "mailto"):
                    problems.append(f"<{tag} {name}={value!r}>: a {scheme.group(1)}: link")
                if scheme and scheme.group(1).lower() == "mailto" and not _PLAIN_ADDRESS.match(url):
                    problems.append(f"<{tag} {name}={value!r}>: not a plain mailto: link")
            if name == "http-equiv" and (value or "").lower() == "refresh":
                problems.append(f"<{tag}> refreshes to {attrs.get('content')!r}")
    return problems


def hostile(value: Any, markup: cycle[str], urls: cycle[str], keep: frozenset[str], key: str = "") -> Any:
    """``value`` with every string replaced: URLs (keys ending in url, website) by URL payloads,
    the rest by markup; keys in ``keep`` (locales, enum-like keys templates look up) stay."""
    if key in keep:
        return value
    if isinstance(value, dict):
        return {k: hostile(v, markup, urls, keep, k) for k, v in value.items()}
    if isinstance(value, list):
        return [hostile(item, markup, urls, keep, key) for item in value]
    if isinstance(value, str):
        return next(urls) if key.endswith("url") or key == "website" else next(markup)
    return value
