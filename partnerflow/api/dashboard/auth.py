"""Dashboard sign-in: a signed session cookie naming the manager, CSRF tokens, flash messages.

The session is stateless: an itsdangerous-signed ``{manager, session id}`` that expires after
12 hours and stops working as soon as the manager's token is removed from the settings. Every
form post carries a CSRF token, an HMAC of the session id (of a pre-session nonce for sign-in).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials
from itsdangerous import BadSignature, URLSafeTimedSerializer

from partnerflow.api.deps import SettingsDep, get_manager
from partnerflow.config import Settings

SESSION_COOKIE = "pf_dashboard"
LOGIN_COOKIE = "pf_dashboard_login"  # a nonce that makes the sign-in form CSRF-protected too
FLASH_COOKIE = "pf_dashboard_flash"
CSRF_FIELD = "csrf_token"
SESSION_TTL = timedelta(hours=12)
FLASH_TTL = timedelta(minutes=5)
PATH = "/dashboard"
LOGIN_PATH = f"{PATH}/login"


@dataclass(frozen=True)
class DashboardSession:
    manager: str
    session_id: str
    csrf_token: str


def manager_for_token(settings: Settings, token: str) -> str | None:
    """The manager's name for a token (the API's constant-time check), None when it is wrong."""
    credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token.strip())
    try:
        return get_manager(settings, credentials)
    except HTTPException:
        return None


def _serializer(settings: Settings, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.portal_signing_key, salt=f"partnerflow.dashboard.{purpose}")


def _hmac(settings: Settings, message: str) -> str:
    key = f"partnerflow.dashboard.csrf:{settings.portal_signing_key}".encode()
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def _cookie_args(settings: Settings, max_age: timedelta) -> dict[str, Any]:
    return {
        "max_age": int(max_age.total_seconds()),
        "path": PATH,
        "httponly": True,
        "samesite": "lax",
        "secure": settings.public_url.lower().startswith("https://"),
    }


# --- session -------------------------------------------------------------------------------------


def start_session(response: Response, settings: Settings, manager: str) -> None:
    value = _serializer(settings, "session").dumps({"m": manager, "s": secrets.token_urlsafe(16)})
    response.set_cookie(SESSION_COOKIE, value, **_cookie_args(settings, SESSION_TTL))
    response.delete_cookie(LOGIN_COOKIE, path=PATH)


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=PATH)


def read_session(request: Request, settings: Settings) -> DashboardSession | None:
    """The signed-in manager, or None (no cookie, bad signature, expired, or token revoked)."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        data = _serializer(settings, "session").loads(raw, max_age=int(SESSION_TTL.total_seconds()))
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    manager, session_id = data.get("m"), data.get("s")
    if not isinstance(manager, str) or not isinstance(session_id, str):
        return None
    if manager not in settings.manager_token_map.values():
        return None
    return DashboardSession(manager, session_id, _hmac(settings, f"session:{session_id}"))


def safe_next(target: str | None) -> str:
    """Only dashboard paths: a ``next`` parameter must never send anyone to another site."""
    if not target or "\\" in target or "//" in target:
        return PATH
    return target if target == PATH or target.startswith((PATH + "/", PATH + "?")) else PATH


def require_session(request: Request, settings: SettingsDep) -> DashboardSession:
    """The dashboard session; otherwise 303 to the sign-in page (coming back here afterwards)."""
    session = read_session(request, settings)
    if session is None:
        here = safe_next(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        target = f"{LOGIN_PATH}?next={quote(here, safe='')}" if request.method == "GET" else LOGIN_PATH
        raise HTTPException(status.HTTP_303_SEE_OTHER, "sign in first", headers={"Location": target})
    return session


SessionDep = Annotated[DashboardSession, Depends(require_session)]


# --- CSRF ----------------------------------------------------------------------------------------


async def _posted_token(request: Request) -> str:
    form = await request.form()
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else ""


def _refuse() -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, "missing or invalid CSRF token; reload the page")


async def require_csrf(request: Request, session: SessionDep) -> DashboardSession:
    """The session, once the posted form proved it came from a dashboard page."""
    if not hmac.compare_digest((await _posted_token(request)).encode(), session.csrf_token.encode()):
        raise _refuse()
    return session


CsrfSessionDep = Annotated[DashboardSession, Depends(require_csrf)]


def login_nonce(request: Request) -> tuple[str, bool]:
    """The browser's sign-in nonce, and whether it is new (and must be set as a cookie)."""
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if 16 <= len(nonce) <= 64 and nonce.replace("-", "").replace("_", "").isalnum():
        return nonce, False
    return secrets.token_urlsafe(24), True


def login_csrf(settings: Settings, nonce: str) -> str:
    return _hmac(settings, f"login:{nonce}")


def remember_login_nonce(response: Response, settings: Settings, nonce: str) -> None:
    response.set_cookie(LOGIN_COOKIE, nonce, **_cookie_args(settings, SESSION_TTL))


async def check_login_csrf(request: Request, settings: Settings) -> None:
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    expected = login_csrf(settings, nonce) if nonce else ""
    given = await _posted_token(request)
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise _refuse()


# --- flash messages (post/redirect/get) ----------------------------------------------------------


def flash(response: Response, settings: Settings, kind: str, message: str) -> None:
    """Show ``message`` (kind ``success`` or ``error``) on the next page the browser loads."""
    value = _serializer(settings, "flash").dumps({"k": kind, "m": message[:500]})
    response.set_cookie(FLASH_COOKIE, value, **_cookie_args(settings, FLASH_TTL))


def read_flash(request: Request, settings: Settings) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        data = _serializer(settings, "flash").loads(raw, max_age=int(FLASH_TTL.total_seconds()))
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("k") not in ("success", "error"):
        return None
    return {"kind": str(data["k"]), "message": str(data.get("m", ""))}
