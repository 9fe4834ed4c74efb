"""Anti-spam for the hosted application form: a signed, expiring form token bound to a browser
cookie (so a form posted from another site fails), and a honeypot field.

Each render signs ``{program, browser nonce}`` with a timestamp. A post must carry a token that
is unaltered, younger than ``FORM_TTL``, for this program, and whose nonce matches the
``pf_apply`` cookie (``SameSite=Lax``: browsers do not send it with another site's posts).
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from enum import StrEnum

from fastapi import Request, Response
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from partnerflow.config import Settings

FORM_TTL = timedelta(hours=2)
COOKIE = "pf_apply"
TOKEN_FIELD = "form_token"
HONEYPOT_FIELD = "fax"  # no human sees it (off-screen, hidden from assistive technology)
PATH = "/apply"


class TokenProblem(StrEnum):
    EXPIRED = "expired"
    INVALID = "invalid"


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.portal_signing_key, salt="partnerflow.apply.form")


def browser_nonce(request: Request) -> tuple[str, bool]:
    """The browser's nonce from its cookie, and whether it is new (and must be set)."""
    nonce = request.cookies.get(COOKIE, "")
    if 16 <= len(nonce) <= 64 and nonce.replace("-", "").replace("_", "").isalnum():
        return nonce, False
    return secrets.token_urlsafe(24), True


def form_token(settings: Settings, program: str, nonce: str) -> str:
    """A fresh token for one render of the program's form."""
    return _serializer(settings).dumps({"p": program, "n": nonce, "r": secrets.token_urlsafe(8)})


def remember_nonce(response: Response, settings: Settings, nonce: str) -> None:
    response.set_cookie(
        COOKIE,
        nonce,
        max_age=int(FORM_TTL.total_seconds()) * 12,
        path=PATH,
        httponly=True,
        samesite="lax",
        secure=settings.public_url.lower().startswith("https://"),
    )


def check_token(settings: Settings, program: str, token: str, request: Request) -> TokenProblem | None:
    """None when the posted token is good; otherwise what is wrong with it."""
    try:
        data = _serializer(settings).loads(token, max_age=int(FORM_TTL.total_seconds()))
    except SignatureExpired:
        return TokenProblem.EXPIRED
    except BadSignature:
        return TokenProblem.INVALID
    cookie = request.cookies.get(COOKIE, "")
    if not isinstance(data, dict) or data.get("p") != program or not isinstance(data.get("n"), str):
        return TokenProblem.INVALID
    if not cookie or not hmac.compare_digest(str(data["n"]).encode(), cookie.encode()):
        return TokenProblem.INVALID
    return None
