"""The outbox: every message is recorded under its idempotency key before it is sent."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from partnerflow.store.models import OutboxMessage, utcnow


@dataclass
class Draft:
    """A rendered message, ready to be recorded and sent."""

    idempotency_key: str
    channel: str
    recipient: str
    template: str
    subject: str
    body_text: str
    body_html: str | None = None
    partner_id: str | None = None


def claim(session: Session, draft: Draft, backend: str) -> OutboxMessage:
    """Record ``draft`` (or find its earlier record) and count one delivery attempt.

    The caller sends only when the returned row's status is not ``sent``.
    """
    message = get_by_key(session, draft.idempotency_key)
    if message is None:
        message = OutboxMessage(**draft.__dict__, backend=backend)
        try:
            with session.begin_nested():
                session.add(message)
                session.flush()
        except IntegrityError:
            message = get_by_key(session, draft.idempotency_key)
            if message is None:
                raise
    if message.status != "sent":
        message.attempts += 1
        message.backend = backend
        message.updated_at = utcnow()
        session.add(message)
    return message


def get_by_key(session: Session, key: str) -> OutboxMessage | None:
    return session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).first()


def mark_sent(session: Session, key: str, provider_message_id: str | None) -> None:
    message = _require(session, key)
    message.status = "sent"
    message.provider_message_id = provider_message_id
    message.error = None
    message.sent_at = message.updated_at = utcnow()
    session.add(message)


def mark_failed(session: Session, key: str, error: str, permanent: bool) -> None:
    """Note a failed attempt; only a permanent failure changes the status to ``failed``."""
    message = _require(session, key)
    message.error = error[:2000]
    if permanent:
        message.status = "failed"
    message.updated_at = utcnow()
    session.add(message)


def list_messages(
    session: Session,
    to: str | None = None,
    status: str | None = None,
    channel: str | None = None,
    partner_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[OutboxMessage]:
    statement = select(OutboxMessage).order_by(col(OutboxMessage.id).desc())
    if to:
        statement = statement.where(func.lower(OutboxMessage.recipient) == to.strip().lower())
    if status:
        statement = statement.where(OutboxMessage.status == status)
    if channel:
        statement = statement.where(OutboxMessage.channel == channel)
    if partner_id:
        statement = statement.where(OutboxMessage.partner_id == partner_id)
    return list(session.exec(statement.offset(offset).limit(limit)))


def _require(session: Session, key: str) -> OutboxMessage:
    message = get_by_key(session, key)
    if message is None:
        raise LookupError(f"outbox message {key!r} not found")
    return message
