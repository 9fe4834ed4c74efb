"""Security headers on every response, from one ASGI middleware.

HTML gets a strict Content-Security-Policy: scripts, styles and everything else only from this
origin (no inline script or style: pages link /static files), no plugins, no <base>, forms post
only here, and no framing. The OpenAPI pages (/docs, /redoc) load Swagger UI / ReDoc from their
CDN, so they get a policy of their own; they show no partner data.

Every response gets ``X-Content-Type-Options: nosniff`` and a ``Referrer-Policy`` (unless the
route chose a stricter one): ``strict-origin-when-cross-origin`` (other sites see our origin,
never a path), and ``no-referrer`` where the path carries a signed token (portal and
unsubscribe links), so the token never travels in a Referer header, not even to our own assets.
Over https (the request's scheme, or ``X-Forwarded-Proto`` when
``PARTNERFLOW_TRUST_FORWARDED_PROTO`` says a proxy sets it) responses carry HSTS.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from partnerflow.config import Settings

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_CDN = "https://cdn.jsdelivr.net"
DOCS_POLICY = (
    f"default-src 'self'; script-src 'self' {_CDN}; "
    # Swagger UI and ReDoc set inline styles; ReDoc renders in a blob: worker and uses Google Fonts.
    f"style-src 'self' 'unsafe-inline' {_CDN} https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
TOKEN_PATHS = ("/portal/", "/unsubscribe/", "/outreach/unsubscribe/")


class SecurityHeaders:
    """Pure ASGI middleware (no body buffering): headers are added as the response starts."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.hsts = f"max-age={settings.hsts_max_age}" if settings.hsts_max_age > 0 else ""
        self.trust_forwarded_proto = settings.trust_forwarded_proto

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        https = self._is_https(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                if "referrer-policy" not in headers:
                    headers["Referrer-Policy"] = referrer_policy(path)
                if headers.get("content-type", "").startswith("text/html"):
                    headers["Content-Security-Policy"] = content_policy(path)
                    headers.setdefault("X-Frame-Options", "DENY")
                if https and self.hsts:
                    headers["Strict-Transport-Security"] = self.hsts
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _is_https(self, scope: Scope) -> bool:
        if scope.get("scheme") == "https":
            return True
        if not self.trust_forwarded_proto:
            return False
        forwarded = Headers(scope=scope).get("x-forwarded-proto", "")
        return forwarded.split(",")[0].strip().lower() == "https"


def content_policy(path: str) -> str:
    return DOCS_POLICY if path in DOCS_PATHS else PAGE_POLICY


def referrer_policy(path: str) -> str:
    return "no-referrer" if path.startswith(TOKEN_PATHS) else "strict-origin-when-cross-origin"
