"""Sign-in, sign-out and the stylesheet: the only dashboard routes open without a session."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse, Response

from partnerflow.api.dashboard import auth
from partnerflow.api.dashboard.views import render
from partnerflow.api.deps import SettingsDep
from partnerflow.api.rate_limits import client_ip, limits_for
from partnerflow.config import Settings

router = APIRouter()

_TOO_MANY = "Too many sign-in attempts. Wait a few minutes, then try again."
STYLESHEET = Path(__file__).resolve().parents[2] / "static" / "dashboard.css"


@router.get("/login")
def login_page(request: Request, settings: SettingsDep, next: str | None = None) -> Response:
    """The sign-in form (straight to the dashboard when already signed in)."""
    if auth.read_session(request, settings):
        return RedirectResponse(auth.safe_next(next), status.HTTP_303_SEE_OTHER)
    return _form(request, settings, auth.safe_next(next))


@router.post("/login")
async def login(
    request: Request,
    settings: SettingsDep,
    token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Check the manager token; on success start the 12-hour session and go on (PRG).

    Attempts are limited per IP (PARTNERFLOW_RATE_LIMIT_LOGIN_IP, every attempt) and per manager
    account (PARTNERFLOW_RATE_LIMIT_LOGIN_ACCOUNT, sign-ins with that manager's token): 429 over either.
    """
    await auth.check_login_csrf(request, settings)
    limiter = limits_for(request)
    over = await run_in_threadpool(limiter.hit, "login_ip", client_ip(request))
    manager = auth.manager_for_token(settings, token) if token.strip() else None
    if over is None and manager is not None:
        over = await run_in_threadpool(limiter.hit, "login_account", manager)
    if over is not None:
        response = _form(
            request, settings, auth.safe_next(next), _TOO_MANY, status.HTTP_429_TOO_MANY_REQUESTS
        )
        response.headers["Retry-After"] = str(math.ceil(over))
        return response
    if manager is None:
        error = "That manager token is not valid." if token.strip() else "Enter your manager token."
        return _form(request, settings, auth.safe_next(next), error, status.HTTP_401_UNAUTHORIZED)
    response = RedirectResponse(auth.safe_next(next), status.HTTP_303_SEE_OTHER)
    auth.start_session(response, settings, manager)
    return response


@router.post("/logout")
async def logout(session: auth.CsrfSessionDep) -> Response:
    """End the session."""
    response = RedirectResponse(auth.LOGIN_PATH, status.HTTP_303_SEE_OTHER)
    auth.end_session(response)
    return response


@router.get("/static/dashboard.css")
def stylesheet() -> FileResponse:
    return FileResponse(STYLESHEET, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


def _form(
    request: Request, settings: Settings, next: str, error: str | None = None, status_code: int = 200
) -> Response:
    nonce, new = auth.login_nonce(request)
    response = render(
        request,
        "login",
        None,
        status_code=status_code,
        login_csrf=auth.login_csrf(settings, nonce),
        next=next,
        error=error,
    )
    if new:
        auth.remember_login_nonce(response, settings, nonce)
    return response
