"""Signed, expiring partner-portal tokens bound to one partner."""

from __future__ import annotations

from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

PORTAL_SALT = "partnerflow.portal"


class PortalTokenExpired(Exception):
    def __init__(self, partner_id: str) -> None:
        super().__init__("portal link expired")
        self.partner_id = partner_id


class PortalTokenInvalid(Exception):
    pass


def make_portal_token(secret: str, partner_id: str) -> str:
    return URLSafeTimedSerializer(secret, salt=PORTAL_SALT).dumps({"p": partner_id})


def read_portal_token(secret: str, token: str, max_age: timedelta) -> str:
    """The partner id in ``token``; raises PortalTokenExpired or PortalTokenInvalid."""
    serializer = URLSafeTimedSerializer(secret, salt=PORTAL_SALT)
    try:
        data = serializer.loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired as exc:
        payload = serializer.loads_unsafe(token)[1]
        partner_id = payload.get("p") if isinstance(payload, dict) else None
        if not isinstance(partner_id, str):
            raise PortalTokenInvalid("portal link is not valid") from exc
        raise PortalTokenExpired(partner_id) from exc
    except BadSignature as exc:
        raise PortalTokenInvalid("portal link is not valid") from exc
    partner_id = data.get("p") if isinstance(data, dict) else None
    if not isinstance(partner_id, str):
        raise PortalTokenInvalid("portal link is not valid")
    return partner_id


UNSUBSCRIBE_SALT = "partnerflow.unsubscribe"


def make_unsubscribe_token(secret: str, partner_id: str) -> str:
    """A link that never expires: unsubscribing must work from any old email."""
    return URLSafeTimedSerializer(secret, salt=UNSUBSCRIBE_SALT).dumps({"p": partner_id})


def read_unsubscribe_token(secret: str, token: str) -> str:
    try:
        data = URLSafeTimedSerializer(secret, salt=UNSUBSCRIBE_SALT).loads(token)
    except BadSignature as exc:
        raise PortalTokenInvalid("unsubscribe link is not valid") from exc
    partner_id = data.get("p") if isinstance(data, dict) else None
    if not isinstance(partner_id, str):
        raise PortalTokenInvalid("unsubscribe link is not valid")
    return partner_id
