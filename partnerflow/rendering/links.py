"""The one way a stored URL becomes a link: the ``safe_url`` Jinja filter of every environment.

Autoescaping stops markup, not URL schemes: ``href="{{ url }}"`` with ``javascript:...`` is a live
script. So every ``href`` and ``src`` built from a value goes through ``safe_url``, which keeps
absolute http(s) URLs (the rule the edge applies, ``domain.urls``) and paths on this site, and
turns anything else into ``""`` (templates then show the text without a link).
"""

from __future__ import annotations

from urllib.parse import quote

from jinja2 import Environment

from partnerflow.domain.urls import is_http_url

_BLANK = ""


def safe_url(value: object) -> str:
    """``value`` if it is an absolute http(s) URL or a path on this site (``/...``); ``""`` otherwise."""
    if not isinstance(value, str):
        return _BLANK
    url = value.strip()
    if is_http_url(url) or _site_path(url):
        return str(url)  # a plain str: autoescaping still applies, even to a Markup value
    return _BLANK


def mailto(address: object) -> str:
    """A ``mailto:`` link for one plain address (``""`` for anything else: no ``?cc=`` tricks)."""
    if not isinstance(address, str) or address.count("@") != 1 or not address.isprintable():
        return _BLANK
    if any(char in address for char in ' ?&#:/\\<>"'):
        return _BLANK
    return "mailto:" + quote(address, safe="@.+-_")


def install(env: Environment) -> Environment:
    """Add the link filters to a Jinja environment."""
    env.filters.update(safe_url=safe_url, mailto=mailto)
    return env


def _site_path(url: str) -> bool:
    # "//host" and "/\host" are other sites to browsers; controls and spaces are never needed.
    return (
        url.startswith("/")
        and not url.startswith(("//", "/\\"))
        and url.isprintable()
        and not any(char.isspace() for char in url)
        and not any(char in url for char in '<>"`\\')
    )
