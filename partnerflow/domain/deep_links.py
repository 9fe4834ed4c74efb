"""Deep links: a partner's tracking link that lands on any page of the program's landing site.

``/r/<code>?to=<path>`` must never become an open redirect, so ``to`` is read as a place on the
landing site's own host: a path (``/pricing?plan=pro``), or a full URL whose scheme is http(s)
and whose host and port are the landing URL's. Anything else is refused with the reason.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

MAX_TARGET = 1000
_NEVER = frozenset('<>"`\\')


class DeepLinkError(ValueError):
    """``to`` does not name a page on the landing site; ``kind``: ``empty``, ``off_site`` or ``invalid``."""

    def __init__(self, message: str, kind: str = "invalid") -> None:
        super().__init__(message)
        self.kind = kind


def landing_path(landing_url: str, target: str) -> str:
    """The path on the landing site (with its query and fragment) that ``target`` names."""
    landing = urlsplit(landing_url)
    host = landing.hostname or ""
    text = target.strip()
    if not text:
        raise DeepLinkError("give a path on the landing site, e.g. /pricing", "empty")
    if len(text) > MAX_TARGET:
        raise DeepLinkError(f"must be at most {MAX_TARGET} characters long")
    if any(char in _NEVER or char.isspace() or not char.isprintable() for char in text):
        raise DeepLinkError('must not contain spaces, control characters or any of < > " ` \\')
    if text.startswith("//"):
        raise DeepLinkError(f"must be a path on {host} (it starts with //, another site)", "off_site")
    if "://" not in text and text.split("/", 1)[0].lower() == host:
        text = f"{landing.scheme}://{text}"  # "shop.example/pricing": the host without its scheme
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise DeepLinkError(f"is not a valid path or URL ({exc})") from None
    if parts.scheme or parts.netloc:
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            raise DeepLinkError(f"must be a path on {host} or an http(s) URL on it", "off_site")
        if "@" in parts.netloc or (parts.hostname or "") != host or port != landing.port:
            raise DeepLinkError(f"must stay on the landing site {host}, not {parts.netloc}", "off_site")
    path = parts.path if parts.path.startswith("/") else f"/{parts.path}"
    return urlunsplit(("", "", path, parts.query, parts.fragment))


def landing_link(landing_url: str, path: str, code: str) -> str:
    """The landing site's page at ``path`` (from ``landing_path``) with ``ref=<code>`` in its query."""
    landing, parts = urlsplit(landing_url), urlsplit(path)
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key != "ref"]
    return urlunsplit(
        (landing.scheme, landing.netloc, parts.path, urlencode([*query, ("ref", code)]), parts.fragment)
    )


def tracking_link(tracking_url: str, path: str) -> str:
    """``<public url>/r/<code>?to=<path>``: counts the click here, then lands on ``path``."""
    return f"{tracking_url}?to={quote(path, safe='/')}"
