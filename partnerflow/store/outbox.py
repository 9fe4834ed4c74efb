"""The outbox: every message is recorded under its idempotency key before it is sent."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Insert, update
from sqlalchemy.dialects import postgresql, sqlite
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

    The caller sends only when the returned row's status is not ``sent``. A new key (the usual
    case) is one ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` with its first attempt counted:
    no read first, no savepoint (which on SQLite is a commit of its own), no second write.
    """
    message = session.scalars(_insert_new(session, OutboxMessage(**draft.__dict__, backend=backend))).first()
    if message is not None:
        return message
    message = get_by_key(session, draft.idempotency_key)
    if message is None:  # deleted between the two statements: nothing sensible to do but retry
        raise LookupError(f"outbox message {draft.idempotency_key!r} vanished while claimed")
    if message.status != "sent":
        message.attempts += 1
        message.backend = backend
        message.updated_at = utcnow()
        session.add(message)
    return message


def _insert_new(session: Session, message: OutboxMessage) -> Insert:
    values = {
        column.name: getattr(message, column.name)
        for column in OutboxMessage.__table__.columns  # type: ignore[attr-defined]
        if column.name != "id"
    } | {"attempts": 1}
    dialect = session.get_bind().dialect.name
    insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[dialect]
    return (
        insert(OutboxMessage)
        .values(values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(OutboxMessage)
    )


def get_by_key(session: Session, key: str) -> OutboxMessage | None:
    return session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).first()


def mark_sent(session: Session, key: str, provider_message_id: str | None) -> None:
    """One UPDATE by key (no read first)."""
    now = utcnow()
    result = session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.idempotency_key) == key)
        .values(status="sent", provider_message_id=provider_message_id, error=None, sent_at=now, updated_at=now)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise LookupError(f"outbox message {key!r} not found")


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
